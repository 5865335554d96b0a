# shellcheck shell=bash
# bsc.sh: the build status codes channel for bash image builders.
#
#   . /usr/share/bscd/bsc.sh
#   check_redis; start_bscd
#   send_request_to_bsc_server PREPARED_CHROOT_ENV_CODE   # or: ... 10
#   ...
#   send_request_to_bsc_server SUCCESSFUL_CODE; stop_bscd
#
# Pieman's four functions, with Pieman's names and meaning. Settings, read
# when a function runs:
#   ENABLE_BSC_CHANNEL  true to report codes (default false: every function
#                       does nothing)
#   REDIS_HOST          Redis for bscd (default 127.0.0.1)
#   REDIS_PORT          (default 6379)
#   PROJECT_NAME        the build: channel bscd-$PROJECT_NAME, socket and pid
#                       file bscd-$PROJECT_NAME.{sock,pid} in BSCD_RUNTIME_DIR
#   REDIS_IS_AVAILABLE  check_redis sets it to false when Redis does not
#                       answer; the other functions then do nothing
# Ours:
#   REDIS_SENTINELS     a Redis Sentinel group instead (HOST:PORT,...), or
#   REDIS_CLUSTER       a Redis Cluster (seed nodes HOST:PORT,...): when one is
#                       set (not empty), REDIS_HOST and REDIS_PORT are not
#                       used, and bscd and bsc take these, REDIS_MASTER_NAME,
#                       REDIS_SENTINEL_USER and REDIS_SENTINEL_PASSWORD from
#                       their environment (exported to them here, also when
#                       only set). See docs/scaling.md.
#   BSCD_RUNTIME_DIR    socket and pid file, read by bscd and bsc too
#                       (/run/bscd for the systemd unit bscd@PROJECT; default
#                       as bscd's: /var/run for root, else $XDG_RUNTIME_DIR,
#                       else /tmp)
#   BSCD_LOG_FILE       bscd's log (default BSCD_RUNTIME_DIR/bscd-$PROJECT_NAME.log)
#   BSCD_PROFILE        the kind of build whose timings compare (e.g.
#                       bookworm-arm64), for bscd --profile (default: bscd's,
#                       $OS.$DEVICE when both are exported, as Pieman's are)
#   BSCD_BIN_DIR        where bscd and bsc are (default: next to this library
#                       when installed, ../../bin, else PATH)
#
# Pieman's rule: trouble with Redis or bscd never fails the build. Every
# function warns on stderr and returns 0, also under `set -euo pipefail` and
# an ERR trap. Nothing here sleeps: bscd --daemonize returns once the daemon
# serves, bsc returns once bscd accepted the request, and bscd answers EXIT
# after it removed its pid file.

_BSC_LIBRARY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

_bsc_say() {
    printf 'bsc.sh: %s\n' "$*" >&2
}

_bsc_program() {  # _bsc_program NAME: the command to run bscd or bsc
    if [[ -n "${BSCD_BIN_DIR:-}" ]]; then
        printf '%s/%s' "${BSCD_BIN_DIR}" "$1"
    elif [[ -x "${_BSC_LIBRARY_DIR}/../../bin/$1" ]]; then
        printf '%s/%s' "${_BSC_LIBRARY_DIR}/../../bin" "$1"
    else
        printf '%s' "$1"
    fi
}

_bsc_runtime_dir() {
    if [[ -n "${BSCD_RUNTIME_DIR:-}" ]]; then
        printf '%s' "${BSCD_RUNTIME_DIR}"
    elif [[ ${EUID} -eq 0 ]]; then
        printf '/var/run'
    else
        printf '%s' "${XDG_RUNTIME_DIR:-/tmp}"
    fi
}

_bsc_socket() { printf '%s/bscd-%s.sock' "$(_bsc_runtime_dir)" "${PROJECT_NAME:-}"; }
_bsc_pid_file() { printf '%s/bscd-%s.pid' "$(_bsc_runtime_dir)" "${PROJECT_NAME:-}"; }

_bsc_enabled() {
    [[ "${ENABLE_BSC_CHANNEL:-false}" == true ]]
}

# The channel is on and Redis answered (or was not checked).
_bsc_active() {
    _bsc_enabled && [[ "${REDIS_IS_AVAILABLE:-true}" == true ]]
}

# A Sentinel group or a Cluster rather than one server.
_bsc_redis_topology() {
    [[ -n "${REDIS_SENTINELS:-}" || -n "${REDIS_CLUSTER:-}" ]]
}

_bsc_redis_name() {  # Redis as messages name it
    if [[ -n "${REDIS_SENTINELS:-}" ]]; then
        printf 'master %s of the sentinels %s' "${REDIS_MASTER_NAME:-mymaster}" "${REDIS_SENTINELS}"
    elif [[ -n "${REDIS_CLUSTER:-}" ]]; then
        printf 'cluster %s' "${REDIS_CLUSTER}"
    else
        printf '%s:%s' "${REDIS_HOST:-127.0.0.1}" "${REDIS_PORT:-6379}"
    fi
}

