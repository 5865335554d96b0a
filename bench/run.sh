#!/usr/bin/env bash
# bscd's benchmark: every figure of docs/performance.md in one run, so that
# ratios are comparable on a shared, noisy machine.
#
#   bench/run.sh            builds into build/ (BUILD_DIR=dir to change), then
#                           measures and prints the report (stdout; progress
#                           on stderr); about a minute and a half after the build
#   bench/run.sh fanout     the same build and Redis, then only (h): about
#                           3.5 minutes, 1 of them holding 20,000 viewers
#   bench/run.sh spool      the same build and Redis, then only (i)
#   SKIP_BUILD=1 bench/run.sh ...   no build: measures the programs already in
#                           BUILD_DIR (while the tree does not build); the
#                           report says so
#   bench/run.sh topology   the same build, then only (j) and (k): bscd on a
#                           Sentinel group and on a Redis Cluster, and
#                           failovers; a few minutes, so not in the default run
#
# It starts a private redis-server (TCP on 127.0.0.1, a free port, no
# persistence) and bscd (project "bench", socket in a temp dir), plus a bscd
# --no-history ("benchnh", same Redis) for the cost of the history and short-
# lived ones that write the histories a late `bsc watch` replays; drives them
# with build/bin/bscd_load, and removes every process and file it made on
# exit, failure included. It targets nothing but loopback.
#
# (f) runs the latency case and pipelined N=8 against bscd --no-history too;
# (g) times `bsc watch --json` and `bsc history` replaying a finished
# 1,000-event history, next to a 1-event one. (h) starts a bscd and a
# bscd-gateway for each number of SSE viewers and drives them with
# build/bin/gateway_fanout, then measures the one-thread floor for the same
# number of loopback sockets (gateway_fanout --mode floor), then a fresh
# gateway for each number of projects with 2 viewers each, codes written to
# Redis with bscd's history script (--mode projects); the largest viewer
# count is held FANOUT_HOLD_S seconds (default 60) after its events; the
# viewer counts are cut to what the hard RLIMIT_NOFILE allows. (i) runs the same cases against two bscds on the
# same Redis, one without and one with --spool (in the temp dir), taking turns,
# and times a raw fdatasync there with dd. (j) and (k) are build/bin/topology_bench,
# which starts its own Redis nodes (the test fixtures' Sentinel group and
# cluster), bscds and bscd_load, and removes them on exit, failure included.
#
# Exits 0 when it could measure, whatever the figures; targets are reported
# as met / not met.
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir=${BUILD_DIR:-build}
only=${1:-all}
if [[ "$only" != all && "$only" != fanout && "$only" != spool && "$only" != topology ]] || (($# > 1)); then
  printf 'usage: bench/run.sh [fanout|spool|topology]\n' >&2
  printf '  no argument: every section but topology; topology: (j) and (k) alone (a few minutes,\n' >&2
  printf '  real Sentinel and Cluster nodes, failovers), never part of the default run\n' >&2
  exit 2
fi
seconds_per_case=3    # load per throughput case
window=10000          # closed loop: accepted codes allowed on their way to Redis at once
latency_count=2000
spawn_count=500
shell_count=200
replay_events=1000    # (g): events in the history a late watcher replays
replay_runs=20        # (g): runs of each replaying command
fanout_viewers="1 1000 5000 20000"  # (h): SSE viewers of one project; a fresh gateway for each
fanout_events=50      # (h): codes sent, one at a time
fanout_gap_ms=100     # (h): pause after each event, so that the gateway is idle again
fanout_floor_rounds=30  # (h): rounds of the one-thread floor for each viewer count
fanout_hold_s=${FANOUT_HOLD_S:-60}  # (h): the largest count is held this long after its events
fanout_sources=16     # (h): loopback source addresses the viewers are spread over
fanout_reserve=40     # (h): descriptors the gateway keeps for itself under the hard limit
fanout_projects="1000 10000"  # (h): many projects, a fresh gateway for each count
fanout_per_project=2  # (h): viewers of each
fanout_rate=1000      # (h): codes/s spread over the projects
fanout_seconds=10     # (h): of load
spool_count=1000      # (i): latency codes against each bscd, after spool_warmup
spool_warmup=100
spool_producers=8     # (i): producers of the two throughput cases
spool_spawn_count=200 # (i): bsc processes against each bscd, taking turns
spool_dsync_writes=500  # (i): 64-byte O_DSYNC writes (dd) that time a raw fdatasync

work=$(mktemp -d /tmp/bscd-bench.XXXXXX)
redis_pid=""
bscd_pid=""
nohist_pid=""  # (f): bscd --no-history
replay_pid=""  # (g): the bscd writing a history, one at a time
daemon_pid=""  # bscd -d, not our child
fanout_pid=""       # (h): the bscd-gateway of the current viewer count
fanout_bscd_pid=""  # (h): the bscd its codes go through
plain_pid=""  # (i): bscd without --spool
spool_pid=""  # (i): bscd --spool
topology_pid=""  # (j), (k): timeout running topology_bench
exited() {  # exited PID: true once PID is gone or a zombie (kill -0 succeeds on zombies)
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
  [[ "$state" == Z* ]]
}
cleanup() {
  local pid
  for pid in "$bscd_pid" "$nohist_pid" "$replay_pid" "$daemon_pid" "$fanout_pid" \
    "$fanout_bscd_pid" "$plain_pid" "$spool_pid" "$topology_pid" "$redis_pid"; do
    if [[ -n "$pid" ]] && ! exited "$pid"; then
      kill "$pid" 2>/dev/null || true
      for _ in {1..50}; do exited "$pid" && break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }  # progress, on stderr; the report goes to stdout

wait_for() {  # wait_for SECONDS COMMAND...: poll until COMMAND succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    if ((SECONDS >= deadline)); then say "bench: timed out waiting for: $*"; return 1; fi
    sleep 0.05
  done
}

field() {  # field "LINE" KEY: the value of KEY=... in a bscd_load line ("?" if absent)
  local token
  for token in $1; do
    if [[ "$token" == "$2="* ]]; then printf '%s' "${token#*=}"; return; fi
  done
  printf '?'
}

count() {  # count "LINE" KEY: an integer field, 0 if absent (a measurement that failed)
  local value
  value=$(field "$1" "$2")
  if [[ "$value" =~ ^[0-9]+$ ]]; then printf '%s' "$value"; else printf 0; fi
}

calc() {  # calc EXPR [FORMAT]: floating point in awk syntax, printed with FORMAT (%.2f)
  awk "BEGIN { x = $1; printf \"${2:-%.2f}\", x }" 2>/dev/null || printf '?'
}
verdict() { if [[ $(calc "($1) ? 1 : 0" %d) == 1 ]]; then printf 'met'; else printf 'NOT met'; fi; }

memory() {  # memory PID: "VmRSS VmHWM RssAnon RssFile Pss", in kB
  local pss
  pss=$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || echo '?')
  awk -v pss="${pss:-?}" '/^(VmRSS|VmHWM|RssAnon|RssFile):/ { v[$1] = $2 }
       END { printf "%s %s %s %s %s", v["VmRSS:"], v["VmHWM:"], v["RssAnon:"], v["RssFile:"], pss }' \
    "/proc/$1/status"
}

script_stats() {  # script_stats: "SCRIPT_CALLS CODES SCRIPT_USEC XADD_USEC PUBLISH_USEC PUBLISH_CALLS" since RESETSTAT
  redis-cli "${redis[@]}" info commandstats | tr -d '\r' | awk -F'[:,=]' '
    $1 == "cmdstat_evalsha" { calls = $3; usec = $5 }
    $1 == "cmdstat_xadd" { codes = $3; xadd = $5 }
    $1 == "cmdstat_publish" { publish = $5; published = $3 }
    END { printf "%d %d %d %d %d %d", calls, codes, usec, xadd, publish, published }'
}

stop_bscd() {  # stop_bscd PID SOCKET LOG: EXIT, wait; sets stop_status and stop_reached (codes bscd says reached Redis)
  timeout 20 "$bin/bsc" -a "$2" EXIT >/dev/null 2>&1 || true
  if ! wait_for 15 exited "$1"; then kill -KILL "$1" 2>/dev/null || true; fi
  stop_status=0
  wait "$1" || stop_status=$?
  stop_reached=$(sed -n 's/.*Every accepted code reached Redis (\([0-9]*\) in all).*/\1/p' "$3" | tail -n 1)
}

write_history() {  # write_history PROJECT CODE...: a fresh bscd (history kept up to 2000) takes the CODEs over
                   # one connection (bsc send), then EXIT; sets send_ms, history_status, history_reached
  local project=$1 t0 t1
  shift
  "$bin/bscd" --project "$project" --history-length 2000 --runtime-dir "$work" -H 127.0.0.1 \
    -P "$port" -l "$work/bscd-$project.log" 2>/dev/null &
  replay_pid=$!
  wait_for 10 test -s "$work/bscd-$project.pid"
  t0=${EPOCHREALTIME/./}
  timeout 60 "$bin/bsc" send -a "$work/bscd-$project.sock" --timeout 30 "$@" >/dev/null 2>&1 ||
    say "bench: bsc send to $project failed"
  t1=${EPOCHREALTIME/./}
  send_ms=$(calc "($t1 - $t0) / 1000" %.1f)
  stop_bscd "$replay_pid" "$work/bscd-$project.sock" "$work/bscd-$project.log"
  replay_pid=""
  history_status=$stop_status
  history_reached=${stop_reached:-?}
}

# (h): the descriptor limits, the gateway's --threads, and the viewer and project
# counts they allow. A viewer is a descriptor in the gateway and one in
# gateway_fanout; the hard RLIMIT_NOFILE cannot be raised without
# CAP_SYS_RESOURCE, so a count above what it allows is cut to fit, and the
# report says so.
fanout_setup() {  # sets fan_hard, fan_counts, fan_project_counts, fan_max_conn, fan_threads, fan_threads_note, fan_limits
  local n counts=() projects=()
  fan_hard=$(ulimit -Hn)
  [[ "$fan_hard" == unlimited ]] && fan_hard=1048576
  ulimit -n "$fan_hard"  # the soft limit of the gateways and generators started from here
  fan_max_conn=$((fan_hard - fanout_reserve))
  for n in $fanout_viewers; do counts+=("$((n < fan_max_conn - 50 ? n : fan_max_conn - 50))"); done
  for n in $fanout_projects; do
    projects+=("$((n * fanout_per_project < fan_max_conn - 50 ? n : (fan_max_conn - 50) / fanout_per_project))")
  done
  fan_counts="${counts[*]}"
  fan_project_counts="${projects[*]}"
  fan_threads=()
  if "$bin/bscd-gateway" --help 2>/dev/null | grep -q -- '--threads'; then
    fan_threads=(--threads "$(nproc)")
    fan_threads_note="--threads $(nproc) passed, as bscd-gateway --help has it"
  else
    fan_threads_note="no --threads in bscd-gateway --help: not passed"
  fi
  # The benchmark measures the fan-out, not the limits: off where the gateway has them.
  fan_limits=()
  if "$bin/bscd-gateway" --help 2>/dev/null | grep -q -- '--client-rate'; then
    fan_limits=(--client-rate 0 --max-project-viewers 0)
  fi
  # The history script as bscd sends it, for --mode projects: its very text.
  sed -n '/return R"lua(/,/^)lua";/p' src/redis/history_script.cpp | sed '1d;$d' >"$work/history_script.lua"
}
gateway_up() {  # gateway_up LOG: the gateway listens, or is gone
  grep -qs 'Listening on' "$1" || exited "$fanout_pid"
}
gateway_start() {  # gateway_start LOG: a fresh bscd-gateway on the private Redis; sets fanout_pid, gateway_port
  local log=$1
  fanout_pid=""
  for _ in 1 2 3; do  # the free port may be taken before the gateway binds it
    gateway_port=$("$load" free-port)
    "$bin/bscd-gateway" --listen "127.0.0.1:$gateway_port" -H 127.0.0.1 -P "$port" \
      --max-connections "$fan_max_conn" ${fan_threads[@]+"${fan_threads[@]}"} \
      ${fan_limits[@]+"${fan_limits[@]}"} 2>"$log" &
    fanout_pid=$!
    if wait_for 10 gateway_up "$log" && ! exited "$fanout_pid"; then return 0; fi
    wait "$fanout_pid" 2>/dev/null || true
    fanout_pid=""
  done
  say "bench: bscd-gateway did not start: $(tail -n 1 "$log")"
  return 1
}
gateway_stop() {  # gateway_stop: SIGTERM, wait; sets gateway_status
  gateway_status=0
  kill -TERM "$fanout_pid" 2>/dev/null || true
  if ! wait_for 15 exited "$fanout_pid"; then kill -KILL "$fanout_pid" 2>/dev/null || true; fi
  wait "$fanout_pid" || gateway_status=$?
  fanout_pid=""
}
warnings() {  # warnings LOG: warning and error lines in a gateway's log
  grep -c -E ' (WARNI|ERROR|CRITI) ' "$1" || true
}

# (h), one viewer count: a fresh bscd (project benchfanN, so that the history is empty)
# and a fresh gateway (so that its memory starts from idle each time); then the
# floor for the same N: one thread writing a frame of the size the viewers got.
declare -A fan fan_status fan_warnings fan_floor
fanout_case() {  # fanout_case N: sets fan[N] (gateway_fanout's line), fan_status[N], fan_warnings[N], fan_floor[N]
  local n=$1 project=benchfan$1 log=$work/gateway-$1.log hold=0 frame
  "$bin/bscd" --project "$project" --runtime-dir "$work" -H 127.0.0.1 -P "$port" \
    -l "$work/bscd-$project.log" 2>/dev/null &
  fanout_bscd_pid=$!
  wait_for 10 test -s "$work/bscd-$project.pid"
  [[ "$n" == "${fan_counts##* }" ]] && hold=$fanout_hold_s  # the largest count is held
  fan[$n]=""
  fan_status[$n]="?"
  if gateway_start "$log"; then
    say "== (h) gateway fan-out: $n viewers, $fanout_events codes, then held $hold s"
    fan[$n]=$(timeout $((180 + hold)) "$bin/gateway_fanout" --gateway "127.0.0.1:$gateway_port" \
      --gateway-pid "$fanout_pid" --project "$project" --socket "$work/bscd-$project.sock" \
      --viewers "$n" --events "$fanout_events" --gap-ms "$fanout_gap_ms" --sources "$fanout_sources" \
      --hold-s "$hold" --watch "redis=$redis_pid" --watch "bscd=$fanout_bscd_pid") || true
    gateway_stop
    fan_status[$n]=$gateway_status
  fi
  fan_warnings[$n]=$(warnings "$log")
  stop_bscd "$fanout_bscd_pid" "$work/bscd-$project.sock" "$work/bscd-$project.log"
  fanout_bscd_pid=""
  frame=$(count "${fan[$n]}" event_bytes)
  ((frame >= 8)) || frame=120
  say "== (h) floor: one thread writes a $frame-byte frame to $n loopback sockets, $fanout_floor_rounds times"
  fan_floor[$n]=$(timeout 300 "$bin/gateway_fanout" --mode floor --viewers "$n" --frame-bytes "$frame" \
    --rounds "$fanout_floor_rounds" --gap-ms "$fanout_gap_ms" --sources "$fanout_sources") || true
}

# (h), many projects: P projects with a few viewers each, codes written to Redis as bscd writes them.
declare -A mp mp_status mp_warnings
projects_case() {  # projects_case P: sets mp[P], mp_status[P], mp_warnings[P]
  local p=$1 log=$work/gateway-projects-$1.log
  mp[$p]=""
  mp_status[$p]="?"
  if gateway_start "$log"; then
    say "== (h) many projects: $p x $fanout_per_project viewers, $fanout_rate codes/s for $fanout_seconds s"
    mp[$p]=$(timeout 300 "$bin/gateway_fanout" --mode projects --gateway "127.0.0.1:$gateway_port" \
      --gateway-pid "$fanout_pid" --redis-port "$port" --script "$work/history_script.lua" \
      --prefix "benchmp$p-" --projects "$p" --viewers-per-project "$fanout_per_project" \
      --rate "$fanout_rate" --seconds "$fanout_seconds" --sources "$fanout_sources" \
      --watch "redis=$redis_pid") || true
    gateway_stop
    mp_status[$p]=$gateway_status
  fi
  mp_warnings[$p]=$(warnings "$log")
}
fanout_section() {  # all of (h)
  local n
  fanout_setup
  for n in $fan_counts; do fanout_case "$n"; done
  for n in $fan_project_counts; do projects_case "$n"; done
}

fanout_report() {  # the (h) block of the report
  local n l f p counts a b checks=() metrics=() runq=() ends=() all_ok=yes
  local top five top_p first_p ratio
  read -ra counts <<<"$fan_counts"
  top=${counts[-1]}
  cat <<EOF
(h) Gateway fan-out: N SSE viewers of one fresh project, all N on one thread of gateway_fanout, bound
    round robin to $fanout_sources loopback source addresses (127.0.0.2 ...); a fresh bscd-gateway for each N
    (--max-connections $fan_max_conn; $fan_threads_note);
    $fanout_events codes (10, 20, 30, ...), each written straight to bscd's socket ("CODE\n", as a producer)
    $fanout_gap_ms ms after every viewer had the previous one. ms from just before the write (the code's
    arrival at bscd) until bscd answered OK, and until the first / the last viewer had the event: read by
    gateway_fanout, and in the viewer's socket (the kernel's receive time); p99 of $fanout_events: the largest
    Descriptors: hard RLIMIT_NOFILE $fan_hard (not raisable here); the soft limit raised to it for
    the gateway (which does so itself) and gateway_fanout. Viewers asked ${fanout_viewers// /, }; run ${fan_counts// /, }
                  bscd     first viewer, read   last viewer, read   last, in its socket  connecting
    viewers   answered         p50     p99          p50     p99          p50     p99      all, s
EOF
  for n in $fan_counts; do
    l=${fan[$n]}
    printf '    %7s %10s %11s %7s %12s %7s %12s %7s %11s\n' "$n" "$(field "$l" bsc_p50_ms)" \
      "$(field "$l" first_p50_ms)" "$(field "$l" first_p99_ms)" "$(field "$l" last_p50_ms)" \
      "$(field "$l" last_p99_ms)" "$(field "$l" last_socket_p50_ms)" \
      "$(field "$l" last_socket_p99_ms)" "$(field "$l" connect_s)"
  done
  cat <<EOF
    The floor, in the same run: one thread send()s the same frame (as many bytes as a viewer got per
    event from the gateway) to N connected loopback sockets, $fanout_floor_rounds rounds $fanout_gap_ms ms apart: its CPU
    (getrusage RUSAGE_THREAD) and the last socket's kernel receive time. Against it, the gateway's CPU
    per viewer per event (user + system over the $fanout_events events, 10 ms ticks, / N) and its last
    viewer's time, in its socket (p50s)
                 frame    floor, per socket   gateway, per viewer   CPU      floor, last  gateway, last   last
    viewers      bytes    CPU us    loop us   CPU us per event      ratio    socket ms    in socket ms    ratio
EOF
  for n in $fan_counts; do
    l=${fan[$n]}
    f=${fan_floor[$n]}
    printf '    %7s %10s %9s %10s %18s %10s %12s %14s %7s\n' "$n" "$(field "$f" frame_bytes)" \
      "$(field "$f" cpu_us_per_socket)" "$(calc "$(field "$f" loop_p50_ms) * 1000 / $n" %.2f)" \
      "$(calc "$(field "$l" gateway_cpu_us_per_code) / $n" %.2f)" \
      "$(calc "$(field "$f" cpu_us_per_socket) > 0 ? sprintf(\"%.2f\", $(field "$l" gateway_cpu_us_per_code) / $n / $(field "$f" cpu_us_per_socket)) : \"-\"" %s)" \
      "$(field "$f" last_socket_p50_ms)" "$(field "$l" last_socket_p50_ms)" \
      "$(calc "$(field "$l" last_socket_p50_ms) / $(field "$f" last_socket_p50_ms)" %.2f)"
  done
  cat <<EOF
    Gateway memory (/proc/PID/status) before the viewers connect, with them connected (head sent;
    200 ms later), after the events; CPU per event over the events (10 ms ticks), the gateway's and
    gateway_fanout's own; the gateway's threads (/proc/PID/status)
                  gateway VmRSS, kB               per viewer, kB        CPU ms per event   gateway
    viewers     idle  viewers    after    VmHWM   viewers   after       gateway   client   threads
EOF
  for n in $fan_counts; do
    l=${fan[$n]}
    printf '    %7s %8s %8s %8s %8s %9s %7s %13s %8s %9s\n' "$n" \
      "$(field "$l" rss0_kb)" "$(field "$l" rss_connected_kb)" "$(field "$l" rss_kb)" \
      "$(field "$l" hwm_kb)" "$(field "$l" per_viewer_connected_kb)" "$(field "$l" per_viewer_kb)" \
      "$(calc "$(field "$l" gateway_cpu_us_per_code) / 1000" %.1f)" \
      "$(calc "$(field "$l" load_cpu_us_per_code) / 1000" %.1f)" "$(field "$l" threads)"
    checks+=("$(field "$l" complete_viewers)/$n")
    metrics+=("$(field "$l" metric_viewers)/$(field "$l" metric_dropped)")
    runq+=("$(field "$l" gateway_runq_s)/$(field "$l" load_runq_s)")
    ends+=("${fan_status[$n]}/${fan_warnings[$n]}")
    [[ "$(field "$l" delivered)" == "$fanout_events" && "$(field "$l" complete_viewers)" == "$n" &&
      "$(field "$l" metric_viewers)" == "$n" && "$(field "$l" metric_dropped)" == 0 &&
      "${fan_status[$n]}" == 0 && "${fan_warnings[$n]}" == 0 &&
      "$(field "${fan_floor[$n]}" rounds)" == "$fanout_floor_rounds" ]] || all_ok=NO
  done
  a=${counts[-2]}
  b=$top
  printf '    from %s to %s viewers: %s kB more per viewer connected, %s kB after the events\n' "$a" "$b" \
    "$(calc "($(field "${fan[$b]}" rss_connected_kb) - $(field "${fan[$a]}" rss_connected_kb)) / ($b - $a)")" \
    "$(calc "($(field "${fan[$b]}" rss_kb) - $(field "${fan[$a]}" rss_kb)) / ($b - $a)")"
  printf '    %s viewers held %s s after the events: %s still streaming; gateway VmRSS then %s kB\n' "$top" \
    "$(field "${fan[$top]}" held_s)" "$(field "${fan[$top]}" streaming_after_hold)" \
    "$(field "${fan[$top]}" rss_held_kb)"
  printf '    for N = %s:\n' "${fan_counts// /, }"
  printf '      %-50s %s\n' "viewers that got every event / N" "${checks[*]}" \
    "/metrics at the end: viewers / dropped slow" "${metrics[*]}" \
    "run-queue wait in the events, s: gateway / client" "${runq[*]}" \
    "gateway exit status (SIGTERM) / warnings logged" "${ends[*]}"
  printf '    every viewer got every event, none dropped, no warning, every floor round done: %s\n' "$all_ok"

  read -ra counts <<<"$fan_project_counts"
  first_p=${counts[0]}
  top_p=${counts[-1]}
  cat <<EOF

    Many projects: P fresh projects with $fanout_per_project viewers each (a fresh gateway for each P), then
    $fanout_rate codes/s for $fanout_seconds s, each to the next project of a shuffled round of all P, written by
    gateway_fanout as bscd writes one: EVALSHA of bscd's history script (its text from
    src/redis/history_script.cpp, SCRIPT LOAD) with bscd's arguments for a one-code batch (XADD to
    the project's stream, PUBLISH on its channel). Projects asked ${fanout_projects// /, }; run ${fan_project_counts// /, }.
    ms from just before the write to Redis until a viewer had read the code (every delivery); CPU over
    the load and its drain; kB per project: (VmRSS - idle) / P, viewers included, with them connected
    and after the codes; Redis commands per code: INFO commandstats, after - before, / codes
                          write -> viewer, ms           CPU us per code           kB per project     Redis
    projects  viewers     p50     p90     p99     max   gateway   redis  client   viewers   after    cmds/code
EOF
  for p in $fan_project_counts; do
    l=${mp[$p]}
    printf '    %8s %8s %7s %7s %7s %7s %9s %7s %7s %9s %7s %9s\n' "$p" "$(field "$l" viewers)" \
      "$(field "$l" latency_p50_ms)" "$(field "$l" latency_p90_ms)" "$(field "$l" latency_p99_ms)" \
      "$(field "$l" latency_max_ms)" "$(field "$l" gateway_cpu_us_per_code)" \
      "$(field "$l" redis_cpu_us_per_code)" "$(field "$l" load_cpu_us_per_code)" \
      "$(field "$l" per_project_connected_kb)" "$(field "$l" per_project_kb)" \
      "$(field "$l" redis_commands_per_code)"
  done
  for p in $fan_project_counts; do
    l=${mp[$p]}
    printf '    %s projects: Redis commands per code %s\n' "$p" "$(field "$l" redis_commands)"
    printf '      %s codes in %s s; deliveries %s of %s, unexpected %s; failed viewers %s; followed %s;\n' \
      "$(field "$l" codes)" "$(field "$l" load_s)" "$(field "$l" deliveries)" "$(field "$l" expected)" \
      "$(field "$l" unexpected)" "$(field "$l" failed_viewers)" "$(field "$l" metric_followed)"
    printf '      /metrics viewers %s, dropped %s; gateway exit status %s, warnings %s; run-queue wait s: gateway %s, client %s\n' \
      "$(field "$l" metric_viewers)" "$(field "$l" metric_dropped)" "${mp_status[$p]}" \
      "${mp_warnings[$p]}" "$(field "$l" gateway_runq_s)" "$(field "$l" load_runq_s)"
  done

  five=5000
  [[ -n "${fan[$five]:-}" ]] || five=$top
  printf '\n    Targets (h)\n'
  for n in $fan_counts; do
    ((n >= 1000)) || continue  # one viewer: 10 ms ticks cannot tell
    ratio=$(calc "$(field "${fan[$n]}" gateway_cpu_us_per_code) / $n / $(field "${fan_floor[$n]}" cpu_us_per_socket)" %.2f)
    printf '      %-62s %s (%sx)\n' "CPU per viewer per event <= 1.5x the floor, $n viewers" \
      "$(verdict "$ratio <= 1.5")" "$ratio"
  done
  ratio=$(calc "$(field "${fan[$five]}" last_socket_p50_ms) / $(field "${fan_floor[$five]}" last_socket_p50_ms)" %.2f)
  printf '      %-62s %s (%sx: %s ms against %s ms)\n' "last viewer, $five viewers, <= 1.5x the one-thread floor (p50)" \
    "$(verdict "$ratio <= 1.5")" "$ratio" "$(field "${fan[$five]}" last_socket_p50_ms)" \
    "$(field "${fan_floor[$five]}" last_socket_p50_ms)"
  printf '      %-62s %s (%s kB at %s viewers)\n' "memory per idle viewer <= 2.5 kB" \
    "$(verdict "$(field "${fan[$top]}" per_viewer_connected_kb) <= 2.5")" \
    "$(field "${fan[$top]}" per_viewer_connected_kb)" "$top"
  printf '      %-62s %s (%s viewers, %s s)\n' "20,000 viewers held a minute, no error" \
    "$(verdict "$top >= 20000 && $(field "${fan[$top]}" held_s) >= 60 && $(count "${fan[$top]}" streaming_after_hold) == $top && $([[ $all_ok == yes ]] && echo 1 || echo 0)")" \
    "$top" "$(field "${fan[$top]}" held_s)"
  for p in $fan_project_counts; do
    printf '      %-62s %s (%s ms)\n' "$p projects x $fanout_per_project viewers: p99 write -> viewer < 50 ms" \
      "$(verdict "$(field "${mp[$p]}" latency_p99_ms) < 50")" "$(field "${mp[$p]}" latency_p99_ms)"
  done
  ratio=$(calc "$(field "${mp[$top_p]}" gateway_cpu_us_per_code) / $(field "${mp[$first_p]}" gateway_cpu_us_per_code)" %.2f)
  printf '      %-62s %s (%sx)\n' "gateway CPU per code, $top_p projects against $first_p, <= 1.3x" \
    "$(verdict "$ratio <= 1.3")" "$ratio"
}

