# CMake toolchain: Raspberry Pi on a 32-bit OS (Raspberry Pi OS 32-bit
# bookworm, Debian 12 armhf): Pi 2 v1.1 and later, 3, 4, Zero 2 W, with Debian
# 12's arm-linux-gnueabihf cross compiler and a sysroot from
# platforms/cross/make-sysroot.sh armhf.
#
#   cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=platforms/toolchains/armhf.cmake
#
# Debian's armhf baseline, stated explicitly: ARMv7-A, VFPv3-D16, hard-float
# ABI, Thumb-2. ARMv6 boards (Pi 1, Zero, Zero W) cannot run it. time_t and
# long are 32 bits here. Tests run under qemu-arm emulating a Cortex-A7 (Pi 2).

set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(EDGETABLE_CROSS_ARCH armhf)
set(EDGETABLE_CROSS_TRIPLET arm-linux-gnueabihf)
set(EDGETABLE_CROSS_QEMU qemu-arm)
set(EDGETABLE_CROSS_QEMU_CPU cortex-a7)
# -Wno-psabi: GCC notes that the passing of some structs changed in GCC 7.1;
# everything here is built by GCC 12, so the note is noise in every build log.
set(CMAKE_C_FLAGS_INIT "-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb -Wno-psabi")
set(CMAKE_CXX_FLAGS_INIT "-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb -Wno-psabi")
include(${CMAKE_CURRENT_LIST_DIR}/linux-gnu-cross.cmake)