# _bsc_with_redis COMMAND...: runs COMMAND told where Redis is. One server:
# --redis-host and --redis-port appended. A topology: the program reads it
# from the environment (it would refuse -H/-P beside it), so the variables are
# exported to it, in case the builder only set them.
_bsc_with_redis() {
    if _bsc_redis_topology; then
        REDIS_SENTINELS=${REDIS_SENTINELS:-} REDIS_CLUSTER=${REDIS_CLUSTER:-} \
            REDIS_MASTER_NAME=${REDIS_MASTER_NAME:-} \
            REDIS_SENTINEL_USER=${REDIS_SENTINEL_USER:-} \
            REDIS_SENTINEL_PASSWORD=${REDIS_SENTINEL_PASSWORD:-} "$@"
    else
        "$@" --redis-host "${REDIS_HOST:-127.0.0.1}" --redis-port "${REDIS_PORT:-6379}"
    fi
}

check_redis() {
    _bsc_enabled || return 0
    local out
    if out=$(_bsc_with_redis "$(_bsc_program bsc)" check-redis 2>&1); then
        _bsc_say "Redis $(_bsc_redis_name) is available"
    else
        REDIS_IS_AVAILABLE=false
        _bsc_say "warning: could not connect to Redis $(_bsc_redis_name) (${out#bsc: });" \
                 "the build goes on without the channel"
    fi
    return 0
}

start_bscd() {
    _bsc_active || return 0
    if [[ -z "${PROJECT_NAME:-}" ]]; then
        _bsc_say "warning: PROJECT_NAME is not set; the build goes on without the channel"
        return 0
    fi
    local log=${BSCD_LOG_FILE:-$(_bsc_runtime_dir)/bscd-${PROJECT_NAME}.log} out profile=()
    # As an option: also when only set, not exported.
    if [[ -n "${BSCD_PROFILE:-}" ]]; then
        profile=(--profile "${BSCD_PROFILE}")
    fi
    # ${a[@]+...}: bash before 4.4 calls an empty array unbound under set -u.
    if out=$(_bsc_with_redis "$(_bsc_program bscd)" --daemonize --project "${PROJECT_NAME}" \
                 --unix-socket-name "$(_bsc_socket)" --pid "$(_bsc_pid_file)" \
                 --log-file-prefix "${log}" ${profile[@]+"${profile[@]}"} 2>&1); then
        _bsc_say "bscd serves channel bscd-${PROJECT_NAME} (socket $(_bsc_socket), log ${log})"
    else
        _bsc_say "warning: could not start bscd: ${out:-no reason given};" \
                 "the build goes on without the channel"
    fi
    return 0
}

_bsc_send() {  # _bsc_send REQUEST TIMEOUT: 0 when bscd answered OK
    local out
    if ! out=$("$(_bsc_program bsc)" --unix-socket-name "$(_bsc_socket)" --timeout "$2" \
                   "$1" 2>&1); then
        _bsc_say "warning: bscd did not take ${1:-an empty request} (${out#bsc: });" \
                 "the build goes on"
        return 1
    fi
}

# send_request_to_bsc_server REQUEST: REQUEST is the name of a shell variable
# holding the code (Pieman's way: SYNCED_CODE=82 ...), a code name from the
# catalog (SYNCED_CODE, resolved by bscd), a code value (82), EXIT or
# EXIT_REQUEST.
send_request_to_bsc_server() {
    _bsc_active || return 0
    local request=${1:-}
    if [[ "${request}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ && -n "${!request:-}" ]]; then
        request=${!request}
    fi
    [[ "${request}" == EXIT_REQUEST ]] && request=EXIT
    _bsc_send "${request}" "${BSC_TIMEOUT:-5}" || true
}

_bsc_alive() {  # _bsc_alive PID: running, not a zombie waiting for init to reap it
    local state=""
    if [[ -r "/proc/$1/stat" ]]; then
        read -r _ _ state _ <"/proc/$1/stat" 2>/dev/null || return 1
        [[ "${state}" != Z ]]
    else
        kill -0 "$1" 2>/dev/null
    fi
}

_bsc_wait_gone() {  # _bsc_wait_gone PID HUNDREDTHS: 0 once PID has exited
    # Not our child, so there is no wait(2): look, with a deadline.
    local left=$2
    while _bsc_alive "$1"; do
        ((left-- > 0)) || return 1
        sleep 0.01
    done
}

# Returns when the daemon is gone. bscd removes its pid file, answers EXIT and
# exits; one that does not answer gets SIGTERM; a daemon that died leaves its
# pid file and socket behind, removed here.
stop_bscd() {
    local pid_file pid=""
    pid_file=$(_bsc_pid_file)
    [[ -f "${pid_file}" ]] || return 0
    pid=$(cat "${pid_file}" 2>/dev/null) || true
    [[ "${pid}" =~ ^[0-9]+$ ]] || pid=""
    _bsc_say "stopping bscd for bscd-${PROJECT_NAME:-}"
    # bscd waits up to its --shutdown-timeout (5 s) for Redis to take what it holds.
    if _bsc_send EXIT "${BSC_EXIT_TIMEOUT:-15}" && [[ -n "${pid}" ]]; then
        _bsc_wait_gone "${pid}" 500 && return 0
    fi
    if [[ -n "${pid}" ]] && _bsc_alive "${pid}"; then
        _bsc_say "warning: bscd (pid ${pid}) is still running; sending SIGTERM"
        kill -TERM "${pid}" 2>/dev/null || true
        _bsc_wait_gone "${pid}" 1000 || _bsc_say "warning: bscd (pid ${pid}) did not stop"
        return 0
    fi
    if [[ -f "${pid_file}" ]]; then
        _bsc_say "warning: bscd is not running; removing its pid file and socket"
        rm -f "${pid_file}" "$(_bsc_socket)" 2>/dev/null || true
    fi
    return 0
}
