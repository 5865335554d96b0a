#!/usr/bin/env bash
# Fails on an include that breaks the layering of docs/architecture.md
# ("Layers"): each directory of src/ may include only its own headers and
# those of the layers below it. The build enforces most of it (a library's
# include path holds only its own layer and those it links: cmake/Layers.cmake);
# this says the whole rule in one table, including what linking lets
# through (bsc links Redis, which logs, but bsc itself does not log).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [core]="core"
  [logging]="logging"
  [redis]="core logging redis"
  [common]="core redis common"
  [server]="core logging redis common server"
  [client]="core redis common client"
  [gateway]="core logging redis common gateway"
  [apps]="core logging redis common server client gateway"
)

status=0
while IFS= read -r file; do
  layer=${file#src/}
  layer=${layer%%/*}
  if [[ -z "${allowed[$layer]+set}" ]]; then
    echo "$file: src/$layer is not a layer of scripts/check-layers.sh" >&2
    status=1
    continue
  fi
  while IFS=: read -r line include; do
    target=${include#*\"}
    target=${target%%\"*}
    if [[ "$target" != */* || "$target" == ../* || "$target" == */../* ]]; then
      echo "$file:$line: #include \"$target\": name a layer (\"core/...\"), not a relative path" >&2
      status=1
      continue
    fi
    if [[ " ${allowed[$layer]} " != *" ${target%%/*} "* ]]; then
      echo "$file:$line: $layer may not include \"$target\" (it may include: ${allowed[$layer]})" >&2
      status=1
    fi
  done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
done < <(git ls-files 'src/*.cpp' 'src/*.hpp' 'src/*.in')
# A source file is compiled once, by its own target: never included (and
# scripts/lint.sh, whose batches include every file, relies on it).
while IFS= read -r found; do
  echo "$found: includes a source file, not a header" >&2
  status=1
done < <(git grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^>"]*\.(c|cc|cpp|cxx)[>"]' \
  -- src tests bench || true)
if ((status == 0)); then
  echo "== layers: every include of src/ is of its own layer or one below; no source includes a .cpp"
fi
exit "$status"
