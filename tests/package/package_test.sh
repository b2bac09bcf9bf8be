#!/usr/bin/env bash
# Checks the edgetable Debian package made by CPack from an already-built tree.
#
#   tests/package/package_test.sh BUILD_DIR SOURCE_DIR EDGETABLE_BIN
#
#  1. cpack -G DEB into a temporary directory (no build step).
#  2. Control fields and contents (dpkg-deb -I / -c): the binary, the unit,
#     the conffile (and its conffiles entry), the man page, the doc files,
#     nothing else; Depends has adduser and the shared libraries.
#  3. The man page names every subcommand and option of `edgetable --help`.
#  4. lintian: no error or warning besides platforms/debian/lintian-suppress.
#  5. In a throwaway Debian 12 chroot (mmdebstrap --variant=apt with the
#     package's Depends, cached as a tarball in EDGETABLE_PKGTEST_CACHE,
#     default /var/cache/edgetable): dpkg -i, the user and /var/lib/edgetable,
#     `edgetable --help`, `serve` on the default config as the user for a
#     moment, the service not enabled; reinstall keeps an edited conffile;
#     dpkg -r keeps config, data and user; dpkg -P removes them.
# Needs root (chroot). Without a cached chroot it needs a Debian mirror
# (EDGETABLE_DEBIAN_MIRROR, default http://deb.debian.org/debian).
set -euo pipefail

