#!/usr/bin/env bash
# Cross-builds EdgeTable for a Raspberry Pi and runs the unit tests under qemu.
#
#   platforms/cross-test.sh arm64      Pi 3/4/5/Zero 2 W, 64-bit OS
#   platforms/cross-test.sh armhf      Pi 2 v1.1+/3/4/Zero 2 W, 32-bit OS (ARMv7)
#   platforms/cross-test.sh --clean ARCH   start from an empty build directory
#
# Steps: install the cross tools if one is missing (platforms/debian/install-deps.sh
# --cross), make or reuse the Debian 12 sysroot (platforms/cross/make-sysroot.sh),
# configure build-ARCH with platforms/toolchains/ARCH.cmake (tests on, benchmarks
# off, warnings as errors), build, print the target's data model and the stripped
# size of the binaries, then run `ctest -L unit` under qemu-user.
# The last line is ctest's summary; the exit status is ctest's (or 1 when the
# build failed and ctest did not notice).
#
# Environment: JOBS (parallel jobs, default 2), BUILD_TYPE (default
# RelWithDebInfo), BUILD_DIR (default <repo>/build-ARCH), EDGETABLE_SYSROOT
# (sysroot directory; default /var/cache/edgetable/sysroot-ARCH),
# CTEST_ARGS (extra ctest arguments, e.g. "-R base").
set -euo pipefail

say() { echo "cross-test: $*" >&2; }
die() { say "error: $*"; exit 2; }

clean=0
arch=""
for arg in "$@"; do
  case $arg in
    --clean) clean=1 ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    arm64|armhf) arch=$arg ;;
    *) die "unknown argument '$arg' (usage: cross-test.sh [--clean] arm64|armhf)" ;;
  esac
done
[[ -n $arch ]] || die "usage: cross-test.sh [--clean] arm64|armhf"

case $arch in
  arm64) triplet=aarch64-linux-gnu; qemu="qemu-aarch64"; want_time_t=8; want_long=8 ;;
  armhf) triplet=arm-linux-gnueabihf; qemu="qemu-arm"; want_time_t=4; want_long=4 ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
jobs=${JOBS:-2}
build_type=${BUILD_TYPE:-RelWithDebInfo}
build=${BUILD_DIR:-$root/build-$arch}
toolchain=$here/toolchains/$arch.cmake

t0=$SECONDS
declare -A took

# --- 1. Host tools: install only when one is missing --------------------------
tools=(cmake ninja pkg-config flatc "$triplet-g++" "$triplet-strip" "$qemu" mmdebstrap)
missing=()
for t in "${tools[@]}"; do
  command -v "$t" >/dev/null || missing+=("$t")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  say "missing host tools: ${missing[*]}; running platforms/debian/install-deps.sh --cross"
  "$here/debian/install-deps.sh" --cross
  for t in "${tools[@]}"; do
    command -v "$t" >/dev/null || die "$t is still missing after install-deps.sh --cross"
  done
fi
took[deps]=$((SECONDS - t0))

# --- 2. Sysroot ----------------------------------------------------------------
t=$SECONDS
if [[ -n ${EDGETABLE_SYSROOT:-} ]]; then
  sysroot=$("$here/cross/make-sysroot.sh" "$arch" "$EDGETABLE_SYSROOT" | tail -n1)
else
  sysroot=$("$here/cross/make-sysroot.sh" "$arch" | tail -n1)
fi
[[ -d $sysroot ]] || die "make-sysroot.sh did not produce a sysroot"
took[sysroot]=$((SECONDS - t))

# --- 3. Configure --------------------------------------------------------------
t=$SECONDS
if [[ $clean -eq 1 && -d $build ]]; then
  say "removing $build (--clean)"
  rm -rf "$build"
