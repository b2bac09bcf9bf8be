# Debian package of EdgeTable, made by CPack (DEB generator), for the build's
# architecture: amd64 natively, arm64 and armhf with the toolchain files in
# platforms/toolchains. README, "Install on a Pi".
#
#   cmake -S . -B build-pkg -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-pkg -j2 --target edgetable
#   (cd build-pkg && cpack)            # -> build-pkg/edgetable_<version>-<release>_<arch>.deb
#
# `cpack` installs the already-built tree and packs it; it does not build
# (CMAKE_SKIP_INSTALL_ALL_DEPENDENCY below), so build `edgetable` first.
#
# Contents: /usr/bin/edgetable (stripped), /lib/systemd/system/edgetable.service,
# /etc/edgetable/edgetable.toml (conffile), /usr/share/man/man1/edgetable.1.gz,
# /usr/share/doc/edgetable/{copyright,changelog.Debian.gz,README.md}. The
# maintainer scripts (postinst, prerm, postrm) make and remove the user and
# the data directory /var/lib/edgetable. tests/package checks the result.

if(NOT TARGET edgetable)
  message(STATUS "packaging: no edgetable target, no Debian package")
  return()
endif()

set(EDGETABLE_DEB_RELEASE 1 CACHE STRING "Debian revision of the edgetable package (VERSION-RELEASE)")
set(EDGETABLE_DEB_MAINTAINER "EdgeTable maintainers <edgetable@example.org>" CACHE STRING
    "Maintainer field of the edgetable package")
set(EDGETABLE_DEB_DIR ${CMAKE_CURRENT_LIST_DIR})

# Debian architecture of the binary: the toolchain file's for a cross build.
if(CMAKE_CROSSCOMPILING)
  if(NOT EDGETABLE_CROSS_ARCH)
    message(FATAL_ERROR "packaging: cross build without EDGETABLE_CROSS_ARCH (use platforms/toolchains/*.cmake)")
  endif()
  set(EDGETABLE_DEB_ARCH ${EDGETABLE_CROSS_ARCH})
else()
  execute_process(COMMAND dpkg --print-architecture OUTPUT_VARIABLE EDGETABLE_DEB_ARCH
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    set(EDGETABLE_DEB_ARCH amd64)
  endif()
endif()

# The changelog's first entry names the version being packaged.
file(STRINGS ${EDGETABLE_DEB_DIR}/changelog EDGETABLE_DEB_CHANGELOG_HEAD LIMIT_COUNT 1)
if(NOT EDGETABLE_DEB_CHANGELOG_HEAD MATCHES "^edgetable \\(${PROJECT_VERSION}-${EDGETABLE_DEB_RELEASE}\\) ")
  message(WARNING "packaging: platforms/debian/changelog starts with '${EDGETABLE_DEB_CHANGELOG_HEAD}', "
                  "not version ${PROJECT_VERSION}-${EDGETABLE_DEB_RELEASE}: add an entry")
endif()

# Compressed as Debian wants them (gzip -9, no name or time stamp), made with
# the binary so that cpack finds them in a tree where only `edgetable` was built.
set(EDGETABLE_DEB_OUT ${CMAKE_BINARY_DIR}/platforms/debian)
add_custom_command(
  OUTPUT ${EDGETABLE_DEB_OUT}/edgetable.1.gz ${EDGETABLE_DEB_OUT}/changelog.Debian.gz
  COMMAND ${CMAKE_COMMAND} -E make_directory ${EDGETABLE_DEB_OUT}
  COMMAND sh -c "gzip -9n -c \"$0\" > \"$1\"" ${EDGETABLE_DEB_DIR}/edgetable.1 ${EDGETABLE_DEB_OUT}/edgetable.1.gz
  COMMAND sh -c "gzip -9n -c \"$0\" > \"$1\"" ${EDGETABLE_DEB_DIR}/changelog ${EDGETABLE_DEB_OUT}/changelog.Debian.gz
  DEPENDS ${EDGETABLE_DEB_DIR}/edgetable.1 ${EDGETABLE_DEB_DIR}/changelog
  COMMENT "Compressing the man page and the Debian changelog"
  VERBATIM)
add_custom_target(edgetable_deb_docs ALL
  DEPENDS ${EDGETABLE_DEB_OUT}/edgetable.1.gz ${EDGETABLE_DEB_OUT}/changelog.Debian.gz)
add_dependencies(edgetable edgetable_deb_docs)

# Install rules. The binary's own rule is in edge/app (DESTINATION bin). /etc
# and /lib are absolute: they stay there whatever the prefix. Staging by hand:
#   DESTDIR=$PWD/stage cmake --install build-pkg --prefix /usr
install(FILES ${PROJECT_SOURCE_DIR}/platforms/systemd/edgetable.service
        DESTINATION /lib/systemd/system)
install(FILES ${EDGETABLE_DEB_DIR}/edgetable.toml DESTINATION /etc/edgetable)
install(FILES ${EDGETABLE_DEB_DIR}/copyright ${EDGETABLE_DEB_OUT}/changelog.Debian.gz
              ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION share/doc/edgetable)
install(FILES ${EDGETABLE_DEB_OUT}/edgetable.1.gz DESTINATION share/man/man1)

# `install` and `cpack` use the tree as built instead of building every
# target (tests and benchmarks included) first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(CPACK_GENERATOR DEB)
set(CPACK_SOURCE_GENERATOR "")
set(CPACK_PACKAGE_NAME edgetable)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "EdgeTable")
set(CPACK_PACKAGE_CONTACT "${EDGETABLE_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # edgetable_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${EDGETABLE_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${EDGETABLE_DEB_ARCH})
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${EDGETABLE_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The synopsis is CPACK_PACKAGE_DESCRIPTION_SUMMARY; this is the long part.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "EdgeTable keeps tables on a gateway in SQLite and serves them over the
Amazon DynamoDB and DynamoDB Streams API, stores MQTT messages from the
local broker as items, and replicates changes to and from a hub over HTTPS.
This package runs it as the systemd service edgetable, as the system user
edgetable, with its configuration in /etc/edgetable and its data in
/var/lib/edgetable. The service is not enabled on installation.")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${EDGETABLE_DEB_DIR}/conffiles ${EDGETABLE_DEB_DIR}/postinst
    ${EDGETABLE_DEB_DIR}/prerm ${EDGETABLE_DEB_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Depends: dpkg-shlibdeps on the binary, plus adduser for postinst. It needs
# the target's dpkg database, which a cross sysroot (mmdebstrap
# --variant=extract) does not have: cross builds list the run-time packages
# of Debian 12 / Raspberry Pi OS bookworm explicitly (the same names on
# amd64, arm64 and armhf; the native package's Depends is the reference).
set(EDGETABLE_DEB_CROSS_DEPENDS
    "libc6 (>= 2.34), libcurl4 (>= 7.63.0), libfmt9 (>= 9.1.0+ds1), libgcc-s1 (>= 3.0), libhttp-parser2.9 (>= 2.9.2), libmbedcrypto7 (>= 2.28.0), libmbedtls14 (>= 2.28.0), libmbedx509-1 (>= 2.28.0), libpaho-mqtt1.3 (>= 1.3.0), libpaho-mqttpp3-1 (>= 1.2.0), libspdlog1.10-fmt9, libsqlite3-0 (>= 3.37.0), libstdc++6 (>= 12), libsystemd0, libtomlplusplus3 (>= 3.2.0), libzstd1 (>= 1.5.2)")
if(CMAKE_CROSSCOMPILING)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, ${EDGETABLE_DEB_CROSS_DEPENDS}")
else()
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
endif()

include(CPack)
