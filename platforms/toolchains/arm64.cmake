# CMake toolchain: Raspberry Pi on a 64-bit OS (Raspberry Pi OS 64-bit
# bookworm, Debian 12 arm64): Pi 3, 4, 5, Zero 2 W, with Debian 12's
# aarch64-linux-gnu cross compiler and a sysroot from
# platforms/cross/make-sysroot.sh arm64.
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/arm64.cmake
#
# Code is built for the ARMv8.0-A baseline (Cortex-A53 of the Pi 3 and Zero 2 W);
# tests run under qemu-aarch64 emulating a Cortex-A53.

set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(EDGETABLE_CROSS_ARCH arm64)
set(EDGETABLE_CROSS_TRIPLET aarch64-linux-gnu)
set(EDGETABLE_CROSS_QEMU qemu-aarch64)
set(EDGETABLE_CROSS_QEMU_CPU cortex-a53)
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