fi
# A cache from another toolchain or generator cannot be reused: start it over.
if [[ -f $build/CMakeCache.txt ]]; then
  if ! grep -qxF "CMAKE_TOOLCHAIN_FILE:FILEPATH=$toolchain" "$build/CMakeCache.txt" ||
     ! grep -qxF "CMAKE_GENERATOR:INTERNAL=Ninja" "$build/CMakeCache.txt"; then
    say "$build was configured differently; discarding its CMake cache"
    rm -rf "$build/CMakeCache.txt" "$build/CMakeFiles"
  fi
fi
say "configuring $build ($arch, $build_type)"
mkdir -p "$build"
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
  -DEDGETABLE_SYSROOT="$sysroot" \
  -DCMAKE_BUILD_TYPE="$build_type" \
  -DEDGETABLE_BUILD_TESTS=ON \
  -DEDGETABLE_BUILD_BENCH=OFF \
  -DEDGETABLE_WERROR=ON >"$build/cross-configure.log" 2>&1 || {
    cat "$build/cross-configure.log" >&2
    die "cmake configure failed (log above)"
  }
took[configure]=$((SECONDS - t))

# --- 4. Build ------------------------------------------------------------------
t=$SECONDS
say "building with $jobs jobs"
build_rc=0
# -k 0: build everything that can be built, so that the tests of healthy
# modules still run when one module does not compile for this target.
cmake --build "$build" -j "$jobs" -- -k 0 || build_rc=$?
took[build]=$((SECONDS - t))
if [[ $build_rc -ne 0 ]]; then
  say "BUILD FAILED for $arch (exit $build_rc); the tests that were built still run"
fi

# --- 5. Target facts: data model under qemu ------------------------------------
facts_bin=$build/cross-target-facts
"$triplet-gcc" --sysroot="$sysroot" -O2 -Wall -Wextra -Werror \
  -o "$facts_bin" "$here/cross/target_facts.c"
facts=$("$qemu" -L "$sysroot" "$facts_bin")
say "target $arch: $facts"
facts_ok=1
[[ $facts == *"sizeof(time_t)=$want_time_t "* ]] || facts_ok=0
[[ $facts == *"sizeof(long)=$want_long "* ]] || facts_ok=0
if [[ $facts_ok -eq 0 ]]; then
  say "unexpected data model for $arch: wanted sizeof(time_t)=$want_time_t sizeof(long)=$want_long"
  build_rc=1
fi

# --- 6. Footprint: stripped sizes ----------------------------------------------
strip_dir=$build/stripped
mkdir -p "$strip_dir"
bins=()
[[ -x $build/edge/app/edgetable ]] && bins+=("$build/edge/app/edgetable")
[[ -x $build/tests/edge/base/base_test ]] && bins+=("$build/tests/edge/base/base_test")
for b in "${bins[@]}"; do
  name=$(basename "$b")
  "$triplet-strip" -o "$strip_dir/$name" "$b"
  say "footprint $arch: $name $(stat -c %s "$b") bytes, stripped $(stat -c %s "$strip_dir/$name") bytes"
done

# --- 7. Unit tests under qemu --------------------------------------------------
t=$SECONDS
say "running ctest -L unit under $qemu"
ctest_log=$build/cross-ctest.log
set +e
# shellcheck disable=SC2086  # CTEST_ARGS is split on purpose
(cd "$build" && ctest -L unit --output-on-failure -j "$jobs" ${CTEST_ARGS:-}) 2>&1 |
  tee "$ctest_log"
ctest_rc=${PIPESTATUS[0]}
set -e
took[test]=$((SECONDS - t))

summary=$(grep -E 'tests passed|No tests were found' "$ctest_log" | tail -n1 || true)
[[ -n $summary ]] || summary="ctest printed no summary (exit $ctest_rc)"
say "times for $arch (s): deps ${took[deps]}, sysroot ${took[sysroot]}, configure ${took[configure]}," \
    "build ${took[build]}, tests ${took[test]}, total $((SECONDS - t0))"
rc=$ctest_rc
if [[ $rc -eq 0 && $build_rc -ne 0 ]]; then
  rc=1
  summary="$summary (but the build or the data-model check failed)"
fi
echo "$arch: $summary"
exit "$rc"
