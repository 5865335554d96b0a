#!/usr/bin/env bash
# Checks the sources against the repo's .clang-format and .clang-tidy, the
# shell scripts with shellcheck, and the layering of src/ (check-layers.sh).
# Usage: scripts/lint.sh [--analyze] [BUILD_DIR]  (a configured build, for
# compile_commands.json)
#
# clang-tidy 14 runs every check over the whole translation unit, the
# standard library, GoogleTest, Asio and Beast included, and throws away what
# it found there only at the end: a test file of 200 lines costs 6 to 20 s of
# CPU, nearly all of it in headers. So most sources are checked in batches:
# the unity files of a unity build of the same tree (CMake writes them when
# it configures BUILD_DIR-lint; nothing is compiled there), eight files of
# one library or test program each, whose headers are then parsed and walked
# once per batch. That is about a third of the CPU of checking file by file,
# and finds what file by file finds, with three exceptions handled here:
# - misc-unused-using-decls and misc-unused-alias-decls look at the main
#   file only: they run file by file, on the files that have a
#   using-declaration or a namespace alias;
# - bugprone-suspicious-include would flag every batch (they include .cpp
#   files by design): it is off there, and check-layers.sh refuses a source
#   that includes a .cpp file;
# - clang's static analyzer (clang-analyzer-*) also looks at the main file
#   only, and costs three quarters of clang-tidy's time, most of it in the
#   Asio and Beast layers: it runs file by file on src/core (the pure logic,
#   seconds per file) and, with --analyze (before an issue is resolved), on
#   every other file of src/ too.
# A file that compiles only with the help of its batch is caught by the
# plain build, which compiles file by file.
set -euo pipefail
cd "$(dirname "$0")/.."
analyze_everywhere=false
if [[ "${1:-}" == --analyze ]]; then
  analyze_everywhere=true
  shift
fi
build_dir=${1:-build}
batch_dir=$build_dir-lint

mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'bench/*.hpp')
echo "== clang-format: ${#sources[@]} files"
clang-format --dry-run -Werror "${sources[@]}"

mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
echo "== shellcheck: ${#scripts[@]} scripts"
shellcheck "${scripts[@]}"

scripts/check-layers.sh

# The same tree as a unity build: only its compile_commands.json is read.
cmake -S . -B "$batch_dir" -G Ninja -DCMAKE_UNITY_BUILD=ON -DBSCD_BUILD_BENCH=OFF >/dev/null

tidy() {  # tidy COMPILE_COMMANDS_DIR [clang-tidy options...] < units: findings to stdout
  local dir=$1
  shift
  # One configuration for every unit, wherever CMake wrote its batch.
  # stderr only counts the warnings it suppressed in headers.
  xargs -P2 -n4 clang-tidy -p "$dir" --config-file="$PWD/.clang-tidy" --quiet "$@" \
    2> >(grep -v -E '^[0-9]+ warnings? generated\.$' >&2)
}
# The batches of every library but core's, and of every test program: not
# the fuzzers (only in the fuzz build, with clang) nor bench/ (CI never runs
# it).
mapfile -t batches < <(sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$batch_dir/compile_commands.json" |
  grep -v '/src/core/')
mapfile -t core_units < <(git ls-files 'src/core/*.cpp')
mapfile -t other_units < <(git ls-files 'src/*.cpp' ':!:src/core/*')
mapfile -t test_units < <(git ls-files 'tests/*.cpp' ':!:tests/fuzz/*')
# Files with a using-declaration ("using a::b;": not a using-directive or
# an alias of a type) or a namespace alias, for the two checks of the main
# file.
mapfile -t using_units < <(printf '%s\n' "${other_units[@]}" "${test_units[@]}" |
  xargs grep -l -P '\busing\s+(?!namespace\b)[^=;(){}]*::[^=;(){}]*;|\bnamespace\s+\w+\s*=')

echo "== clang-tidy: ${#core_units[@]} files of src/core, file by file, every check"
printf '%s\n' "${core_units[@]}" | tidy "$build_dir"
echo "== clang-tidy: the ${#other_units[@]} other files of src/ and ${#test_units[@]} of tests/" \
  "in ${#batches[@]} batches, all but clang-analyzer-*"
printf '%s\n' "${batches[@]}" |
  tidy "$batch_dir" --checks='-clang-analyzer-*,-bugprone-suspicious-include'
echo "== clang-tidy: ${#using_units[@]} files with a using-declaration or a namespace alias," \
  "file by file, the checks of the main file"
printf '%s\n' "${using_units[@]}" |
  tidy "$build_dir" --checks='-*,misc-unused-using-decls,misc-unused-alias-decls'
if $analyze_everywhere; then
  echo "== clang-tidy: the ${#other_units[@]} other files of src/, file by file, clang-analyzer-*"
  printf '%s\n' "${other_units[@]}" |
    tidy "$build_dir" --checks='-*,clang-analyzer-*,-clang-analyzer-optin.core.EnumCastOutOfRange'
fi
