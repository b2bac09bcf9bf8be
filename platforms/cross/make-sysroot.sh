#!/usr/bin/env bash
# Builds a Debian 12 (bookworm) sysroot for cross-compiling EdgeTable to a
# Raspberry Pi, with every -dev package the build needs, for ARCH arm64 or armhf.
#
#   platforms/cross/make-sysroot.sh ARCH [DIR]     build, or reuse, the sysroot
#   platforms/cross/make-sysroot.sh --force ARCH [DIR]   rebuild even if complete
#
# DIR defaults to $EDGETABLE_SYSROOT_CACHE/sysroot-ARCH, where
# EDGETABLE_SYSROOT_CACHE defaults to /var/cache/edgetable. The last line of
# output is the sysroot's path. Mirrors: EDGETABLE_DEBIAN_MIRROR (default
# http://deb.debian.org/debian) and EDGETABLE_SECURITY_MIRROR (default
# http://deb.debian.org/debian-security).
#
# How: mmdebstrap --variant=extract resolves the packages and unpacks them
# without running anything, so no multiarch, no dpkg --add-architecture and no
# version skew between host and target packages. If a suite's index cannot be
# fetched (a mirror in the middle of a sync answers "File has unexpected
# size"), it tries again without bookworm-security, then without
# bookworm-updates, and says so. Absolute symlinks inside the sysroot are made
# relative so that they resolve inside it. A stamp file records the package
# list and the suites used; a sysroot with a matching stamp is reused as is.
set -euo pipefail

prog=make-sysroot
say() { echo "$prog: $*" >&2; }
die() { say "error: $*"; exit 1; }

force=0
args=()
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$arg' (see --help)" ;;
    *) args+=("$arg") ;;
  esac
done
[[ ${#args[@]} -ge 1 && ${#args[@]} -le 2 ]] || die "usage: make-sysroot.sh [--force] arm64|armhf [DIR]"

arch=${args[0]}
case $arch in
  arm64) triplet=aarch64-linux-gnu ;;
  armhf) triplet=arm-linux-gnueabihf ;;
  *) die "unknown architecture '$arch' (arm64 or armhf)" ;;
esac
cache=${EDGETABLE_SYSROOT_CACHE:-/var/cache/edgetable}
dir=${args[1]:-$cache/sysroot-$arch}
dir=$(realpath -m -- "$dir")
[[ $dir != / ]] || die "refusing to use / as a sysroot"

suite=bookworm
mirror=${EDGETABLE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${EDGETABLE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# What the build links against, plus the C++ runtime. Keep in step with the
# build list of platforms/debian/install-deps.sh. libssl-dev: Paho C++'s CMake
# package looks for OpenSSL. libsystemd-dev: sd_notify for the systemd unit.
packages=(
  libc6-dev libstdc++-12-dev
  libsqlite3-dev
  libpaho-mqttpp-dev libpaho-mqtt-dev libssl-dev
  libmbedtls-dev libcurl4-openssl-dev libzstd-dev libhttp-parser-dev
  nlohmann-json3-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libflatbuffers-dev
  libgtest-dev libgmock-dev
  libsystemd-dev
)
package_list=$(printf '%s\n' "${packages[@]}" | sort -u | paste -sd, -)
stamp_name=.edgetable-sysroot
stamp=$dir/$stamp_name

# One builder per sysroot at a time: a second run waits, then reuses its result.
mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
if ! flock -n 9; then
  say "another make-sysroot.sh is building $dir; waiting for it"
  flock 9
fi

# --- Reuse a complete sysroot ---------------------------------------------------
if [[ $force -eq 0 && -f $stamp ]]; then
  if grep -qxF "arch=$arch" "$stamp" && grep -qxF "packages=$package_list" "$stamp"; then
    suites_used=$(sed -n 's/^suites=//p' "$stamp")
    say "reusing $dir ($arch; suites: $suites_used)"
    if grep -q '^fallback=' "$stamp"; then
      say "note: it was built without some suites: $(sed -n 's/^fallback=//p' "$stamp")"
      say "      run with --force to try the full set again"
    fi
    echo "$dir"
    exit 0
  fi
  say "package list or architecture changed: rebuilding $dir"
fi

command -v mmdebstrap >/dev/null ||
  die "mmdebstrap is missing: run platforms/debian/install-deps.sh --cross"

# Never delete a directory that is not a sysroot this script made.
if [[ -e $dir ]]; then
  if [[ -f $stamp || -f $dir/.edgetable-sysroot-partial ]] || [[ -d $dir && -z $(ls -A "$dir") ]]; then
    :
  else
    die "$dir exists and is not an EdgeTable sysroot; choose another DIR or remove it yourself"
  fi
fi

work=$dir.tmp.$$
log=$work.log
cleanup() { rm -rf "$work"; rm -f "$log"; }
trap cleanup EXIT

# Each attempt: a label, then the suites to use. Later attempts drop suites.
try_build() {
  local -a sources=("deb $mirror $suite main")
  local s
  for s in "$@"; do
    case $s in
      updates) sources+=("deb $mirror $suite-updates main") ;;
      security) sources+=("deb $security_mirror $suite-security main") ;;
    esac
  done
  rm -rf "$work"
  mkdir -p "$work"
  touch "$work/.edgetable-sysroot-partial"
  mmdebstrap --variant=extract --architectures="$arch" --skip=check/empty,check/qemu \
    --include="$package_list" "$suite" "$work" "${sources[@]}" >"$log" 2>&1
}

