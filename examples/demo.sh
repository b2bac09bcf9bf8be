#!/usr/bin/env bash
# The EdgeTable demo: installs what is needed (Debian 12, as root), builds,
# and runs a node on examples/edge.toml until Ctrl-C.
#
#   bash examples/demo.sh                 run until Ctrl-C
#   bash examples/demo.sh --check SECS    run for SECS seconds, then stop and
#                                         fail unless the node served and
#                                         stopped cleanly (used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
check=0
case ${1:-} in
  --check) check=${2:?--check needs a number of seconds} ;;
  "") ;;
  *) echo "usage: examples/demo.sh [--check SECONDS]" >&2; exit 2 ;;
esac

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

say "installing dependencies (Debian packages; quiet unless something fails)"
bash platforms/debian/install-deps.sh

say "building (Release) in build-demo/"
cmake -S . -B build-demo -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DEDGETABLE_BUILD_TESTS=OFF -DEDGETABLE_BUILD_BENCH=OFF >/dev/null
cmake --build build-demo -j "$(nproc)" | sed -u 's/^/    /'
bin=$root/build-demo/edge/app/edgetable
"$bin" version

data=$root/data
say "starting the node: data in $data, API on 127.0.0.1:8000"
"$bin" serve --config examples/edge.toml --data-dir "$data" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT INT TERM

if [[ $check -gt 0 ]]; then
  sleep "$check"
  kill -0 $pid || { echo "demo: the node died" >&2; exit 1; }
  kill -TERM $pid
  wait $pid
  trap - EXIT INT TERM
  say "demo check passed"
  exit 0
fi
say "running; press Ctrl-C to stop"
wait $pid
