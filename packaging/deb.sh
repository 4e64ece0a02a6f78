#!/usr/bin/env bash
# Build the Debian package from a built onedir bundle.
#
#   packaging/deb.sh BUNDLE VERSION OUTDIR
#
# Writes OUTDIR/docker-credential-readystack_<VERSION>_<Debian arch>.deb with dpkg-deb:
#   /usr/lib/docker-credential-readystack/            the onedir bundle, without its copies of
#                                                     libssl, libcrypto and libsqlite3: Depends
#                                                     names Debian's packages of them instead
#   /usr/bin/docker-credential-readystack             a symlink to the bundle's executable
#   /usr/lib/systemd/system/docker-credential-readystack-sync.{service,timer}
#                                                     when packaging/systemd/ has them (installed,
#                                                     never enabled: no maintainer script runs)
# There is no maintainer script at all: installing never touches a Docker config, and removing
# leaves nothing behind. Files are root-owned (dpkg-deb --root-owner-group), directories 0755.
set -euo pipefail

NAME=docker-credential-readystack
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -eq 3 ] || { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
bundle="$1" version="$2" out="$3"
[ -x "$bundle/$NAME" ] || { echo "deb.sh: $bundle/$NAME is not a built bundle" >&2; exit 1; }

arch="$(dpkg --print-architecture)"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
umask 022
chmod 0755 "$stage"

mkdir -p "$stage/DEBIAN" "$stage/usr/lib" "$stage/usr/bin"
cp -a "$bundle" "$stage/usr/lib/$NAME"
ln -s "../lib/$NAME/$NAME" "$stage/usr/bin/$NAME"
units=("$ROOT"/packaging/systemd/*.service "$ROOT"/packaging/systemd/*.timer)
for unit in "${units[@]}"; do
    [ -f "$unit" ] || continue
    install -D -m 0644 "$unit" "$stage/usr/lib/systemd/system/$(basename "$unit")"
done
# dpkg wants plain permissions: no group/other write, whatever the build's umask was.
chmod -R u+rwX,go+rX,go-w "$stage/usr"

# Debian versions may not contain '-' outside the revision: PEP 440 local parts use '+'.
deb_version="${version//-/+}"
glibc="$(ldd --version 2>/dev/null | sed -n '1s/.* \([0-9][0-9.]*\)$/\1/p')"
# Libraries Debian ships and patches: the package uses Debian's (Depends, from the package's
# shlibs file, as dpkg-shlibdeps would write it) so that Debian's security updates reach them.
# The interpreter's _ssl, _hashlib and _sqlite3 need them by these sonames; the bundled copies
# are the build machine's. psycopg_binary's libpq and its OpenSSL carry hashed sonames that
# its extension is linked against, and stay bundled (README, Security; `version --verbose`).
SYSTEM_LIBS=(libssl.so.3 libcrypto.so.3 libsqlite3.so.0)
depends=("libc6${glibc:+ (>= $glibc)}")
shlibs_dependency() {  # soname -> "package (>= version)" from the installed package's shlibs
    local soname="$1" path pkg name version
    path="$(ldconfig -p | awk -v s="$soname" '$1 == s {print $NF; exit}')"
    [ -n "$path" ] || return 1
    pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)"
    [ -n "$pkg" ] || pkg="$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)"
    [ -n "$pkg" ] || return 1
    name="${soname%%.so.*}" version="${soname##*.so.}"
    awk -v n="$name" -v v="$version" '$1 == n && $2 == v {$1 = ""; $2 = ""; sub(/^  /, ""); print; exit}' \
        "$(dpkg-query --control-path "$pkg" shlibs)"
}
for soname in "${SYSTEM_LIBS[@]}"; do
    copy="$stage/usr/lib/$NAME/_internal/$soname"
    [ -e "$copy" ] || continue
    dependency="$(shlibs_dependency "$soname" || true)"
    if [ -z "$dependency" ]; then
        echo "deb.sh: no Debian package provides $soname here: the bundled copy stays" >&2
        continue
    fi
    rm -f "$copy"
    known=""
    for d in "${depends[@]}"; do [ "$d" = "$dependency" ] && known=1; done
    [ -n "$known" ] || depends+=("$dependency")
done

installed_kib="$(du -sk --apparent-size "$stage/usr" | cut -f1)"
cat >"$stage/DEBIAN/control" <<EOF
Package: $NAME
Version: $deb_version
Architecture: $arch
Maintainer: docker-credential-readystack maintainers <root@localhost>
Installed-Size: $installed_kib
Depends: $(IFS=,; echo "${depends[*]}" | sed 's/,/, /g')
Section: admin
Priority: optional
Description: Docker credential helper for ReadyStackGo's registry credentials
 Serves the registry credentials that ReadyStackGo keeps in its SQLite
 database, with its image patterns, to every client of Docker's
 credential-helper protocol (docker, compose, docker-py, skopeo, podman)
 and to the kubelet. Wire Docker with
 "docker-credential-readystack configure-docker --readystackgo".
EOF

deb="$out/${NAME}_${deb_version}_${arch}.deb"
rm -f "$deb"
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}" \
    dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb.tmp" >/dev/null
mv "$deb.tmp" "$deb"
echo "$deb"
