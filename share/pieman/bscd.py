#!/usr/bin/python3
"""Pieman's bscd.py served by bscd: Pieman's arguments and defaults.

Runs the bscd installed next to this script (symbolic links followed).
Like Pieman's, it ignores PROJECT_NAME, REDIS_HOST and REDIS_PORT: every
setting is passed to bscd explicitly. REDIS_PASSWORD, which Pieman does
not know, still reaches bscd: a way to a Redis that requires one.
"""

import argparse
import os
import sys


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
    argv = [program,
            '--unix-socket-name', args.unix_socket_name,
            '--redis-host', args.redis_host,
            '--redis-port', str(args.redis_port),
            '--channel-name', args.channel_name,
            '--pid', args.pid]
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
