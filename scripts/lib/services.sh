# shellcheck shell=bash disable=SC2154  # work and bin are the caller's
# Services started for one run of scripts/demo.sh or scripts/build-image.sh:
# a private redis-server and bscd-gateway, each bound to loopback on a free
# port, stopped by stop_services. Callers set `work` (a private directory)
# and `bin` (the built programs) first.

service_pids=()

wait_for() {  # wait_for SECONDS COMMAND...: poll until COMMAND succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    if ((SECONDS >= deadline)); then echo "$(basename "$0"): timed out waiting for: $*" >&2; return 1; fi
    sleep 0.05
  done
}

# Uses REDIS_HOST/REDIS_PORT when set, else starts a private redis-server
# on 127.0.0.1 and exports REDIS_HOST/REDIS_PORT for it. `start_redis DIR`:
# the private server keeps its data in DIR (an append-only file) from one
# run to the next; without DIR it keeps nothing.
# shellcheck disable=SC2120  # DIR is optional: demo.sh keeps nothing
start_redis() {
  local data=(--save '' --appendonly no)
  if [[ -n "${1:-}" ]]; then
    mkdir -p "$1"
    data=(--save '' --appendonly yes --dir "$1")
  fi
  if [[ -n "${REDIS_HOST:-}" || -n "${REDIS_PORT:-}" ]]; then
    export REDIS_HOST=${REDIS_HOST:-127.0.0.1} REDIS_PORT=${REDIS_PORT:-6379}
    echo "== using Redis at $REDIS_HOST:$REDIS_PORT"
    return 0
  fi
  local attempt port
  for attempt in 1 2 3 4 5; do  # another process may take the free port first
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$port" "${data[@]}" --logfile "$work/redis.log" &
    service_pids+=($!)
    if wait_for 5 redis-cli -p "$port" ping >/dev/null 2>&1; then
      export REDIS_HOST=127.0.0.1 REDIS_PORT=$port
      echo "== private redis-server on $REDIS_HOST:$REDIS_PORT (attempt $attempt)"
      return 0
    fi
  done
  echo "$(basename "$0"): redis-server did not start; its log: $work/redis.log" >&2
  return 1
}

# Starts bscd-gateway on 127.0.0.1 (a free port) for that Redis; sets gateway_url.
start_gateway() {
  "$bin/bscd-gateway" --listen 127.0.0.1:0 -H "$REDIS_HOST" -P "$REDIS_PORT" \
    >"$work/gateway.log" 2>&1 &
  service_pids+=($!)
  wait_for 5 grep -q "Listening on http" "$work/gateway.log"
  # shellcheck disable=SC2034  # the caller's result
  gateway_url=$(grep -o 'http://[^ ]*' "$work/gateway.log" | head -1)
}

stop_services() {  # in reverse order of start
  local i
  for ((i = ${#service_pids[@]} - 1; i >= 0; i--)); do kill "${service_pids[i]}" 2>/dev/null || true; done
  for ((i = ${#service_pids[@]} - 1; i >= 0; i--)); do wait "${service_pids[i]}" 2>/dev/null || true; done
  service_pids=()
}
