#!/usr/bin/env bash
# The chaos run of tests/chaos for longer than the test command's minute:
#   scripts/chaos.sh [SECONDS] [SEED]
# SECONDS of faults on each topology (default 600); SEED replays a schedule
# that a run printed. Builds build/ first. The figures of a long run go in
# docs/reliability.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh build
export BSCD_CHAOS_SECONDS=${1:-600}
[[ -n "${2:-}" ]] && export BSCD_CHAOS_SEED=$2
exec build/bin/chaos_tests
