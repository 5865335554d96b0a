#!/usr/bin/python3
"""Pieman's check_redis.py served by `bsc check-redis`.

Exits 0 when Redis answers PING, non-zero otherwise. Runs the bsc installed
next to this script (symbolic links followed). Like Pieman's, it ignores
REDIS_HOST and REDIS_PORT; REDIS_PASSWORD, which Pieman does not know,
still counts: a way to a Redis that requires one.

When REDIS_SENTINELS or REDIS_CLUSTER is set (not empty), the -H and -P
that Pieman always passes are dropped, and `bsc check-redis` checks the
Sentinel group's master or the Cluster named in the environment (with
REDIS_MASTER_NAME, REDIS_SENTINEL_USER and REDIS_SENTINEL_PASSWORD; see
docs/scaling.md). Without them, it gets -H and -P exactly as before.
"""

import argparse
import os
import sys

# bsc reads these itself, and refuses --redis-host/--redis-port beside them.
TOPOLOGY_VARIABLES = ('REDIS_SENTINELS', 'REDIS_CLUSTER')


def redis_topology():
    """True when the environment names a Sentinel group or a Cluster."""
    return any(os.environ.get(name) for name in TOPOLOGY_VARIABLES)


def main():
    parser = argparse.ArgumentParser(description='check whether Redis answers')
    parser.add_argument('-H', '--redis-host', default='127.0.0.1')
    parser.add_argument('-P', '--redis-port', type=int, default=6379)
    args = parser.parse_args()

    program = os.path.join(os.path.dirname(os.path.realpath(__file__)), 'bsc')
    argv = [program, 'check-redis']
    if redis_topology():
        # Ignored by bsc then; gone, so that nothing in them can matter.
        os.environ.pop('REDIS_HOST', None)
        os.environ.pop('REDIS_PORT', None)
    else:
        argv += ['--redis-host', args.redis_host,
                 '--redis-port', str(args.redis_port)]
    os.environ.pop('PROJECT_NAME', None)  # as bscd.py: no defaults from it
    try:
        os.execv(program, argv)
    except OSError as e:
        sys.exit('check_redis.py: cannot run {}: {}'.format(
            program, e.strerror))


if __name__ == '__main__':
    main()
