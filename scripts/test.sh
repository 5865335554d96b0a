#!/usr/bin/env bash
# Installs what is needed, builds, and runs every test:
#   0. lint: clang-format and clang-tidy (scripts/lint.sh);
#   1. the plain build: unit tests, integration tests (real redis-server,
#      real bscd/bsc processes), packaging tests, and the real example image
#      build (label `image`: root and a Debian archive);
#   2. the libFuzzer targets of tests/fuzz (request parser, catalog parser,
#      the gateway's HTTP request handling), built with clang, 60 s each from
#      their committed corpora (scripts/fuzz.sh);
#   3. the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer,
#      but the image builds: minutes of debootstrap and apt that run the same
#      bscd and bsc paths as the integration tests;
#   4. the integration tests (event loop, sockets, the test proxy's thread)
#      under ThreadSanitizer.
# `scripts/test.sh --quick` runs step 1 without the long tests (labels `image`
# and `load`): the edit loop.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=false
[[ "${1:-}" == "--quick" ]] && quick=true

# Each step's wall time is printed as it ends, and all of them at the end:
# the README's test command has a budget (45 min on a fresh machine).
started=$SECONDS
step_started=$SECONDS
step_times=()
step() {  # step NAME: ends the step before it, under that one's name
  local took=$((SECONDS - step_started))
  step_times+=("$(printf '%-28s %4d s' "$1" "$took")")
  echo "== step '$1' took ${took} s"
  step_started=$SECONDS
}
report_times() {
  echo "== time per step"
  printf '   %s\n' "${step_times[@]}"
  echo "   total                        $((SECONDS - started)) s"
}
trap report_times EXIT

scripts/install-deps.sh --tests
step "install"

run_suite() {  # run_suite BUILD_DIR [ctest arguments...]
  local dir=$1; shift
  echo "== tests in $dir"
  ctest --test-dir "$dir" --output-on-failure --timeout 300 -j2 "$@"
  echo "== slowest tests in $dir (seconds)"
  sort -k3 -g -r "$dir/Testing/Temporary/CTestCostData.txt" 2>/dev/null |
    awk 'NF == 3 { printf "   %7.1f  %s\n", $3, $1 }' | head -15
}

scripts/build.sh build
step "build"
if $quick; then
  run_suite build -LE "image|load"
  step "tests (quick)"
  exit 0
fi
scripts/lint.sh build
step "lint"
run_suite build
step "tests"

scripts/fuzz.sh 60
step "fuzz"

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
scripts/build.sh build-asan -DBSCD_SANITIZE=address,undefined -DBSCD_BUILD_BENCH=OFF
step "build (ASan+UBSan)"
run_suite build-asan -LE image
step "tests (ASan+UBSan)"

export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
scripts/build.sh build-tsan -DBSCD_SANITIZE=thread -DBSCD_BUILD_BENCH=OFF
step "build (TSan)"
run_suite build-tsan -L integration
step "tests (TSan)"
