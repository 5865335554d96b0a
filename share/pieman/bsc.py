#!/usr/bin/python3
"""Pieman's bsc.py served by bsc: Pieman's arguments and defaults.

Runs the bsc installed next to this script (symbolic links followed),
which sends the request and, unlike Pieman's, waits for bscd's answer:
after EXIT, bscd has removed its pid file when this returns.

It talks to bscd's socket only: its -H and -P are accepted and unused,
and REDIS_SENTINELS or REDIS_CLUSTER change nothing here (bscd.py hands
them to bscd).
"""

import argparse
import os
import sys

# bscd answers EXIT once it handed Redis the codes it held, which takes up
# to its --shutdown-timeout (5 s by default): wait longer than that.
EXIT_TIMEOUT = '15'


def main():
    parser = argparse.ArgumentParser(description='build status codes client')
    parser.add_argument('-a', '--unix-socket-name',
                        default='/var/run/bscd.sock')
    parser.add_argument('-H', '--redis-host', default='127.0.0.1')
    parser.add_argument('-P', '--redis-port', type=int, default=6379)
    parser.add_argument('request')
    args = parser.parse_args()

    program = os.path.join(os.path.dirname(os.path.realpath(__file__)), 'bsc')
    argv = [program, '--unix-socket-name', args.unix_socket_name]
    if args.request == 'EXIT':
        argv += ['--timeout', EXIT_TIMEOUT]
    argv += ['--', args.request]
    os.environ.pop('PROJECT_NAME', None)  # as bscd.py: no defaults from it
    try:
        os.execv(program, argv)
    except OSError as e:
        sys.exit('bsc.py: cannot run {}: {}'.format(program, e.strerror))


if __name__ == '__main__':
    main()
