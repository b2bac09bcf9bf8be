# Every third-party library, found once. All come from Debian 12 packages
# (platforms/debian/install-deps.sh); nothing is vendored or downloaded.
# Each is linked PRIVATE to the one module that wraps it (STYLE.md, section 2).

find_package(Threads REQUIRED)
find_package(SQLite3 REQUIRED)                         # edge/storage
find_package(nlohmann_json 3.10 REQUIRED)              # edge/item (JSON)
find_package(spdlog REQUIRED)                          # edge/base (logging)
find_package(tomlplusplus REQUIRED)                    # edge/app (config)
find_package(CLI11 REQUIRED)                           # edge/app (command line)
find_package(CURL REQUIRED)                            # sync/transport
find_package(PahoMqttCpp REQUIRED)                     # edge/ingest
find_package(zstd REQUIRED)                            # sync (batch compression)

# libsystemd: sd_notify (readiness, watchdog, reload) for the systemd unit.
# No CMake package; pkg-config finds it, also in the cross sysroots.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)  # edge/app

# FlatBuffers: header-only at run time; flatc runs on the build host, also when
# cross-compiling (the toolchain files search programs on the host only).
find_path(FLATBUFFERS_INCLUDE_DIR flatbuffers/flatbuffers.h REQUIRED)
find_program(FLATC_EXECUTABLE flatc REQUIRED)
add_library(edgetable_flatbuffers INTERFACE)
target_include_directories(edgetable_flatbuffers SYSTEM INTERFACE ${FLATBUFFERS_INCLUDE_DIR})
add_library(edgetable::flatbuffers_headers ALIAS edgetable_flatbuffers)

# mbedTLS 2.28 ships no CMake package: three libraries, found by name.
find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h REQUIRED)
find_library(MBEDTLS_LIBRARY mbedtls REQUIRED)
find_library(MBEDX509_LIBRARY mbedx509 REQUIRED)
find_library(MBEDCRYPTO_LIBRARY mbedcrypto REQUIRED)
add_library(edgetable_mbedtls INTERFACE)
target_include_directories(edgetable_mbedtls SYSTEM INTERFACE ${MBEDTLS_INCLUDE_DIR})
target_link_libraries(edgetable_mbedtls INTERFACE
  ${MBEDTLS_LIBRARY} ${MBEDX509_LIBRARY} ${MBEDCRYPTO_LIBRARY})
add_library(MbedTLS::mbedtls ALIAS edgetable_mbedtls)

# http-parser (Node.js's HTTP/1.1 parser): no CMake package either.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(edgetable_http_parser INTERFACE)
target_include_directories(edgetable_http_parser SYSTEM INTERFACE ${HTTP_PARSER_INCLUDE_DIR})
target_link_libraries(edgetable_http_parser INTERFACE ${HTTP_PARSER_LIBRARY})
add_library(HttpParser::http_parser ALIAS edgetable_http_parser)

if(EDGETABLE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
