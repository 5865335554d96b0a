#!/usr/bin/env bash
# Checks the sources against the repo's .clang-format and .clang-tidy, and
# the shell scripts with shellcheck.
# Usage: scripts/lint.sh [BUILD_DIR]  (a configured build, for compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}

mapfile -t sources < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'bench/*.hpp')
echo "== clang-format: ${#sources[@]} files"
clang-format --dry-run -Werror "${sources[@]}"

mapfile -t scripts < <(git ls-files '*.sh' .ci/run)
echo "== shellcheck: ${#scripts[@]} scripts"
shellcheck "${scripts[@]}"

mapfile -t units < <(git ls-files 'src/*.cpp')
echo "== clang-tidy: ${#units[@]} translation units"
# Findings go to stdout; stderr only counts the warnings it suppressed in headers.
printf '%s\n' "${units[@]}" | xargs -P2 -n4 clang-tidy -p "$build_dir" --quiet \
  2> >(grep -v -E '^[0-9]+ warnings? generated\.$' >&2)
