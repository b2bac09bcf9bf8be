#!/usr/bin/env bash
# Builds EdgeTable in Release, installs the peers (dynalite, DynamoDB Local)
# and runs tests/bench/api_bench against all of them. Prints the table.
#   tests/bench/run-api-bench.sh [--seconds S] [--clients 1,8]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build-bench}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGETABLE_BUILD_TESTS=ON >/dev/null
cmake --build "$build" -j "${JOBS:-2}" --target edgetable api_bench >/dev/null
eval "$(bash platforms/peers/install-peers.sh | grep -E '^(DYNALITE|DYNAMODB_LOCAL)=')"
exec "$build/tests/bench/api_bench" --edgetable "$build/edge/app/edgetable" \
  --dynalite "$DYNALITE" --dynamodb-local "$DYNAMODB_LOCAL" "$@"
