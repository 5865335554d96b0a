#!/usr/bin/env bash
# Installs every Debian package bscd needs to build and run its demo; with
# --tests also what the tests need beyond that: a headless browser and the
# npm packages of tests/browser (playwright-core drives Debian's chromium).
# Idempotent: what is present is left alone. Needs root (or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
with_tests=false
[[ "${1:-}" == "--tests" ]] && with_tests=true

PACKAGES=(
  # toolchain; clang with libclang-rt-14-dev (libFuzzer, the sanitizers'
  # runtimes) also builds the fuzz targets of scripts/fuzz.sh
  build-essential cmake ninja-build pkg-config git
  clang clang-format clang-tidy libclang-rt-14-dev
  # libraries (docs/architecture.md, "Dependencies")
  libboost1.81-dev libhiredis-dev libcli11-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server redis-tools procps tmux util-linux shellcheck
  # the example image build (examples/debian-image) and Pieman's program names
  debootstrap dosfstools mtools fdisk e2fsprogs python3
)
if $with_tests; then
  # the page's browser test; openssl computes tokens independently of the
  # gateway; systemd-analyze checks the installed units; nginx (the binary
  # with the core modules) proxies several gateways (docs/proxy.md)
  PACKAGES+=(chromium fonts-liberation fonts-dejavu-core openssl systemd nginx)
  command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)
fi

install_browser_test_packages() {
  $with_tests || return 0
  local dir=tests/browser
  # npm ci only when the lock file changed since the last install.
  if [ ! -f "$dir/node_modules/.package-lock.json" ] ||
     [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  install_browser_test_packages
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_browser_test_packages
