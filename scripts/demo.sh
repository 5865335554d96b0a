#!/usr/bin/env bash
# The main job: installs what is needed, builds, then runs the channel end to
# end: a private redis-server (unless REDIS_HOST/REDIS_PORT are set), bscd for
# project "demo", a subscriber on bscd-demo, and the codes of a Pieman build
# sent one `bsc` process per code, as Pieman does, with bscd-gateway showing
# the build's page in a browser. Then shuts all down.
#   DEMO_PACE=SECONDS  time between codes (default 0.1; try 1 with the page open)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
echo "== building into build/ (a few minutes the first time)"
scripts/build.sh build >/dev/null
bin=$PWD/build/bin

work=$(mktemp -d /tmp/bscd-demo.XXXXXX)
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh
cleanup() {
  # bscd detached itself: stop it through its pid file if the demo ended early.
  if [[ -f "$work/bscd-demo.pid" ]]; then kill "$(cat "$work/bscd-demo.pid")" 2>/dev/null || true; fi
  stop_services
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_redis
redis_args=(-h "$REDIS_HOST" -p "$REDIS_PORT")

socket=$work/bscd-demo.sock
"$bin/bscd" --project demo --runtime-dir "$work" --daemonize --log-file-prefix "$work/bscd.log"
echo "== bscd serving project demo on $socket (log: $work/bscd.log)"

start_gateway
url=$gateway_url/projects/demo
echo "== bscd-gateway: the build's page is $url"

echo "== subscriber on channel bscd-demo (any Redis client can be one):"
# redis-cli prints each message as three lines: "message", the channel, the payload.
stdbuf -oL redis-cli "${redis_args[@]}" subscribe bscd-demo 2>/dev/null |
  while read -r kind && read -r _channel && read -r payload; do
    if [[ $kind == message ]]; then
      echo "   received $payload"
      echo "$payload" >>"$work/received"
    fi
  done &
service_pids+=($!)
wait_for 5 bash -c "[[ \$(redis-cli ${redis_args[*]} pubsub numsub bscd-demo | tail -1) == 1 ]]"

codes=(10 20 21 30 31 32 33 40 50 60 70 80 81 82 1000)
for code in "${codes[@]}"; do
  echo "   sending  $code    bsc -a $socket $code"
  "$bin/bsc" -a "$socket" "$code"
  sleep "${DEMO_PACE:-0.1}"  # pace the demo so a person can follow it
done
wait_for 10 bash -c "(( \$(wc -l <'$work/received') >= ${#codes[@]} ))"

if [[ -t 0 ]]; then
  read -r -p "== build finished; the page stays at $url until you press Enter " _
fi
"$bin/bsc" -a "$socket" EXIT
wait_for 10 test ! -e "$work/bscd-demo.pid"
echo "== history kept in bscd-demo:events:"
redis-cli "${redis_args[@]}" xrange bscd-demo:events - + | paste - - - - - - - |
  awk '{printf "   %s  %-5s %s\n", $1, $3, $5}'
redis-cli "${redis_args[@]}" del bscd-demo:events >/dev/null
echo "== all ${#codes[@]} codes delivered in order; bscd stopped cleanly"