start=$SECONDS
say "building the $arch sysroot in $dir (Debian $suite: ${#packages[@]} packages and their dependencies)"
suites_used=""
fallback=""
if try_build updates security; then
  suites_used="$suite $suite-updates $suite-security"
else
  reason=$(grep -E -m3 'unexpected size|Hash Sum mismatch|Failed to fetch|^E:' "$log" || tail -n3 "$log")
  say "WARNING: mmdebstrap failed with $suite-security included:"
  sed 's/^/    /' <<<"$reason" >&2
  say "WARNING: falling back to $suite + $suite-updates WITHOUT $suite-security;"
  say "         the sysroot may lack the latest security updates (headers/ABI are unchanged within Debian 12)"
  fallback="$suite-security skipped ($(head -n1 <<<"$reason" | cut -c1-160))"
  if try_build updates; then
    suites_used="$suite $suite-updates"
  else
    reason=$(grep -E -m3 'unexpected size|Hash Sum mismatch|Failed to fetch|^E:' "$log" || tail -n3 "$log")
    say "WARNING: failed again:"
    sed 's/^/    /' <<<"$reason" >&2
    say "WARNING: falling back to $suite only (no -updates, no -security)"
    fallback="$suite-updates and $suite-security skipped ($(head -n1 <<<"$reason" | cut -c1-160))"
    if try_build; then
      suites_used="$suite"
    else
      say "mmdebstrap failed with $suite alone too; its log:"
      tail -n 30 "$log" >&2
      die "could not build the $arch sysroot (network or mirror problem?)"
    fi
  fi
fi

# --- Make absolute symlinks relative, so they resolve inside the sysroot -------
# The cross linker re-roots paths in linker scripts (libc.so) under --sysroot,
# but not the targets of symlinks, and qemu -L does not follow them either.
fixed=0
while IFS= read -r -d '' link; do
  target=$(readlink -- "$link")
  [[ $target == /* ]] || continue
  rel=$(realpath -s -m --relative-to="$(dirname -- "$link")" -- "$work$target")
  ln -sfn -- "$rel" "$link"
  fixed=$((fixed + 1))
done < <(find "$work" -type l -print0)
say "made $fixed absolute symlinks relative"

# Every symlink under the library and include directories must resolve inside
# the sysroot (others, e.g. /etc/alternatives or docs, may dangle harmlessly).
broken=()
while IFS= read -r -d '' link; do
  real=$(realpath -m -- "$link")
  if [[ ! -e $real || $real != "$work"/* ]]; then
    broken+=("${link#"$work"} -> $(readlink -- "$link")")
  fi
done < <(find "$work/usr/lib" "$work/lib" "$work/usr/include" -type l -print0 2>/dev/null)
if [[ ${#broken[@]} -gt 0 ]]; then
  say "symlinks that do not resolve inside the sysroot:"
  printf '    %s\n' "${broken[@]}" >&2
  die "broken library symlinks in the $arch sysroot"
fi

# --- Sanity: what a cross link and qemu need ---------------------------------
case $arch in
  arm64) loader=lib/ld-linux-aarch64.so.1 ;;
  armhf) loader=lib/ld-linux-armhf.so.3 ;;
esac
for f in "$loader" "usr/lib/$triplet/libc.so" "usr/lib/$triplet/crt1.o" \
         "usr/lib/$triplet/libsqlite3.so" "usr/lib/$triplet/libgtest.a" \
         "usr/include/flatbuffers/flatbuffers.h"; do
  [[ -e $work/$f ]] || die "the $arch sysroot lacks /$f"
done

{
  echo "# EdgeTable cross sysroot, made by platforms/cross/make-sysroot.sh"
  echo "arch=$arch"
  echo "triplet=$triplet"
  echo "suites=$suites_used"
  [[ -z $fallback ]] || echo "fallback=$fallback"
  echo "packages=$package_list"
  echo "created=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$work/$stamp_name"
rm -f "$work/.edgetable-sysroot-partial"

# Swap the finished tree in; a half-made sysroot never carries a stamp.
if [[ -e $dir ]]; then
  rm -rf "$dir"
fi
mv "$work" "$dir"
say "done in $((SECONDS - start)) s: $dir ($(du -sh "$dir" | cut -f1); suites: $suites_used)"
[[ -z $fallback ]] || say "WARNING: built with a fallback: $fallback"
echo "$dir"
