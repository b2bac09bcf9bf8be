#!/usr/bin/env bash
# Builds sync_bench in Release (only that target) and runs it; prints the table.
# Certificates are made by the benchmark itself with the openssl command line.
#   tests/bench/run-sync-bench.sh [--items N] [--devices N] [--idle-seconds S] [--put-rate R]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGETABLE_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target sync_bench >/dev/null
exec "$build/tests/bench/sync_bench" "$@"
