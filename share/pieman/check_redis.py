#!/usr/bin/python3
"""Pieman's check_redis.py served by `bsc check-redis`.

Exits 0 when Redis answers PING, non-zero otherwise. Runs the bsc installed
next to this script (symbolic links followed). Like Pieman's, it ignores
REDIS_HOST and REDIS_PORT; REDIS_PASSWORD, which Pieman does not know,
still counts: a way to a Redis that requires one.
"""

import argparse
import os
import sys


def main():
    parser = argparse.ArgumentParser(description='check whether Redis answers')
    parser.add_argument('-H', '--redis-host', default='127.0.0.1')
    parser.add_argument('-P', '--redis-port', type=int, default=6379)
    args = parser.parse_args()

    program = os.path.join(os.path.dirname(os.path.realpath(__file__)), 'bsc')
    argv = [program, 'check-redis',
            '--redis-host', args.redis_host,
            '--redis-port', str(args.redis_port)]
    os.environ.pop('PROJECT_NAME', None)  # as bscd.py: no defaults from it
    try:
        os.execv(program, argv)
    except OSError as e:
        sys.exit('check_redis.py: cannot run {}: {}'.format(
            program, e.strerror))


if __name__ == '__main__':
    main()
