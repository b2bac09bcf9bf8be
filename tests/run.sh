#!/usr/bin/env bash
# Installs everything, builds EdgeTable warning-free with AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs every test; then cross-builds for arm64
# and runs the unit tests under qemu. This is the README's test command and
# exactly what CI runs (.ci/run). The closing line is ctest's summary.
#
#   bash tests/run.sh             everything (as root on Debian 12)
#   SKIP_CROSS=1 bash tests/run.sh  skip the arm64 cross build
#   JOBS=N                          parallel build jobs (default: nproc)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}
build=${BUILD_DIR:-$root/build-ci}

step() { printf '\n==> %s\n' "$*"; }

step "installing dependencies (Debian packages)"
cross_flag=--cross
[[ ${SKIP_CROSS:-0} == 1 ]] && cross_flag=
bash platforms/debian/install-deps.sh $cross_flag

cross_rc=0
if [[ ${SKIP_CROSS:-0} != 1 && -x platforms/cross-test.sh ]]; then
  step "arm64: cross-build and unit tests under qemu"
  JOBS=$jobs bash platforms/cross-test.sh arm64 || cross_rc=$?
  [[ $cross_rc -ne 0 ]] && echo "arm64 cross tests FAILED (exit $cross_rc)"
fi

step "building with ASan + UBSan, warnings as errors"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGETABLE_SANITIZE=ON -DEDGETABLE_WERROR=ON -DEDGETABLE_BUILD_BENCH=ON >"$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
cmake --build "$build" -j "$jobs"

step "running the tests"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
test_rc=0
ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 900 || test_rc=$?
if [[ $cross_rc -ne 0 ]]; then
  echo "arm64 cross tests FAILED (exit $cross_rc); see above"
  exit "$cross_rc"
fi
exit "$test_rc"
