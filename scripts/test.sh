#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test:
#   0. lint: clang-format, shellcheck and clang-tidy (scripts/lint.sh);
#   1. the plain build: unit tests, integration tests (real redis-server,
#      real bscd/bsc processes), packaging tests, the Sentinel and Cluster
#      topology tests and the short chaos run, the load test, and the real
#      example image build (label `image`: root and a Debian archive);
#   2. the libFuzzer targets of tests/fuzz (request parser, catalog parser,
#      the gateway's HTTP request handling), built with clang, 30 s each from
#      their committed corpora (scripts/fuzz.sh);
#   3. the whole suite again with the programs built under AddressSanitizer +
#      UndefinedBehaviorSanitizer, but the image builds (minutes of
#      debootstrap and apt that run the same bscd and bsc paths as the
#      integration tests), the packaging tests and the load test;
#   4. the integration and fault tests (event loop, sockets) with the
#      programs built under ThreadSanitizer.
# The sanitizer builds make only the programs and the unit tests: the other
# tests drive real bscd, bsc and bscd-gateway processes, so the plain
# build's test binaries run the sanitized programs (BSCD_TEST_BIN_DIR), and
# the unit tests run the libraries in-process under ASan+UBSan.
# `scripts/test.sh --quick` runs step 1 without the long tests (labels
# `image`, `load` and `chaos`): the edit loop.
#
# The README's test command has a budget: 35 minutes on a fresh two-core
# machine, and it is bound by the CPU: three builds, the fuzzers and
# clang-tidy are most of it. What keeps it there (docs/performance.md, "The
# test command's time", has the figures):
# - spdlog and fmt are compiled once (src/logging/log_library.cpp), not in
#   every file that logs; the test builds keep line tables only (-g1; the
#   sanitizer builds also -O1): reports still name file and line.
# - The test programs' own files are compiled at -O0 (tests/CMakeLists.txt):
#   what they test keeps its optimisation.
# - The sanitizer builds are unity builds (CMAKE_UNITY_BUILD): the Asio and
#   Beast templates the files of a library share are instantiated and
#   instrumented once per batch, not once per file. The plain build is not,
#   so a file that lacks an include still fails there.
# - clang-tidy checks most files in batches (scripts/lint.sh): the headers
#   a batch shares are walked once, not once per file. The fuzz build is a
#   unity build too.
# - Only what a pass runs is built: not the benchmarks (bench/run.sh builds
#   them), and in the sanitizer builds only the programs and unit tests.
# - The image builds, a serial chain of about 12 minutes that mostly waits
#   on the Debian archive and dpkg, start as soon as bsc, bscd and their test
#   program are built, and run beside the rest of the build and the suite.
# - What only needs the CPU runs niced in the background while a test suite
#   leaves it idle (topology tests wait on failover timers): the ASan build
#   during the plain suite, the TSan build during the ASan suite, the
#   fuzzers and lint during the TSan suite.
#   Each background job's log is printed when it is collected; a failure
#   there fails the run.
# Each step's wall time is printed as it ends, and all of them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
[[ "${1:-}" == "--quick" ]] && quick=true

started=$SECONDS
step_started=$SECONDS
step_times=()
step() {  # step NAME: ends the step that began at the last call
  local took=$((SECONDS - step_started))
  step_times+=("$(printf '%-44s %5d s' "$1" "$took")")
  echo "== step '$1' took ${took} s"
  step_started=$SECONDS
}
report_times() {
  echo "== time per step (background jobs ran beside the step they overlap)"
  printf '   %s\n' "${step_times[@]}"
  printf '   %-44s %5d s\n' "total" "$((SECONDS - started))"
}
trap 'stop_background; report_times' EXIT

run_suite() {  # run_suite BUILD_DIR [ctest arguments...]
  local dir=$1; shift
  echo "== tests in $dir"
  ctest --test-dir "$dir" --output-on-failure --timeout 300 -j2 "$@"
  echo "== slowest tests in $dir (seconds)"
  # awk stops printing, not reading: `head` would end the pipe (SIGPIPE, and
  # pipefail would end the run).
  sort -k3 -g -r "$dir/Testing/Temporary/CTestCostData.txt" |
    awk 'NF == 3 && shown++ < 15 { printf "   %7.1f  %s\n", $3, $1 }' 
}

