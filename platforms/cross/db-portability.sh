#!/usr/bin/env bash
# Checks that a database written on one architecture opens and reads the same
# on the others: every writer in ARCHES writes a database, every reader opens a
# copy of each and verifies it, and all must print the same digest.
#
#   platforms/cross/db-portability.sh [--sqlite] [--keep-wal] [ARCH...]
#
# ARCH is host, arm64 or armhf (default: all three). Each is run natively or
# under qemu-user with its sysroot (/var/cache/edgetable/sysroot-ARCH, or
# EDGETABLE_SYSROOT_ARM64 / EDGETABLE_SYSROOT_ARMHF).
#
# The program: EdgeTable's fixture, <build>/tests/cross/db_portability, where
# <build> is $HOST_BUILD_DIR (default build), build-arm64 or build-armhf, made
# by the usual build and by platforms/cross-test.sh. Its command line:
#     db_portability write DIR [--keep-wal]  -> prints "... digest HEX", exit 0
#     db_portability verify DIR              -> prints "... digest HEX", exit 0/1
# With --sqlite, or when that program is not built for every ARCH, the
# stand-in platforms/cross/sqlite_portability.c (plain SQLite, same command
# line) is compiled for each ARCH and used instead, and the script says so.
# --keep-wal: writers leave their last commits in the -wal file.
#
# Exit status: 0 when every pair verified with equal digests, 1 otherwise,
# 2 on a usage or setup error.
set -euo pipefail

say() { echo "db-portability: $*" >&2; }
die() { say "error: $*"; exit 2; }

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

use_sqlite=0
keep_wal=()
arches=()
for arg in "$@"; do
  case $arg in
    --sqlite) use_sqlite=1 ;;
    --keep-wal) keep_wal=(--keep-wal) ;;
    host|arm64|armhf) arches+=("$arg") ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (see --help)" ;;
  esac
done
[[ ${#arches[@]} -gt 0 ]] || arches=(host arm64 armhf)

declare -A triplet=([arm64]=aarch64-linux-gnu [armhf]=arm-linux-gnueabihf)
declare -A qemu=([arm64]=qemu-aarch64 [armhf]=qemu-arm)
declare -A sysroot=(
  [arm64]=${EDGETABLE_SYSROOT_ARM64:-/var/cache/edgetable/sysroot-arm64}
  [armhf]=${EDGETABLE_SYSROOT_ARMHF:-/var/cache/edgetable/sysroot-armhf}
)
build_dir() {
  case $1 in
    host) echo "${HOST_BUILD_DIR:-$root/build}" ;;
    *) echo "$root/build-$1" ;;
  esac
}

work=$(mktemp -d /tmp/edgetable-db-portability.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Which program each architecture runs.
declare -A prog
if [[ $use_sqlite -eq 0 ]]; then
  for a in "${arches[@]}"; do
    p=$(build_dir "$a")/tests/cross/db_portability
    if [[ -x $p ]]; then
      prog[$a]=$p
    else
      say "no EdgeTable fixture at $p"
      use_sqlite=1
    fi
  done
  [[ $use_sqlite -eq 0 ]] ||
    say "falling back to the plain-SQLite stand-in for every architecture (see --help)"
fi
if [[ $use_sqlite -eq 1 ]]; then
  for a in "${arches[@]}"; do
    out=$work/bin/sqlite_portability-$a
    mkdir -p "$work/bin"
    if [[ $a == host ]]; then
      cc=gcc sysroot_flag=()
    else
      cc=${triplet[$a]}-gcc sysroot_flag=(--sysroot="${sysroot[$a]}")
      [[ -d ${sysroot[$a]} ]] || die "no $a sysroot: run platforms/cross/make-sysroot.sh $a"
    fi
    "$cc" "${sysroot_flag[@]}" -O2 -Wall -Wextra -Werror -o "$out" \
      "$here/sqlite_portability.c" -lsqlite3 || die "cannot compile the stand-in for $a"
    prog[$a]=$out
  done
fi

run() {  # run ARCH ARGS...: the fixture, natively or under qemu
  local a=$1
  shift
  if [[ $a == host ]]; then
    "${prog[$a]}" "$@"
  else
    "${qemu[$a]}" -L "${sysroot[$a]}" "${prog[$a]}" "$@"
  fi
}
digest_of() { sed -n 's/.*digest \([0-9a-fA-F]*\).*/\1/p' <<<"$1" | tail -n1; }

failures=0
declare -A digest
for w in "${arches[@]}"; do
  mkdir -p "$work/from-$w"
  if out=$(run "$w" write "$work/from-$w" "${keep_wal[@]}" 2>&1); then
    digest[$w]=$(digest_of "$out")
    say "write  $w: ${out##*$'\n'}"
  else
    say "write  $w: FAILED: $out"
    failures=$((failures + 1))
  fi
done

reference=""
printf '%-8s' "writer" >&2
printf '%-14s' "${arches[@]/#/read on }" >&2
echo >&2
for w in "${arches[@]}"; do
  printf '%-8s' "$w" >&2
  for r in "${arches[@]}"; do
    cell="-"
    if [[ -n ${digest[$w]:-} ]]; then
      copy=$work/$w-to-$r
      cp -a "$work/from-$w" "$copy"
      if out=$(run "$r" verify "$copy" 2>&1); then
        d=$(digest_of "$out")
        [[ -n $reference ]] || reference=$d
        if [[ $d == "${digest[$w]}" && $d == "$reference" ]]; then
          cell="ok"
        else
          cell="DIGEST"
          failures=$((failures + 1))
          echo >&2
          say "$w -> $r: digest $d, writer's ${digest[$w]}, reference $reference"
        fi
      else
        cell="FAIL"
        failures=$((failures + 1))
        echo >&2
        say "$w -> $r: $out"
      fi
    fi
    printf '%-14s' "$cell" >&2
  done
  echo >&2
done

kind="EdgeTable fixture"
[[ $use_sqlite -eq 0 ]] || kind="plain-SQLite stand-in"
if [[ $failures -eq 0 ]]; then
  echo "db-portability: OK: ${#arches[@]}x${#arches[@]} write/read pairs agree (${kind}${keep_wal:+, WAL kept})"
  exit 0
fi
echo "db-portability: FAILED: $failures problem(s) (${kind})"
exit 1
