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

scripts/install-deps.sh --tests

run_suite() {  # run_suite BUILD_DIR [ctest arguments...]
  local dir=$1; shift
  echo "== tests in $dir"
  ctest --test-dir "$dir" --output-on-failure --timeout 300 -j2 "$@"
}

scripts/build.sh build
if $quick; then
  run_suite build -LE "image|load"
  exit 0
fi
scripts/lint.sh build
run_suite build

scripts/fuzz.sh 60

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
scripts/build.sh build-asan -DBSCD_SANITIZE=address,undefined -DBSCD_BUILD_BENCH=OFF
run_suite build-asan -LE image

export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
scripts/build.sh build-tsan -DBSCD_SANITIZE=thread -DBSCD_BUILD_BENCH=OFF
run_suite build-tsan -L integration
