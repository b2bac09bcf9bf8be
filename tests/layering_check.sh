#!/usr/bin/env bash
# Checks the module layering of STYLE.md against the source tree:
#  (1) a module includes only EdgeTable headers of modules to its left;
#  (2) a third-party library's headers are included only by the one module
#      that wraps it;
#  (3) no module includes another module's internal/ headers.
# Prints every violation as FILE:LINE and exits 1 if there is any.
set -uo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# module dir -> modules it may include (itself implied)
declare -A allowed=(
  [edge/base]=""
  [edge/item]="edge/base"
  [edge/clock]="edge/base"
  [edge/net]="edge/base"
  [sync/transport]="edge/base"
  [edge/expr]="edge/base edge/item"
  [edge/wire]="edge/base edge/item edge/clock"
  [edge/storage]="edge/base edge/item edge/clock edge/wire"
  [edge/api]="edge/base edge/item edge/clock edge/wire edge/expr edge/storage edge/net"
  [edge/ingest]="edge/base edge/item edge/clock edge/wire edge/storage edge/net"
  [sync/protocol]="edge/base edge/item edge/clock edge/wire edge/storage edge/net sync/transport"
  [edge/app]="*"
)
# third-party include prefix -> the module that owns it
declare -A door=(
  ["sqlite3.h"]=edge/storage
  ["mqtt/"]=edge/ingest
  ["MQTTAsync.h"]=edge/ingest
  ["MQTTClient.h"]=edge/ingest
  ["mbedtls/"]=edge/net
  ["psa/"]=edge/net
  ["http_parser.h"]=edge/net
  ["curl/"]=sync/transport
  ["flatbuffers/"]=edge/wire
  ["schemas/"]=edge/wire
  ["nlohmann/"]=edge/item
  ["toml++/"]=edge/app
  ["CLI/"]=edge/app
  ["spdlog/"]=edge/base
  ["systemd/"]=edge/app
)
# zstd is used by sync as a whole (transport compresses, protocol sizes batches)
zstd_ok="sync/transport sync/protocol"

module_of() {
  local f=$1 m
  for m in "${!allowed[@]}"; do
    [[ $f == "$m"/* ]] && { echo "$m"; return; }
  done
}

fail=0
while IFS= read -r f; do
  mod=$(module_of "$f")
  [[ -z $mod ]] && continue
  while IFS=: read -r line inc; do
    hdr=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^>"]+)[>"].*/\1/' <<<"$inc")
    if [[ $hdr == edge/* || $hdr == sync/* ]]; then
      target=$(module_of "$hdr")
      [[ -z $target ]] && continue
      if [[ $target != "$mod" ]]; then
        if [[ ${allowed[$mod]} != "*" && " ${allowed[$mod]} " != *" $target "* ]]; then
          echo "$f:$line: $mod may not include $hdr (module $target is not to its left)"; fail=1
        fi
        if [[ $hdr == */internal/* ]]; then
          echo "$f:$line: $hdr is internal to $target"; fail=1
        fi
      fi
      continue
    fi
    if [[ $hdr == zstd.h ]]; then
      [[ " $zstd_ok " == *" $mod "* ]] || { echo "$f:$line: zstd.h belongs to sync"; fail=1; }
      continue
    fi
    for p in "${!door[@]}"; do
      if [[ $hdr == "$p"* && ${door[$p]} != "$mod" ]]; then
        echo "$f:$line: <$hdr> belongs to ${door[$p]}, not $mod"; fail=1
      fi
    done
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include' "$f" | sed -E 's/^([0-9]+):/\1:/')
done < <(find edge sync -type f \( -name '*.h' -o -name '*.cc' \) 2>/dev/null | sort)

if [[ $fail -ne 0 ]]; then
  echo "layering check: FAILED"
  exit 1
fi
echo "layering check: ok"
