#!/usr/bin/env bash
# Configures and builds bscd. Usage: scripts/build.sh [BUILD_DIR] [extra cmake arguments...]
# Warnings are errors. BUILD_DIR defaults to build/. TARGETS (environment,
# space-separated) builds only those targets and what they depend on.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
cmake -S . -B "$build_dir" -G Ninja -DBSCD_WERROR=ON "$@" >/dev/null
read -r -a targets <<<"${TARGETS:-}"
cmake --build "$build_dir" -j2 ${targets[@]+--target "${targets[@]}"}
