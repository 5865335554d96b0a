#!/usr/bin/env bash
# The main job: installs what is needed, builds bscd, then builds a real
# Debian disk image with examples/debian-image/build.sh with the channel on:
# a private redis-server (unless REDIS_HOST/REDIS_PORT are set), bscd started
# by the build itself through share/bscd/bsc.sh, bscd-gateway serving the
# build's page (its address is printed), and `bsc watch` showing the progress
# here. The private Redis keeps its data in build/debian-image/redis/, so a
# second run of the same kind of image shows an estimate learnt from the
# first. Needs root (debootstrap, chroot) and access to a Debian archive.
#
# The image's parameters are build.sh's (see examples/debian-image/README.md),
# e.g. INCLUDES=less,vim-tiny, KERNEL=none, CREATE_ONLY_CHROOT=true; the
# result goes to build/debian-image/<project>/.
set -euo pipefail
cd "$(dirname "$0")/.."
me=$(basename "$0")
if [[ $EUID -ne 0 ]]; then
  echo "$me: needs root: debootstrap, chroot and the package scripts in the chroot do;" \
       "run it as root (sudo $0)" >&2
  exit 2
fi
scripts/install-deps.sh
echo "== building bsc, bscd and bscd-gateway into build/ (a few minutes the first time)"
# Only the programs the build runs: scripts/test.sh builds the tests.
TARGETS="bsc bscd bscd-gateway" scripts/build.sh build >/dev/null
bin=$PWD/build/bin

export PROJECT_NAME=${PROJECT_NAME:-debian-$(date +%Y%m%d-%H%M%S)}
export BUILD_DIR=${BUILD_DIR:-$PWD/build/debian-image/$PROJECT_NAME}
export PACKAGE_CACHE=${PACKAGE_CACHE:-$PWD/build/debian-image/package-cache}
export ENABLE_BSC_CHANNEL=true BSCD_BIN_DIR=$bin
mkdir -p "$PACKAGE_CACHE"
# build.sh's own lines; the tools' output goes to $BUILD_DIR/build.log.
log=$PWD/build/debian-image/$PROJECT_NAME.out
export BSCD_LOG_FILE=${BSCD_LOG_FILE:-$PWD/build/debian-image/$PROJECT_NAME.bscd.log}

work=$(mktemp -d /tmp/bscd-image.XXXXXX)
# shellcheck source=scripts/lib/services.sh
. scripts/lib/services.sh
build_pid=""
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  # Ctrl-C reaches the build too; it sends 1001 and cleans up: let it finish.
  if [[ -n "$build_pid" ]]; then wait "$build_pid" 2>/dev/null || true; fi
  stop_services
  rm -rf "$work"
}
trap cleanup EXIT

# Redis keeps what bscd learnt (each kind of build's stage times) between
# runs: the second run of the same kind is told how long it will take.
start_redis "$PWD/build/debian-image/redis"
start_gateway
echo "== the build's page: $gateway_url/projects/$PROJECT_NAME"
echo "== building the image of project $PROJECT_NAME in $BUILD_DIR (its log: $log)"

examples/debian-image/build.sh >"$log" 2>&1 &
build_pid=$!
# From the history on, so nothing is missed whenever it starts; it ends by
# itself after the final code (1000 or 1001).
"$bin/bsc" watch "$PROJECT_NAME" &
watch_pid=$!

status=0
wait "$build_pid" || status=$?
build_pid=""
if ((status == 2)); then
  # Refused before it started (not root, no archive, a bad parameter): no
  # code will come for the watch to end on.
  kill "$watch_pid" 2>/dev/null || true
else
  # The final code reached Redis before the build returned: the watch shows
  # it and ends by itself.
  for _ in {1..100}; do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
  kill "$watch_pid" 2>/dev/null || true
fi
wait "$watch_pid" 2>/dev/null || true

if ((status != 0)); then
  echo "== the build failed (exit status $status); the end of its log:" >&2
  tail -n 25 "$log" >&2
else
  echo "== the build's last lines ($log):"
  tail -n 6 "$log"
fi
if [[ -t 0 ]]; then
  read -r -p "== the page stays at $gateway_url/projects/$PROJECT_NAME until you press Enter " _
fi
exit "$status"