prog=package_test
say() { echo "$prog: $*"; }
die() { echo "$prog: FAIL: $*" >&2; exit 1; }
[[ $# -eq 3 ]] || die "usage: package_test.sh BUILD_DIR SOURCE_DIR EDGETABLE_BIN"
build=$(realpath "$1"); src=$(realpath "$2"); bin=$3
start=$SECONDS

[[ $(id -u) -eq 0 ]] || die "must run as root (dpkg -i into a chroot)"
for tool in cpack dpkg-deb lintian mmdebstrap chroot; do
  command -v "$tool" >/dev/null || die "$tool not found: run platforms/debian/install-deps.sh"
done
[[ -f $build/CPackConfig.cmake ]] || die "$build/CPackConfig.cmake missing: configure with the top CMakeLists.txt"
[[ -x $bin ]] || die "$bin missing: build the edgetable target first"

work=$(mktemp -d /var/tmp/edgetable-pkgtest.XXXXXX)
cleanup() {
  if [[ -n ${root:-} ]] && mountpoint -q "$root/proc" 2>/dev/null; then umount "$root/proc" || umount -l "$root/proc"; fi
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# --- 1. cpack ------------------------------------------------------------------
say "cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/out" --config "$build/CPackConfig.cmake") > "$work/cpack.log" 2>&1 \
  || { cat "$work/cpack.log"; die "cpack failed"; }
shopt -s nullglob
debs=("$work"/out/*.deb)
[[ ${#debs[@]} -eq 1 ]] || die "expected one .deb, got ${#debs[@]}"
deb=${debs[0]}
say "built $(basename "$deb") ($(stat -c %s "$deb") bytes, $((SECONDS - start)) s)"

# --- 2. control fields and contents --------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
arch=$(dpkg --print-architecture)
version=$(sed -n '1s/^edgetable (\([^)]*\)).*/\1/p' "$src/platforms/debian/changelog")
[[ $(field Package) == edgetable ]] || die "Package is '$(field Package)'"
[[ $(field Version) == "$version" ]] || die "Version $(field Version) differs from the changelog's $version"
[[ $(field Architecture) == "$arch" ]] || die "Architecture $(field Architecture), expected $arch"
depends=$(field Depends)
depends_names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/(.*)//; s/ //g' | grep . | sort -u)
for dep in adduser libc6 libstdc++6 libsqlite3-0 libsystemd0; do
  grep -qx -- "$dep" <<<"$depends_names" || die "Depends lacks $dep: $depends"
done
dpkg-deb -I "$deb" conffiles > "$work/conffiles" || die "no conffiles in the control archive"
[[ $(cat "$work/conffiles") == /etc/edgetable/edgetable.toml ]] || die "conffiles: $(cat "$work/conffiles")"
for script in postinst prerm postrm; do
  dpkg-deb -I "$deb" "$script" >/dev/null || die "no $script in the control archive"
done

dpkg-deb -c "$deb" > "$work/contents"
# Regular files: mode, owner and path, exactly these.
awk '$1 !~ /^d/ {print $1, $2, $6}' "$work/contents" | sort > "$work/files"
cat > "$work/files.expected" <<'LIST'
-rw-r--r-- root/root ./etc/edgetable/edgetable.toml
-rw-r--r-- root/root ./lib/systemd/system/edgetable.service
-rw-r--r-- root/root ./usr/share/doc/edgetable/README.md
-rw-r--r-- root/root ./usr/share/doc/edgetable/changelog.Debian.gz
-rw-r--r-- root/root ./usr/share/doc/edgetable/copyright
-rw-r--r-- root/root ./usr/share/man/man1/edgetable.1.gz
-rwxr-xr-x root/root ./usr/bin/edgetable
LIST
sort -o "$work/files.expected" "$work/files.expected"
diff -u "$work/files.expected" "$work/files" || die "package files differ from the list above (- expected, + found)"
dpkg-deb -x "$deb" "$work/x"
file -b "$work/x/usr/bin/edgetable" | grep -q ', stripped' || die "/usr/bin/edgetable is not stripped"
grep -q '^data_dir = "/var/lib/edgetable"' "$work/x/etc/edgetable/edgetable.toml" || die "default config: data_dir"
grep -q '^listen = "127.0.0.1:8000"' "$work/x/etc/edgetable/edgetable.toml" || die "default config: api.listen"
say "contents ok: $(wc -l < "$work/files") files, Depends: $depends"

# --- 3. the man page covers --help ----------------------------------------------
man=$(zcat "$work/x/usr/share/man/man1/edgetable.1.gz" | sed 's/\\-/-/g')
subcommands=$("$bin" --help | awk '/^Subcommands:/ {on=1; next} on && NF {print $1}')
[[ -n $subcommands ]] || die "edgetable --help lists no subcommands"
missing=()
for opt in $("$bin" --help | grep -oE -- '--[a-z][a-z-]*' | sort -u); do
  grep -qe "$opt" <<<"$man" || missing+=("$opt")
done
for sub in $subcommands; do
  grep -q "^\.SS $sub\$" <<<"$man" || missing+=("subcommand $sub")
  for opt in $("$bin" "$sub" --help | grep -oE -- '(^|[ ,])-(-[a-z][a-z-]*|[a-z])\b' | tr -d ' ,' | sort -u); do
    grep -qe "$opt" <<<"$man" || missing+=("$sub $opt")
  done
done
[[ ${#missing[@]} -eq 0 ]] || die "platforms/debian/edgetable.1 lacks: ${missing[*]}"
say "man page names every subcommand ($(xargs <<<"$subcommands")) and option"

# --- 4. lintian --------------------------------------------------------------------
suppress=$(sed 's/#.*//' "$src/platforms/debian/lintian-suppress" | xargs | tr ' ' ,)
say "lintian (suppressed: ${suppress:-none})"
lintian_args=(--fail-on "error,warning" --tag-display-limit 0)
[[ -n $suppress ]] && lintian_args+=(--suppress-tags "$suppress")
lintian "${lintian_args[@]}" "$deb" || die "lintian reported the tags above"

# --- 5. install, remove and purge in a chroot -------------------------------------
mirror=${EDGETABLE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${EDGETABLE_PKGTEST_CACHE:-/var/cache/edgetable}
# The Depends, first alternatives, without versions: installed in the cached
# chroot so that dpkg -i needs no network. The cache is keyed by that list.
include=$(tr ',' '\n' <<<"$depends" | sed 's/|.*//; s/(.*)//; s/ //g' | grep . | sort -u | paste -sd, -)
include="$include,init-system-helpers"
key=$(printf '%s %s\n' "$arch" "$include" | sha256sum | cut -c1-12)
tarball=$cache/pkgtest-bookworm-$arch-$key.tar
mkdir -p "$cache"
exec 9>"$cache/pkgtest.lock"
flock 9
if [[ ! -f $tarball ]]; then
  say "no cached chroot $tarball: mmdebstrap --variant=apt bookworm (about a minute)"
  if ! curl -fsS --max-time 15 -o /dev/null "$mirror/dists/bookworm/Release"; then
    die "no network: cannot reach $mirror to make the Debian 12 chroot (EDGETABLE_DEBIAN_MIRROR sets the mirror; a cached chroot in $cache avoids the network)"
  fi
  t0=$SECONDS
  mmdebstrap --quiet --variant=apt --format=tar --architectures="$arch" --include="$include" \
    bookworm "$tarball.tmp" "$mirror" > "$work/mmdebstrap.log" 2>&1 \
    || { tail -20 "$work/mmdebstrap.log"; rm -f "$tarball.tmp"; die "mmdebstrap failed"; }
  mv "$tarball.tmp" "$tarball"
  find "$cache" -maxdepth 1 -name "pkgtest-bookworm-$arch-*.tar" ! -name "$(basename "$tarball")" -delete
  say "chroot cached in $((SECONDS - t0)) s"
fi
flock -u 9
root=$work/root
mkdir "$root"
tar -C "$root" -xf "$tarball"
cp "$deb" "$root/tmp/edgetable.deb"
# /proc as on a real system: a sanitizer build (CI packs the tree it built)
# reads its stack bounds from /proc/self/maps.
mount -t proc proc "$root/proc"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
in_root dpkg -i /tmp/edgetable.deb > "$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log"; die "dpkg -i failed"; }
say "dpkg -i ok"

passwd=$(in_root getent passwd edgetable) || die "no user edgetable after install"
IFS=: read -r _ _ uid gid _ home shell <<<"$passwd"
(( uid < 1000 )) || die "edgetable is not a system user (uid $uid)"
[[ $home == /var/lib/edgetable ]] || die "home of edgetable is $home"
[[ $shell == /usr/sbin/nologin ]] || die "shell of edgetable is $shell"
[[ $(in_root getent group edgetable | cut -d: -f3) == "$gid" ]] || die "no group edgetable as the user's primary group"
[[ $(in_root stat -c '%U:%G %a' /var/lib/edgetable) == "edgetable:edgetable 750" ]] \
  || die "/var/lib/edgetable is $(in_root stat -c '%U:%G %a' /var/lib/edgetable)"
in_root edgetable --help | grep -q serve || die "edgetable --help does not run in the chroot"
in_root edgetable version >/dev/null || die "edgetable version failed"
[[ ! -e $root/etc/systemd/system/multi-user.target.wants/edgetable.service ]] || die "the service was enabled on install"
# The default config, as the service runs it (port 0: any free port).
set +e
timeout 3 chroot --userspec=edgetable:edgetable "$root" env -i PATH=/usr/bin:/bin \
  edgetable serve --config /etc/edgetable/edgetable.toml --listen 127.0.0.1:0 > "$work/serve.log" 2>&1
rc=$?
set -e
[[ $rc -eq 124 ]] || { cat "$work/serve.log"; die "edgetable serve on the default config exited with $rc"; }
[[ -n $(ls -A "$root/var/lib/edgetable") ]] || die "serve wrote nothing in /var/lib/edgetable"
say "user edgetable (uid $uid), /var/lib/edgetable edgetable:edgetable 0750, --help, serve on the default config: ok"

# Reinstall (an upgrade to the same version): an edited conffile stays.
echo '# edited by the operator' >> "$root/etc/edgetable/edgetable.toml"
in_root dpkg -i /tmp/edgetable.deb > "$work/dpkg-i2.log" 2>&1 </dev/null || { cat "$work/dpkg-i2.log"; die "reinstall failed"; }
grep -q 'edited by the operator' "$root/etc/edgetable/edgetable.toml" || die "reinstall replaced the edited conffile"

in_root dpkg -r edgetable > "$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log"; die "dpkg -r failed"; }
[[ ! -e $root/usr/bin/edgetable ]] || die "dpkg -r left /usr/bin/edgetable"
grep -q 'edited by the operator' "$root/etc/edgetable/edgetable.toml" || die "dpkg -r removed the config"
[[ -n $(ls -A "$root/var/lib/edgetable") ]] || die "dpkg -r removed the data"
in_root getent passwd edgetable >/dev/null || die "dpkg -r removed the user"
say "dpkg -r keeps the config, the data and the user"

in_root dpkg -P edgetable > "$work/dpkg-p.log" 2>&1 || { cat "$work/dpkg-p.log"; die "dpkg -P failed"; }
[[ ! -e $root/etc/edgetable ]] || die "dpkg -P left /etc/edgetable: $(ls -A "$root/etc/edgetable")"
[[ ! -e $root/var/lib/edgetable ]] || die "dpkg -P left /var/lib/edgetable"
! in_root getent passwd edgetable >/dev/null || die "dpkg -P left the user edgetable"
! in_root getent group edgetable >/dev/null || die "dpkg -P left the group edgetable"
! in_root dpkg -s edgetable >/dev/null 2>&1 || die "dpkg still knows edgetable after purge"
say "dpkg -P removes the config, the data, the user and the group"
say "ok in $((SECONDS - start)) s"
