#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang in build-fuzz/ and
# runs each for SECONDS (default 60), starting from a copy of its committed
# corpus (tests/fuzz/corpus/<target>/, never written to) with its dictionary.
# Crash inputs go to build-fuzz/artifacts/<target>/, with the target's log.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]
# Exit status 1 if any target found a crash, a leak, a timeout or a broken
# property; the message says how to reproduce it.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $(basename "$0") [SECONDS_PER_TARGET]  (a positive number of seconds)" >&2
  exit 2
fi
build_dir=build-fuzz
targets=(fuzz_request fuzz_catalog fuzz_gateway_http)

if ! command -v clang++ >/dev/null; then
  echo "$(basename "$0"): clang++ not found: scripts/install-deps.sh installs it" >&2
  exit 1
fi
# Not scripts/build.sh: it builds every program, and the fuzz build needs the
# targets only (their libraries instrumented by tests/fuzz/CMakeLists.txt).
echo "== building the fuzz targets in $build_dir (clang)"
# A unity build, as the sanitizer builds: a third less CPU.
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DBSCD_WERROR=ON -DCMAKE_UNITY_BUILD=ON \
  -DBSCD_BUILD_FUZZERS=ON -DBSCD_BUILD_TESTS=OFF -DBSCD_BUILD_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j2 --target fuzzers

work=$(mktemp -d "${TMPDIR:-/tmp}/bscd-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

failed=()
for target in "${targets[@]}"; do
  corpus=$work/$target
  artifacts=$build_dir/artifacts/$target
  log=$artifacts/fuzz.log
  mkdir -p "$artifacts"
  cp -R "tests/fuzz/corpus/$target" "$corpus"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
           -artifact_prefix="$artifacts/" -print_final_stats=1)
  [[ -f tests/fuzz/$target.dict ]] && options+=(-dict="tests/fuzz/$target.dict")

  echo "== $target: ${seconds} s"
  status=0
  "$build_dir/bin/$target" "${options[@]}" "$corpus" >"$log" 2>&1 || status=$?

  # libFuzzer's figures: its last status line (cov, ft) and its final stats.
  runs=$(awk '/^stat::number_of_executed_units:/ { print $2 }' "$log")
  speed=$(awk '/^stat::average_exec_per_sec:/ { print $2 }' "$log")
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || true)
  files=$(find "$corpus" -type f | wc -l)
  echo "   ${runs:-?} runs, ${speed:-?} exec/s, ${cov:-cov: ?}, corpus $files files"

  if ((status != 0)); then
    failed+=("$target")
    crash=$(grep -o 'Test unit written to .*' "$log" | tail -1 | sed 's/^Test unit written to //' || true)
    echo "$(basename "$0"): $target failed (exit status $status); the end of its log ($log):" >&2
    grep -v -E '^(#[0-9]+|stat::)' "$log" | tail -40 >&2
    if [[ -n "$crash" ]]; then
      echo "   input: $crash" >&2
      echo "   reproduce: $build_dir/bin/$target $crash" >&2
      echo "   minimize:  $build_dir/bin/$target -minimize_crash=1 -runs=100000 $crash" >&2
    fi
  fi
done

if ((${#failed[@]} > 0)); then
  echo "$(basename "$0"): failed: ${failed[*]}" >&2
  exit 1
fi
echo "== fuzzing: no failures in ${#targets[@]} targets, ${seconds} s each"