# background NAME [--nice] COMMAND...: runs it beside the steps that follow,
# its output in a log of its own; --nice gives the CPU to the foreground.
declare -A job_pid=() job_log=()
background() {
  local name=$1 niceness=0
  shift
  if [[ "$1" == --nice ]]; then
    niceness=19
    shift
  fi
  job_log[$name]=$(mktemp "${TMPDIR:-/tmp}/bscd-test-background.XXXXXX")
  local job_started=$SECONDS
  set -m  # a process group of its own: stop_background ends all of it
  (
    renice -n "$niceness" -p "$BASHPID" >/dev/null  # a subshell: "$@" may be a function
    "$@"
    echo "== background job '$name' took $((SECONDS - job_started)) s"
  ) >"${job_log[$name]}" 2>&1 &
  job_pid[$name]=$!
  set +m
}
# On the way out (a failed step): no build, test or lint left running.
stop_background() {
  local name
  for name in "${!job_pid[@]}"; do
    if kill -0 "${job_pid[$name]}" 2>/dev/null; then
      kill -TERM -- "-${job_pid[$name]}" 2>/dev/null || true
    fi
    rm -f "${job_log[$name]}"
  done
}
# collect NAME: waits for the background job; its log, and its status.
collect() {
  local name=$1 status=0
  wait "${job_pid[$name]}" || status=$?
  echo "== background job '$name' (exit $status):"
  cat "${job_log[$name]}"
  rm -f "${job_log[$name]}"
  unset "job_pid[$name]" "job_log[$name]"
  if ((status != 0)); then
    echo "== background job '$name' failed" >&2
    exit "$status"
  fi
}
programs="bsc bscd bscd-gateway"
asan_build() {
  TARGETS="$programs unit_tests" \
    scripts/build.sh build-asan -DBSCD_SANITIZE=address,undefined "${sanitizer_flags[@]}"
}

scripts/install-deps.sh --tests
step "install"

plain_flags=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DBSCD_BUILD_BENCH=OFF)
sanitizer_flags=(-DBSCD_BUILD_BENCH=OFF -DCMAKE_UNITY_BUILD=ON)
if $quick; then
  scripts/build.sh build "${plain_flags[@]}"
  step "build"
  run_suite build -LE "image|load|chaos"
  step "tests (quick)"
  exit 0
fi

TARGETS="bsc bscd image_build_tests" scripts/build.sh build "${plain_flags[@]}"
step "build of the image builds' programs"
background "image builds" run_suite build -L image
scripts/build.sh build "${plain_flags[@]}"
step "rest of the build (image builds behind)"

background "build (ASan+UBSan)" --nice asan_build
run_suite build -LE image
step "tests (image builds and ASan build behind)"
collect "image builds"
step "rest of the image builds"
collect "build (ASan+UBSan)"
step "rest of ASan build"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
background "build (TSan)" --nice env TARGETS="$programs" \
  scripts/build.sh build-tsan -DBSCD_SANITIZE=thread "${sanitizer_flags[@]}"
run_suite build-asan -L unit
# Not the image builds, the packaging tests (an install tree and a Debian
# package of sanitized programs tell nothing more) or the load test (a
# serial minute of both cores; its paths are the integration tests').
BSCD_TEST_BIN_DIR="$PWD/build-asan/bin" run_suite build -LE "unit|image|packaging|load"
step "tests (ASan+UBSan; TSan build behind)"
collect "build (TSan)"
step "rest of TSan build"

# Side by side: each fuzzer runs on one core, clang-tidy on both.
background "fuzzing" --nice scripts/fuzz.sh 30
background "lint" --nice scripts/lint.sh build
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
BSCD_TEST_BIN_DIR="$PWD/build-tsan/bin" run_suite build -L integration
step "tests (TSan; fuzzing and lint behind)"
collect "fuzzing"
step "rest of fuzzing"
collect "lint"
step "rest of lint"
