#!/usr/bin/env bash
# Checks the sources against the repo's .clang-format and .clang-tidy, the
# shell scripts with shellcheck, and the layering of src/ (check-layers.sh).
# Usage: scripts/lint.sh [--analyze] [BUILD_DIR]  (a configured build, for
# compile_commands.json)
#
# clang-tidy's static analyzer (clang-analyzer-*) costs three quarters of
# clang-tidy's time, most of it in the Asio and Beast layers: about half an
# hour of CPU, more than the test command's budget allows. So by default it
# runs on src/core (the pure logic, seconds per unit), and every other check
# runs everywhere; --analyze runs the analyzer on every unit too (before an
# issue is resolved).
set -euo pipefail
cd "$(dirname "$0")/.."
analyze_everywhere=false
if [[ "${1:-}" == --analyze ]]; then
  analyze_everywhere=true
  shift
fi
build_dir=${1:-build}

mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'bench/*.hpp')
echo "== clang-format: ${#sources[@]} files"
clang-format --dry-run -Werror "${sources[@]}"

mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
echo "== shellcheck: ${#scripts[@]} scripts"
shellcheck "${scripts[@]}"

scripts/check-layers.sh

tidy() {  # tidy [clang-tidy options...] < units: findings to stdout
  # stderr only counts the warnings it suppressed in headers.
  xargs -P2 -n4 clang-tidy -p "$build_dir" --quiet "$@" \
    2> >(grep -v -E '^[0-9]+ warnings? generated\.$' >&2)
}
mapfile -t core_units < <(git ls-files 'src/core/*.cpp')
mapfile -t other_units < <(git ls-files 'src/*.cpp' ':!:src/core/*')
# The tests, but not the fuzzers: they are only in the fuzz build's
# compile_commands.json (clang, a build directory of its own). Not bench/
# either: about 7 s of CPU a unit, as for a test, for code CI never runs.
mapfile -t test_units < <(git ls-files 'tests/*.cpp' ':!:tests/fuzz/*')
echo "== clang-tidy: ${#core_units[@]} units of src/core, every check"
printf '%s\n' "${core_units[@]}" | tidy
if $analyze_everywhere; then
  echo "== clang-tidy: ${#other_units[@]} other units, every check"
  printf '%s\n' "${other_units[@]}" | tidy
else
  echo "== clang-tidy: ${#other_units[@]} other units, all but clang-analyzer-* (--analyze for it)"
  printf '%s\n' "${other_units[@]}" | tidy --checks='-clang-analyzer-*'
fi
# The tests: the same checks as the programs outside core (tests/.clang-tidy
# lets GoogleTest's PrintTo be), each unit once.
echo "== clang-tidy: ${#test_units[@]} units of tests, all but clang-analyzer-*"
printf '%s\n' "${test_units[@]}" | tidy --checks='-clang-analyzer-*'
