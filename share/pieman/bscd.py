#!/usr/bin/python3
"""Pieman's bscd.py served by bscd: Pieman's arguments and defaults.

Runs the bscd installed next to this script (symbolic links followed).
Like Pieman's, it ignores PROJECT_NAME, REDIS_HOST and REDIS_PORT: every
setting is passed to bscd explicitly. REDIS_PASSWORD, which Pieman does
not know, still reaches bscd: a way to a Redis that requires one.

A Sentinel group or a Cluster comes the same way: when REDIS_SENTINELS or
REDIS_CLUSTER is set (not empty), the -H and -P that Pieman always passes
are dropped, and bscd takes the topology from the environment, with
REDIS_MASTER_NAME, REDIS_SENTINEL_USER and REDIS_SENTINEL_PASSWORD (see
docs/scaling.md). A Pieman build thus runs on either unchanged. Without
them, bscd gets -H and -P exactly as before.
"""

import argparse
import os
import sys

# bscd reads these itself, and refuses --redis-host/--redis-port beside them.
TOPOLOGY_VARIABLES = ('REDIS_SENTINELS', 'REDIS_CLUSTER')


def redis_topology():
    """True when the environment names a Sentinel group or a Cluster."""
    return any(os.environ.get(name) for name in TOPOLOGY_VARIABLES)


def main():
    parser = argparse.ArgumentParser(description='build status codes server')
    parser.add_argument('-a', '--unix-socket-name',
                        default='/var/run/bscd.sock')
    parser.add_argument('-d', '--daemonize', action='store_true')
    parser.add_argument('-H', '--redis-host', default='127.0.0.1')
    parser.add_argument('-l', '--log-file-prefix')
    parser.add_argument('-n', '--channel-name', default='build_status_codes')
    parser.add_argument('-p', '--pid', default='/var/run/bscd.pid')
    parser.add_argument('-P', '--redis-port', type=int, default=6379)
    parser.add_argument('-v', '--verbose', action='store_true')
    args = parser.parse_args()

    program = os.path.join(os.path.dirname(os.path.realpath(__file__)), 'bscd')
    argv = [program, '--unix-socket-name', args.unix_socket_name]
    if redis_topology():
        # Ignored by bscd then; gone, so that nothing in them can matter.
        os.environ.pop('REDIS_HOST', None)
        os.environ.pop('REDIS_PORT', None)
    else:
        argv += ['--redis-host', args.redis_host,
                 '--redis-port', str(args.redis_port)]
    argv += ['--channel-name', args.channel_name, '--pid', args.pid]
    if args.log_file_prefix:
        argv += ['--log-file-prefix', args.log_file_prefix]
    if args.daemonize:
        argv.append('--daemonize')
    if args.verbose:
        argv.append('--verbose')
    # Ours would take (and check) defaults from it; Pieman's reads no
    # environment, and every other setting is given explicitly.
    os.environ.pop('PROJECT_NAME', None)
    try:
        os.execv(program, argv)
    except OSError as e:
        sys.exit('bscd.py: cannot run {}: {}'.format(program, e.strerror))


if __name__ == '__main__':
    main()
