# Shared part of EdgeTable's Raspberry Pi toolchain files (arm64.cmake,
# armhf.cmake); not meant to be used on its own. The including file sets
# EDGETABLE_CROSS_ARCH (Debian architecture), EDGETABLE_CROSS_TRIPLET,
# EDGETABLE_CROSS_QEMU, EDGETABLE_CROSS_QEMU_CPU and CMAKE_SYSTEM_PROCESSOR.
#
# Compilers: Debian 12's cross g++ (<triplet>-g++), used with --sysroot.
# Sysroot:   EDGETABLE_SYSROOT (-D or environment), by default
#            /var/cache/edgetable/sysroot-<arch>, made by
#            platforms/cross/make-sysroot.sh <arch>.
# Searches:  programs (flatc, pkg-config, qemu) on the build host only;
#            headers, libraries, CMake packages and .pc files in the sysroot only.
# Tests:     CMAKE_CROSSCOMPILING_EMULATOR runs every test binary under
#            qemu-user with -L <sysroot>, so plain `ctest` works.

set(CMAKE_SYSTEM_NAME Linux)

# try_compile() projects re-read this file: hand them the chosen sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EDGETABLE_SYSROOT EDGETABLE_QEMU_CPU)

if(NOT EDGETABLE_SYSROOT)
  if(DEFINED ENV{EDGETABLE_SYSROOT} AND NOT "$ENV{EDGETABLE_SYSROOT}" STREQUAL "")
    set(EDGETABLE_SYSROOT "$ENV{EDGETABLE_SYSROOT}")
  else()
    set(EDGETABLE_SYSROOT "/var/cache/edgetable/sysroot-${EDGETABLE_CROSS_ARCH}")
  endif()
endif()
set(EDGETABLE_SYSROOT "${EDGETABLE_SYSROOT}" CACHE PATH
    "Debian 12 ${EDGETABLE_CROSS_ARCH} sysroot (platforms/cross/make-sysroot.sh ${EDGETABLE_CROSS_ARCH})")
if(NOT EXISTS "${EDGETABLE_SYSROOT}/usr/include/stdio.h")
  message(FATAL_ERROR
    "No ${EDGETABLE_CROSS_ARCH} sysroot at ${EDGETABLE_SYSROOT}.\n"
    "Make one with: platforms/cross/make-sysroot.sh ${EDGETABLE_CROSS_ARCH} [DIR]\n"
    "and pass -DEDGETABLE_SYSROOT=DIR if it is not the default location.")
endif()

set(CMAKE_C_COMPILER ${EDGETABLE_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${EDGETABLE_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${EDGETABLE_CROSS_TRIPLET})
set(CMAKE_SYSROOT "${EDGETABLE_SYSROOT}")

set(CMAKE_FIND_ROOT_PATH "${EDGETABLE_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)   # flatc, pkg-config: host tools
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)    # <sysroot>/usr/lib/<triplet>/cmake, <sysroot>/usr/share/cmake

# pkg-config: the host's binary, reading only the sysroot's .pc files and
# prefixing the paths they print with the sysroot.
find_program(PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EDGETABLE_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${EDGETABLE_SYSROOT}/usr/lib/${EDGETABLE_CROSS_TRIPLET}/pkgconfig:${EDGETABLE_SYSROOT}/usr/share/pkgconfig:${EDGETABLE_SYSROOT}/usr/lib/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# Tests run under user-mode qemu, emulating the oldest CPU of the supported
# Pi models (EDGETABLE_QEMU_CPU overrides; "max" enables every feature).
if(NOT EDGETABLE_QEMU_CPU)
  set(EDGETABLE_QEMU_CPU ${EDGETABLE_CROSS_QEMU_CPU})
endif()
find_program(EDGETABLE_QEMU ${EDGETABLE_CROSS_QEMU})
if(EDGETABLE_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR
      "${EDGETABLE_QEMU};-L;${EDGETABLE_SYSROOT};-cpu;${EDGETABLE_QEMU_CPU}")
else()
  message(WARNING "${EDGETABLE_CROSS_QEMU} not found (Debian package qemu-user): "
                  "the build works, but ctest cannot run the ${EDGETABLE_CROSS_ARCH} tests here")
endif()
