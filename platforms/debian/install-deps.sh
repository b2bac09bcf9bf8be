#!/usr/bin/env bash
# Installs every Debian 12 package EdgeTable needs to build, test and run.
# Idempotent: safe to run again; apt-get skips what is already installed.
#
#   platforms/debian/install-deps.sh            build + test + run
#   platforms/debian/install-deps.sh --cross    also the arm64/armhf cross toolchains and qemu-user
#
# Must run as root (or through sudo). Nothing is downloaded outside Debian's archive.
set -euo pipefail

cross=0
for arg in "$@"; do
  case $arg in
    --cross) cross=1 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

if [[ $(id -u) -ne 0 ]]; then
  exec sudo "$0" "$@"
fi

build=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libsqlite3-dev sqlite3
  libflatbuffers-dev flatbuffers-compiler
  libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev   # Paho's CMake package needs the OpenSSL headers
  libmbedtls-dev libcurl4-openssl-dev libzstd-dev
  libhttp-parser-dev
  libsystemd-dev                                    # sd_notify: readiness and watchdog under systemd
  nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev
)
test=(
  mosquitto mosquitto-clients
  python3 python3-boto3 python3-pytest python3-paho-mqtt awscli
  openssl iproute2 procps psmisc curl
  python3-prometheus-client systemd               # /metrics parser; systemd-analyze verify of the unit
  lintian mmdebstrap file                          # tests/package: lintian, the throwaway chroot
)
crossbuild=(
  g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user mmdebstrap
)

pkgs=("${build[@]}" "${test[@]}")
[[ $cross -eq 1 ]] && pkgs+=("${crossbuild[@]}")

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
# The broker is started by whoever needs it (tests, the demo); the distribution's
# system-wide instance would hold port 1883, so it is not left running.
if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
  systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi
echo "install-deps: ${#pkgs[@]} packages present"