# (i), the cost of --spool: bscd benchplain without and bscd benchspool with --spool
# $work/spool, both on the private Redis; each case against one, then at once the other,
# so that the machine's noise falls on both.
declare -A sp sp_accepted sp_status sp_reached
spool_start() {  # spool_start SIDE [OPTION...]: starts bscd benchSIDE, sets plain_pid or spool_pid
  local side=$1 pid
  shift
  "$bin/bscd" --project "bench$side" "$@" --runtime-dir "$work" -H 127.0.0.1 -P "$port" \
    -l "$work/bscd-bench$side.log" 2>/dev/null &
  pid=$!
  if [[ "$side" == plain ]]; then plain_pid=$pid; else spool_pid=$pid; fi
  wait_for 10 test -s "$work/bscd-bench$side.pid"
}
spool_side_pid() {  # spool_side_pid SIDE: the pid of bscd benchSIDE
  if [[ "$1" == plain ]]; then printf '%s' "$plain_pid"; else printf '%s' "$spool_pid"; fi
}
spool_side_name() {  # spool_side_name SIDE: "without" or "with"
  if [[ "$1" == plain ]]; then printf without; else printf with; fi
}
spool_case() {  # spool_case KEY SCENARIO ARG...: bscd_load SCENARIO ARG... against benchplain, then benchspool
  local key=$1 side line
  shift
  for side in plain spool; do
    say "== (i) $key, bscd $(spool_side_name "$side") --spool"
    line=$(timeout 300 "$load" "$@" --socket "$work/bscd-bench$side.sock" --redis-host 127.0.0.1 \
      --redis-port "$port" --channel "bscd-bench$side" --watch "bscd=$(spool_side_pid "$side")" \
      --watch "redis=$redis_pid") || true
    sp[$key,$side]=$line
    if [[ "$1" == latency ]]; then
      sp_accepted[$side]=$((${sp_accepted[$side]:-0} + $(count "$line" n) + $(count "$line" warmup) +
        $(count "$line" lost)))
    else
      sp_accepted[$side]=$((${sp_accepted[$side]:-0} + $(count "$line" accepted)))
    fi
  done
}
dsync_ms() {  # dsync_ms FILE: ms per 64-byte write with O_DSYNC (a write and an fdatasync each), by dd's clock
  local line
  line=$(LC_ALL=C timeout 120 dd if=/dev/zero of="$1" bs=64 count="$spool_dsync_writes" oflag=dsync 2>&1 |
    tail -n 1) || true
  rm -f "$1"
  calc "$(sed -n 's/.* copied, \([0-9.]*\) s,.*/\1/p' <<<"$line") * 1000 / $spool_dsync_writes" %.2f
}
spool_fs() {  # spool_fs DIR: "TYPE[, journal] on DEVICE (mounted on TARGET OPTIONS; disk write cache: ...)"
  local fstype source target options dev cache="" journal=""
  if read -r fstype source target options < <(findmnt -n -o FSTYPE,SOURCE,TARGET,OPTIONS -T "$1" 2>/dev/null); then
    dev=$(readlink -f "/sys/class/block/${source##*/}" 2>/dev/null) || dev=""
    for dev in "$dev" "${dev%/*}"; do  # a partition's queue is its disk's
      if [[ -n "$dev" && -r "$dev/queue/write_cache" ]]; then cache=$(<"$dev/queue/write_cache"); break; fi
    done
    if [[ -r "/sys/fs/$fstype/${source##*/}/journal_task" ]]; then  # ext4: <none> without a journal
      if [[ "$(<"/sys/fs/$fstype/${source##*/}/journal_task")" == "<none>" ]]; then
        journal=", no journal"
      else
        journal=", journal"
      fi
    fi
    printf '%s%s on %s (mounted on %s %s; disk write cache: %s)' "$fstype" "$journal" "$source" \
      "$target" "$options" "${cache:-?}"
  else
    printf '%s (stat -f)' "$(stat -f -c %T "$1")"
  fi
}
spool_cases() {  # all of (i): sets sp, sp_status, sp_reached, spool_fs_line, dsync_before, dsync_after, spool_left
  local side
  mkdir -p "$work/spool"
  spool_fs_line=$(spool_fs "$work/spool")
  say "== (i) raw fdatasync: $spool_dsync_writes x dd bs=64 oflag=dsync in $work/spool"
  dsync_before=$(dsync_ms "$work/spool/dsync.test")
  spool_start plain
  spool_start spool --spool "$work/spool"
  spool_case latency latency --count "$spool_count" --warmup "$spool_warmup"
  say "== (i) $spool_spawn_count x bsc against each bscd, taking turns"
  sp[bsc]=$(timeout 300 "$load" spawn --count "$spool_spawn_count" --labels plain,spool -- \
    "$bin/bsc" -a "$work/bscd-benchplain.sock" 10 ++ "$bin/bsc" -a "$work/bscd-benchspool.sock" 10) || true
  for side in plain spool; do
    sp_accepted[$side]=$((${sp_accepted[$side]:-0} + $(count "${sp[bsc]}" n) - $(count "${sp[bsc]}" "${side}_failed")))
  done
  spool_case connect throughput --mode connect --producers "$spool_producers" --window "$window" \
    --seconds "$seconds_per_case" --drain-timeout 30
  spool_case pipeline throughput --mode pipeline --producers "$spool_producers" --batch 64 \
    --window "$window" --seconds "$seconds_per_case" --drain-timeout 30
  for side in plain spool; do
    stop_bscd "$(spool_side_pid "$side")" "$work/bscd-bench$side.sock" "$work/bscd-bench$side.log"
    if [[ "$side" == plain ]]; then plain_pid=""; else spool_pid=""; fi
    sp_status[$side]=$stop_status
    sp_reached[$side]=${stop_reached:-?}
  done
  if [[ -e "$work/spool/bscd-benchspool.spool" ]]; then
    spool_left=$(stat -c %s "$work/spool/bscd-benchspool.spool")
  else
    spool_left=missing
  fi
  dsync_after=$(dsync_ms "$work/spool/dsync.test")
}
spool_row() {  # spool_row LABEL KEY FIELD: a row of (i), FIELD of both sides and with / without
  spool_values "$1" "$(field "${sp[$2,plain]}" "$3")" "$(field "${sp[$2,spool]}" "$3")"
}
spool_values() {  # spool_values LABEL WITHOUT WITH: a row of (i), the two values and with / without
  local without=$2 with=$3
  printf '    %-46s %9s %12s %9s\n' "$1" "$without" "$with" \
    "$(awk "BEGIN { x = $with / $without; printf(x >= 10 ? \"%.0f\" : x >= 0.1 ? \"%.2f\" : \"%.4f\", x) }" \
      2>/dev/null || printf '?')"
}
spool_report() {  # the (i) block of the report
  local key side all_ok=yes
  cat <<EOF
(i) Cost of --spool: bscd benchplain, and bscd benchspool --spool DIR (otherwise the same options and
    Redis); each case against benchplain, then at once against benchspool. DIR is on
    $spool_fs_line.
    A raw fdatasync there, 64-byte writes with O_DSYNC (dd bs=64 count=$spool_dsync_writes oflag=dsync: each
    write waits for its data and the file's new size, as an append to the spool does):
    $dsync_before ms each before the cases, $dsync_after ms after
                                                     without  with --spool  with / without
$(spool_row "latency, write -> \"OK\" p50 (us)" latency ack_p50_us)
$(spool_row "latency, write -> \"OK\" p90 (us)" latency ack_p90_us)
$(spool_row "latency, write -> \"OK\" p99 (us)" latency ack_p99_us)
$(spool_row "latency, write -> subscriber p50 (us)" latency p50_us)
$(spool_row "latency, write -> subscriber p99 (us)" latency p99_us)
$(spool_values "bsc -a SOCK 10, a process per code, mean (ms)" "$(field "${sp[bsc]}" plain_mean_ms)" "$(field "${sp[bsc]}" spool_mean_ms)")
$(spool_values "  p50 (ms)" "$(field "${sp[bsc]}" plain_p50_ms)" "$(field "${sp[bsc]}" spool_p50_ms)")
$(spool_values "  p99 (ms)" "$(field "${sp[bsc]}" plain_p99_ms)" "$(field "${sp[bsc]}" spool_p99_ms)")
$(spool_row "connection per code, N=$spool_producers, delivered codes/s" connect delivered_per_s)
$(spool_row "  CPU us/code, bscd" connect bscd_cpu_us_per_code)
$(spool_row "pipelined 64 per write, N=$spool_producers, delivered codes/s" pipeline delivered_per_s)
$(spool_row "  CPU us/code, bscd" pipeline bscd_cpu_us_per_code)
    (latency: one code at a time over one connection, $(field "${sp[latency,spool]}" n) codes after $(field "${sp[latency,spool]}" warmup) warm-up; bsc: $(field "${sp[bsc]}" n) runs
    against each, taking turns, as in (c); throughput: ${seconds_per_case} s of load, then until every accepted
    code is delivered, as in (b))
    with --spool, ms per fdatasync as bscd's rate implies (one per code, one per batch of 64; bscd
    syncs on its one thread): connection per code 1 / rate = $(calc "1000 / $(field "${sp[connect,spool]}" delivered_per_s)"), pipelined 64 / rate = $(calc "64000 / $(field "${sp[pipeline,spool]}" delivered_per_s)")
EOF
  for key in latency connect pipeline; do
    for side in plain spool; do
      [[ "$(field "${sp[$key,$side]}" lost)" == 0 && "$(field "${sp[$key,$side]}" errors)" =~ ^(0|\?)$ ]] ||
        all_ok=NO
    done
  done
  printf '    lost, without / with: latency %s / %s; connection per code %s / %s; pipelined %s / %s\n' \
    "$(field "${sp[latency,plain]}" lost)" "$(field "${sp[latency,spool]}" lost)" \
    "$(field "${sp[connect,plain]}" lost)" "$(field "${sp[connect,spool]}" lost)" \
    "$(field "${sp[pipeline,plain]}" lost)" "$(field "${sp[pipeline,spool]}" lost)"
  [[ "$(field "${sp[bsc]}" plain_failed)" == 0 && "$(field "${sp[bsc]}" spool_failed)" == 0 ]] || all_ok=NO
  printf '    errors, without / with: bsc %s / %s; connection per code %s / %s; pipelined %s / %s\n' \
    "$(field "${sp[bsc]}" plain_failed)" "$(field "${sp[bsc]}" spool_failed)" \
    "$(field "${sp[connect,plain]}" errors)" "$(field "${sp[connect,spool]}" errors)" \
    "$(field "${sp[pipeline,plain]}" errors)" "$(field "${sp[pipeline,spool]}" errors)"
  for side in plain spool; do
    [[ "${sp_status[$side]}" == 0 && "${sp_reached[$side]}" == "${sp_accepted[$side]:-0}" ]] || all_ok=NO
    printf '    EXIT, bscd %-16s exit status %s; %s codes reached Redis, answered OK %s (%s)\n' \
      "$(spool_side_name "$side") --spool:" "${sp_status[$side]}" "${sp_reached[$side]}" \
      "${sp_accepted[$side]:-0}" \
      "$([[ "${sp_reached[$side]}" == "${sp_accepted[$side]:-0}" ]] && echo "all accounted for" || echo MISMATCH)"
  done
  [[ "$spool_left" == 0 ]] || all_ok=NO
  printf '    the spool file after EXIT: %s\n' \
    "$([[ "$spool_left" == 0 ]] && echo "0 bytes (every code confirmed)" || echo "$spool_left bytes: NOT empty")"
  printf '    nothing lost, every code accounted for, the spool empty: %s\n' "$all_ok"
}

# ---- build ---------------------------------------------------------------
build_start=$SECONDS
if [[ -n "${SKIP_BUILD:-}" ]]; then  # measure the programs already built (while the tree does not build)
  say "== SKIP_BUILD: measuring the programs already in $build_dir/bin"
  build_s="skipped (SKIP_BUILD; bscd-gateway built $(date -u -r "$build_dir/bin/bscd-gateway" '+%Y-%m-%d %H:%M UTC'))"
else
  say "== building into $build_dir/"
  if ! scripts/build.sh "$build_dir" -DBSCD_BUILD_BENCH=ON >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    say "bench: the build failed"
    exit 1
  fi
  build_s="$((SECONDS - build_start)) s"
fi
bin=$PWD/$build_dir/bin
load=$bin/bscd_load

measure_start=$SECONDS
short_header() {  # short_header SECTION: the report's header when only SECTION ran
  cat <<EOF
bscd benchmark, $1 only, $(date -u '+%Y-%m-%d %H:%M UTC')
  machine   $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r)
  load avg  $loadavg_before before, $(cut -d' ' -f1-3 /proc/loadavg) after (the machine is shared)
  versions  bscd $("$bin/bscd" --version 2>/dev/null | tr -d '\n'), redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'); build $build_dir/ ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt" | grep . || echo RelWithDebInfo))
  timing    build ${build_s}, measurements $((SECONDS - measure_start)) s
EOF
}
if [[ "$only" == topology ]]; then  # (j) and (k) alone; topology_bench starts its own Redis nodes
  if [[ ! -x "$bin/topology_bench" ]]; then
    say "bench: $build_dir/bin/topology_bench was not built: it uses the test fixtures, so it needs the tests (-DBSCD_BUILD_TESTS=ON)"
    exit 1
  fi
  loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
  say "== (j), (k): topology_bench, a few minutes"
  timeout 900 "$bin/topology_bench" >"$work/topology.txt" &
  topology_pid=$!
  topology_status=0
  wait "$topology_pid" || topology_status=$?
  topology_pid=""
  if ((topology_status != 0)); then
    say "bench: topology_bench failed (exit status $topology_status)"
    exit 1
  fi
  printf '%s\n\n%s\n' "$(short_header "(j) and (k)")" "$(cat "$work/topology.txt")"
  exit 0
fi
# ---- private redis-server --------------------------------------------------
for attempt in 1 2 3; do
  port=$("$load" free-port)
  redis-server --bind 127.0.0.1 --port "$port" --protected-mode yes --save '' \
    --appendonly no --dir "$work" --logfile "$work/redis.log" \
    --client-output-buffer-limit 'pubsub 0 0 0' &
  redis_pid=$!
  if wait_for 5 redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1; then break; fi
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  redis_pid=""
  if ((attempt == 3)); then say "bench: redis-server did not start"; exit 1; fi
done
redis=(-h 127.0.0.1 -p "$port")
say "== redis-server on 127.0.0.1:$port (pid $redis_pid)"

if [[ "$only" == fanout ]]; then  # (h) alone, with the report's header
  loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
  fanout_section
  printf '%s\n\n%s\n' "$(short_header "(h)")" "$(fanout_report)"
  exit 0
fi
if [[ "$only" == spool ]]; then  # (i) alone, with the report's header
  loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
  spool_cases
  printf '%s\n\n%s\n' "$(short_header "(i)")" "$(spool_report)"
  exit 0
fi

# ---- bscd ----------------------------------------------------------------
socket=$work/bscd-bench.sock
channel=bscd-bench
"$bin/bscd" --project bench --runtime-dir "$work" -H 127.0.0.1 -P "$port" \
  -l "$work/bscd.log" 2>/dev/null &
bscd_pid=$!
wait_for 10 test -s "$work/bscd-bench.pid"
say "== bscd serving $socket (pid $bscd_pid; log in a file, stderr to /dev/null)"
nohist_socket=$work/bscd-benchnh.sock
"$bin/bscd" --project benchnh --no-history --runtime-dir "$work" -H 127.0.0.1 -P "$port" \
  -l "$work/bscd-benchnh.log" 2>/dev/null &
nohist_pid=$!
wait_for 10 test -s "$work/bscd-benchnh.pid"
say "== bscd --no-history serving $nohist_socket (pid $nohist_pid)"
nohist_target=(--socket "$nohist_socket" --redis-host 127.0.0.1 --redis-port "$port" --channel bscd-benchnh)
nohist_watch=(--watch "bscd=$nohist_pid" --watch "redis=$redis_pid")
watch=(--watch "bscd=$bscd_pid" --watch "redis=$redis_pid")
target=(--socket "$socket" --redis-host 127.0.0.1 --redis-port "$port" --channel "$channel")
loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
sleep 0.5
read -r idle_rss idle_hwm idle_anon idle_file idle_pss <<<"$(memory "$bscd_pid")"
accepted_total=0  # what the generators were told OK, to check against bscd's final count

# ---- (a) latency ---------------------------------------------------------
say "== (a) latency: $latency_count codes, one at a time"
lat=$(timeout 120 "$load" latency "${target[@]}" --count "$latency_count" --warmup 100 \
  "${watch[@]}") || true
accepted_total=$((accepted_total + $(count "$lat" n) + $(count "$lat" warmup) + $(count "$lat" lost)))
# (f) the same at once against bscd --no-history, so that the two see the same machine
say "== (f) latency again, against bscd --no-history"
nh_lat=$(timeout 120 "$load" latency "${nohist_target[@]}" --count "$latency_count" --warmup 100 \
  "${nohist_watch[@]}") || true
nohist_accepted=$(($(count "$nh_lat" n) + $(count "$nh_lat" warmup) + $(count "$nh_lat" lost)))

# ---- (c) one process per code ------------------------------------------------
say "== (c) $spawn_count x bsc and $spawn_count x /bin/true, taking turns"
spawn=$(timeout 120 "$load" spawn --count "$spawn_count" --labels bsc,true --watch "bscd=$bscd_pid" \
  -- "$bin/bsc" -a "$socket" 10 ++ /bin/true) || true
accepted_total=$((accepted_total + $(count "$spawn" n) - $(count "$spawn" bsc_failed)))
# The same from bash (fork + exec, as a build script runs bsc), taking turns
# too; $EPOCHREALTIME costs no process.
shell_bsc_us=0
shell_true_us=0
for ((i = 0; i < shell_count; i++)); do
  t0=${EPOCHREALTIME/./}
  "$bin/bsc" -a "$socket" 10 >/dev/null 2>&1 || true
  t1=${EPOCHREALTIME/./}
  /bin/true
  t2=${EPOCHREALTIME/./}
  shell_bsc_us=$((shell_bsc_us + t1 - t0))
  shell_true_us=$((shell_true_us + t2 - t1))
done
accepted_total=$((accepted_total + shell_count))
sh_bsc=$(calc "$shell_bsc_us / 1000 / $shell_count" %.3f)
sh_true=$(calc "$shell_true_us / 1000 / $shell_count" %.3f)

# ---- (g) a late watcher replays a finished history ---------------------------------------
# 999 stage codes (the catalog's stage codes over and over), then 1000, for a
# fresh project; and a history of the final code alone, to compare with.
say "== (g) late watcher: writing a $replay_events-event history, then $replay_runs runs of each reader"
stage_codes=(10 20 21 30 31 32 33 40 50 60 70 80 81 82)
replay_codes=()
for ((i = 0; i < replay_events - 1; i++)); do replay_codes+=("${stage_codes[i % ${#stage_codes[@]}]}"); done
replay_codes+=(1000)
write_history benchreplay "${replay_codes[@]}"
replay_send_ms=$send_ms
replay_status=$history_status
replay_reached=$history_reached
replay_xlen=$(redis-cli "${redis[@]}" xlen bscd-benchreplay:events)
write_history benchone 1000
one_status=$history_status
one_reached=$history_reached
one_xlen=$(redis-cli "${redis[@]}" xlen bscd-benchone:events)
at=(-H 127.0.0.1 -P "$port")
replay=$(timeout 120 "$load" spawn --count "$replay_runs" --stdout count --run-timeout 20 \
  --labels watchN,historyN,watch1,history1,true -- \
  "$bin/bsc" watch benchreplay "${at[@]}" --json --timeout 20 ++ "$bin/bsc" history benchreplay "${at[@]}" ++ \
  "$bin/bsc" watch benchone "${at[@]}" --json --timeout 20 ++ "$bin/bsc" history benchone "${at[@]}" ++ \
  /bin/true) || true

# ---- (b) throughput ----------------------------------------------------------
declare -A tp rs
for mode in connect connect-ack pipeline; do
  redis-cli "${redis[@]}" config resetstat >/dev/null
  for n in 1 8 64; do
    say "== (b) $mode, $n producers, ${seconds_per_case} s"
    line=$(timeout 120 "$load" throughput "${target[@]}" --mode "$mode" --producers "$n" \
      --batch 64 --window "$window" --seconds "$seconds_per_case" "${watch[@]}") || true
    tp[$mode,$n]=$line
    accepted_total=$((accepted_total + $(count "$line" accepted)))
  done
  rs[$mode]=$(script_stats)
done
read -r load_rss load_hwm load_anon load_file load_pss <<<"$(memory "$bscd_pid")"

# (f) pipelined, N=8, against bscd --no-history, right after the cases with the history
say "== (f) pipeline, 8 producers, ${seconds_per_case} s, against bscd --no-history"
redis-cli "${redis[@]}" config resetstat >/dev/null
nh_tp=$(timeout 120 "$load" throughput "${nohist_target[@]}" --mode pipeline --producers 8 \
  --batch 64 --window "$window" --seconds "$seconds_per_case" "${nohist_watch[@]}") || true
nh_rs=$(script_stats)
nohist_accepted=$((nohist_accepted + $(count "$nh_tp" accepted)))
read -r _ nh_hwm _ _ _ <<<"$(memory "$nohist_pid")"
stop_bscd "$nohist_pid" "$nohist_socket" "$work/bscd-benchnh.log"
nohist_pid=""
nohist_status=$stop_status
nohist_reached=${stop_reached:-?}

# Overload: one producer, no window, so the outbox fills and bscd answers ERR.
say "== (b) overload: pipelined, open loop, 1 s"
log_before=$(stat -c %s "$work/bscd.log")
over=$(timeout 120 "$load" throughput "${target[@]}" --mode pipeline --producers 1 --batch 64 \
  --window 0 --seconds 1 --drain-timeout 20 "${watch[@]}") || true
accepted_total=$((accepted_total + $(count "$over" accepted)))
log_growth=$(($(stat -c %s "$work/bscd.log") - log_before))
read -r over_rss over_hwm over_anon over_file over_pss <<<"$(memory "$bscd_pid")"

# ---- (d) again with bscd -d, as Pieman starts it -----------------------------------
# A daemon forks after start-up; pages of the shared libraries touched before
# the fork are not in the child's page tables until it touches them again.
say "== (d) bscd -d: idle, then 1 s pipelined"
mkdir "$work/d"
"$bin/bscd" -d --project benchd --runtime-dir "$work/d" -H 127.0.0.1 -P "$port" \
  -l "$work/d/bscd.log" 2>/dev/null
daemon_pid=$(cat "$work/d/bscd-benchd.pid")
sleep 0.5
read -r d_idle_rss d_idle_hwm d_idle_anon d_idle_file d_idle_pss <<<"$(memory "$daemon_pid")"
d_load=$(timeout 60 "$load" throughput --socket "$work/d/bscd-benchd.sock" --redis-host 127.0.0.1 \
  --redis-port "$port" --channel bscd-benchd --mode pipeline --producers 8 --batch 64 \
  --window "$window" --seconds 1) || true
read -r d_load_rss d_load_hwm d_load_anon d_load_file d_load_pss <<<"$(memory "$daemon_pid")"
timeout 20 "$bin/bsc" -a "$work/d/bscd-benchd.sock" EXIT >/dev/null 2>&1 || true
wait_for 15 exited "$daemon_pid" || true
d_reached=$(sed -n 's/.*Every accepted code reached Redis (\([0-9]*\) in all).*/\1/p' "$work/d/bscd.log" | tail -n 1)

# ---- (e) the Redis ceiling -------------------------------------------------------
rb() {  # rb COMMAND...: requests/s of redis-benchmark -P 16 -n 200000 COMMAND
  timeout 120 redis-benchmark "${redis[@]}" -n 200000 -P 16 --csv "$@" 2>/dev/null |
    awk -F'"' 'NR == 2 { printf "%.0f", $4 }'
}
say "== (e) redis-benchmark"
rb_publish=$(rb PUBLISH bench-ceiling 10)
rb_xadd=$(rb XADD bench-ceiling:x MAXLEN 1000 '*' code 10 name PREPARED_CHROOT_ENV_CODE ts 1763938454570)
rb_xadd_approx=$(rb XADD bench-ceiling:y MAXLEN '~' 1000 '*' code 10 name PREPARED_CHROOT_ENV_CODE ts 1763938454570)

# ---- (h) gateway fan-out -------------------------------------------------------
fanout_section

# ---- (i) the cost of --spool ----------------------------------------------------
spool_cases
loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- shutdown: EXIT, and every accepted code must have reached Redis ------------
say "== EXIT"
exit_reply=$(timeout 20 "$bin/bsc" -a "$socket" EXIT 2>&1) || true
if ! wait_for 15 exited "$bscd_pid"; then kill -KILL "$bscd_pid" 2>/dev/null || true; fi
bscd_status=0
wait "$bscd_pid" || bscd_status=$?
bscd_pid=""
[[ -n "$exit_reply" ]] || exit_reply="OK"  # bsc prints nothing when the answer is OK
measure_s=$((SECONDS - measure_start))
reached=$(sed -n 's/.*Every accepted code reached Redis (\([0-9]*\) in all).*/\1/p' "$work/bscd.log" | tail -n 1)

# ---- report -----------------------------------------------------------------------
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build_dir/CMakeCache.txt")
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_total=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
mb() { calc "$1 / 1024" %.1f; }

row() {  # row MODE LABEL: delivered codes/s for N = 1, 8, 64
  printf '    %-34s' "$2"
  for n in 1 8 64; do
    local l=${tp[$1,$n]}
    printf ' %9s' "$(field "$l" delivered_per_s)"
    [[ "$(field "$l" lost)" == 0 && "$(field "$l" errors)" == 0 ]] || printf '!'
  done
  printf '\n'
}
cpu_row() {  # cpu_row MODE: CPU per code and run-queue waits for N = 1, 8, 64, Redis script figures
  local n l calls codes usec xadd publish
  printf '      CPU us/code  bscd  redis  load\n'
  for n in 1 8 64; do
    l=${tp[$1,$n]}
    printf '        N=%-2s %14s %6s %5s   run-queue wait s: bscd %s, redis %s, load %s\n' "$n" \
      "$(field "$l" bscd_cpu_us_per_code)" "$(field "$l" redis_cpu_us_per_code)" \
      "$(field "$l" load_cpu_us_per_code)" "$(field "$l" bscd_runq_s)" \
      "$(field "$l" redis_runq_s)" "$(field "$l" load_runq_s)"
  done
  read -r calls codes usec xadd publish _ <<<"${rs[$1]}"
  printf '      Redis (INFO commandstats): %s codes per script call, %s us per code inside the script\n' \
    "$(calc "$codes / ($calls + 1e-9)" %.1f)" "$(calc "$usec / ($codes + 1e-9)" %.2f)"
  printf '        of which XADD %s us, PUBLISH %s us\n' \
    "$(calc "$xadd / ($codes + 1e-9)" %.2f)" "$(calc "$publish / ($codes + 1e-9)" %.2f)"
}

best_pipeline=0
best_n=1
for n in 1 8 64; do
  v=$(field "${tp[pipeline,$n]}" delivered_per_s)
  if [[ "$v" != "?" ]] && (( v > best_pipeline )); then best_pipeline=$v; best_n=$n; fi
done
ratio() { calc "$1 / $2" %.2f; }  # ratio A B: A / B, "?" when either is missing
hist_row() {  # hist_row LABEL HISTORY NO-HISTORY: a row of (f)
  printf '    %-40s %9s %12s %9s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"
}
replay_row() {  # replay_row LABEL KEY EXPECTED-LINES: a row of (g)
  local fewest most
  fewest=$(field "$replay" "$2_lines_min")
  most=$(field "$replay" "$2_lines_max")
  printf '    %-30s %7s %7s %7s   %-13s %s\n' "$1" "$(field "$replay" "$2_mean_ms")" \
    "$(field "$replay" "$2_p50_ms")" "$(field "$replay" "$2_max_ms")" \
    "$([[ "$fewest" == "$most" ]] && echo "$fewest" || echo "$fewest-$most")" "$(field "$replay" "$2_failed")"
  [[ "$fewest" == "$3" && "$most" == "$3" && "$(field "$replay" "$2_failed")" == 0 ]] || replay_ok=no
}
read -r _ _ _ _ nh_publish_usec nh_published <<<"$nh_rs"
read -r _ pipe_codes pipe_usec _ _ _ <<<"${rs[pipeline]}"
tp8=${tp[pipeline,8]}
replay_ok=yes
watch_extra=$(calc "$(field "$replay" watchN_p50_ms) - $(field "$replay" watch1_p50_ms)" %.2f)
history_extra=$(calc "$(field "$replay" historyN_p50_ms) - $(field "$replay" history1_p50_ms)" %.2f)
bsc_ms=$(field "$spawn" bsc_mean_ms)
true_ms=$(field "$spawn" true_mean_ms)
p99=$(field "$lat" p99_us)

cat <<EOF
bscd benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')
  machine   $(nproc) CPUs, $cpu_model, $mem_total RAM, Linux $(uname -r)
  load avg  $loadavg_before before, $loadavg_after after (the machine is shared)
  versions  bscd $("$bin/bscd" --version 2>/dev/null | tr -d '\n'), redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), hiredis 0.14; build $build_dir/ (${build_type:-RelWithDebInfo}, the project's default)
  timing    build ${build_s}, measurements ${measure_s} s
  setup     redis-server on 127.0.0.1:$port (TCP, no persistence, pubsub output unlimited);
            bscd --project bench -H 127.0.0.1 -P $port -l FILE, stderr to /dev/null
            (one INFO line per code goes to the log file)

(a) Latency at low load: one code at a time over one connection, $(field "$lat" n) codes after $(field "$lat" warmup) warm-up
    write "10\n" -> "OK" read        p50 $(field "$lat" ack_p50_us) us   p99 $(field "$lat" ack_p99_us) us   max $(field "$lat" ack_max_us) us
    write -> message at subscriber   p50 $(field "$lat" p50_us) us   p90 $(field "$lat" p90_us) us   p99 $p99 us   p99.9 $(field "$lat" p999_us) us   max $(field "$lat" max_us) us
    lost $(field "$lat" lost)

(b) Delivered throughput, codes/s (counted at a Redis subscriber; ${seconds_per_case} s of load per case,
    at most $window accepted codes in flight; '!' marks lost codes or errors; N producer
    threads for the per-code connections, one thread polling N connections for pipelining)
                                            N=1       N=8      N=64
$(row connect "new connection per code (Pieman) *")
$(cpu_row connect)
$(row connect-ack "new connection per code + OK (bsc)")
$(cpu_row connect-ack)
$(row pipeline "persistent, pipelined 64 per write")
$(cpu_row pipeline)
    * connect, write "10" (no newline), close without reading: bscd still takes it
    overload (1 producer, open loop, 1 s): accepted $(field "$over" accepted), answered ERR $(field "$over" rejected),
      delivered $(field "$over" received), lost $(field "$over" lost); the log grew $(calc "$log_growth / 1048576" %.0f) MiB
      ($(calc "$log_growth / ($(count "$over" sent) + 0.000001)" %.0f) bytes per request)

(c) One process per code: $(field "$spawn" n) runs each of bsc and /bin/true, taking turns (posix_spawn + waitpid)
                       mean     p50     p90     p99     max  (ms)
    bsc -a SOCK 10   $(printf '%7s %7s %7s %7s %7s' "$bsc_ms" "$(field "$spawn" bsc_p50_ms)" "$(field "$spawn" bsc_p90_ms)" "$(field "$spawn" bsc_p99_ms)" "$(field "$spawn" bsc_max_ms)")   failed $(field "$spawn" bsc_failed)
    /bin/true        $(printf '%7s %7s %7s %7s %7s' "$true_ms" "$(field "$spawn" true_p50_ms)" "$(field "$spawn" true_p90_ms)" "$(field "$spawn" true_p99_ms)" "$(field "$spawn" true_max_ms)")
    bsc above floor  $(printf '%7s %7s' "$(calc "$bsc_ms - $true_ms" %.3f)" "$(calc "$(field "$spawn" bsc_p50_ms) - $(field "$spawn" true_p50_ms)" %.3f)")
    from a bash loop ($shell_count runs each, fork+exec as a build script does): bsc $sh_bsc ms, /bin/true $sh_true ms (means)

(d) bscd resident memory (kB; /proc/PID/status, Pss from smaps_rollup)
                                                     VmRSS   VmHWM  RssAnon  RssFile     Pss
    idle after start                                 $(printf '%7s %7s %8s %8s %7s' "$idle_rss" "$idle_hwm" "$idle_anon" "$idle_file" "$idle_pss")
    after (a)-(c) and the throughput cases           $(printf '%7s %7s %8s %8s %7s' "$load_rss" "$load_hwm" "$load_anon" "$load_file" "$load_pss")
    after the overload (outbox filled)               $(printf '%7s %7s %8s %8s %7s' "$over_rss" "$over_hwm" "$over_anon" "$over_file" "$over_pss")
    bscd -d (daemonized, as Pieman starts it), idle  $(printf '%7s %7s %8s %8s %7s' "$d_idle_rss" "$d_idle_hwm" "$d_idle_anon" "$d_idle_file" "$d_idle_pss")
    bscd -d after 1 s pipelined, N=8                 $(printf '%7s %7s %8s %8s %7s' "$d_load_rss" "$d_load_hwm" "$d_load_anon" "$d_load_file" "$d_load_pss")
      ($(field "$d_load" delivered_per_s) codes/s; $(count "$d_load" accepted) answered OK, ${d_reached:-?} reached Redis)

(e) Redis ceiling, redis-benchmark -h 127.0.0.1 -p $port -n 200000 -P 16 (requests/s)
    PUBLISH bench-ceiling 10                         $rb_publish
    XADD key MAXLEN 1000 * (4 fields, exact trim)    $rb_xadd
    XADD key MAXLEN ~ 1000 * (bscd's trim)           $rb_xadd_approx

(f) Cost of the history: the latency case and pipelined N=8 against a second bscd started with
    --no-history (project benchnh, same Redis: one plain PUBLISH per code, pipelined), each run
    right after its counterpart against bench (latency just after (a); pipelined after (b))
                                               history  --no-history  history / no-history
$(hist_row "latency write -> subscriber p50 (us)" "$(field "$lat" p50_us)" "$(field "$nh_lat" p50_us)")
$(hist_row "latency write -> subscriber p99 (us)" "$p99" "$(field "$nh_lat" p99_us)")
$(hist_row "latency write -> \"OK\" p50 (us)" "$(field "$lat" ack_p50_us)" "$(field "$nh_lat" ack_p50_us)")
$(hist_row "pipelined N=8, delivered codes/s" "$(field "$tp8" delivered_per_s)" "$(field "$nh_tp" delivered_per_s)")
$(hist_row "  CPU us/code, bscd" "$(field "$tp8" bscd_cpu_us_per_code)" "$(field "$nh_tp" bscd_cpu_us_per_code)")
$(hist_row "  CPU us/code, redis" "$(field "$tp8" redis_cpu_us_per_code)" "$(field "$nh_tp" redis_cpu_us_per_code)")
$(hist_row "  CPU us/code, load (the generator)" "$(field "$tp8" load_cpu_us_per_code)" "$(field "$nh_tp" load_cpu_us_per_code)")
$(hist_row "  Redis us/code in commands (INFO)" "$(calc "$pipe_usec / ($pipe_codes + 1e-9)" %.2f)" "$(calc "$nh_publish_usec / ($nh_published + 1e-9)" %.2f)")
    (the last row: the history script per code over the three pipelined cases, PUBLISH per code;
    lost: latency $(field "$lat" lost) / $(field "$nh_lat" lost), pipelined $(field "$tp8" lost) / $(field "$nh_tp" lost); bscd --no-history peaked at $nh_hwm kB VmHWM)

(g) Late watcher: a new process replays a finished history; $replay_runs runs of each, taking turns,
    from posix_spawn to exit, stdout read through a pipe and its lines counted
    history of $replay_events events: $((replay_events - 1)) stage codes then 1000, written by a fresh bscd
      --history-length 2000 with one bsc send (${replay_send_ms} ms); XLEN $replay_xlen
    history of 1 event: 1000 alone; XLEN $one_xlen
                                      mean     p50     max  (ms)  lines per run  failed
$(replay_row "bsc watch --json, $replay_events events" watchN "$replay_events")
$(replay_row "bsc history, $replay_events events" historyN "$replay_events")
$(replay_row "bsc watch --json, 1 event" watch1 1)
$(replay_row "bsc history, 1 event" history1 1)
$(replay_row "/bin/true" true 0)
    replaying $replay_events events instead of 1 (p50): bsc watch +$watch_extra ms ($(calc "$watch_extra * 1000 / ($replay_events - 1)" %.1f) us per event), bsc history +$history_extra ms
    every run exited 0 and printed one line per event: $replay_ok

$(fanout_report)

$(spool_report)

Shutdown: EXIT answered "$exit_reply", bscd exit status $bscd_status; bscd says ${reached:-?} codes reached Redis,
  the generators were answered OK for $accepted_total ($( [[ "${reached:-}" == "$accepted_total" ]] && echo "all accounted for" || echo "MISMATCH"))
  bscd --no-history: exit status $nohist_status; ${nohist_reached} codes reached Redis, answered OK $nohist_accepted ($( [[ "$nohist_reached" == "$nohist_accepted" ]] && echo "all accounted for" || echo "MISMATCH"))
  (g)'s history writers: exit status $replay_status and $one_status; $replay_reached and $one_reached codes reached Redis

Targets
  bsc <= 2 ms per code                        as measured: $(verdict "$bsc_ms <= 2") ($bsc_ms ms mean, p50 $(field "$spawn" bsc_p50_ms); from bash $sh_bsc)
                                              above the process floor: $(verdict "$bsc_ms - $true_ms <= 2") ($(calc "$bsc_ms - $true_ms" %.3f) ms over /bin/true's $true_ms)
  >= 100,000 codes/s, persistent connections  $(verdict "$best_pipeline >= 100000") (best $best_pipeline at N=$best_n)
  p99 <= 1 ms at low load                     $(verdict "$p99 <= 1000") ($p99 us)
  bscd under 5 MB resident (VmRSS)            foreground: $(verdict "$idle_rss < 5120") at idle ($(mb "$idle_rss") MiB), $(verdict "$load_hwm < 5120") under load (peak $(mb "$load_hwm") MiB; $(mb "$over_hwm") after overload)
                                              bscd -d: $(verdict "$d_idle_rss < 5120") at idle ($(mb "$d_idle_rss") MiB), $(verdict "$d_load_hwm < 5120") under load (peak $(mb "$d_load_hwm") MiB)
EOF
