#!/usr/bin/env bash
# Install (or upgrade, or uninstall) a docker-credential-readystack release archive.
#
#   packaging/install.sh [--archive FILE] [PREFIX]      install or upgrade
#   packaging/install.sh --uninstall [PREFIX]           remove it again
#
# PREFIX defaults to /usr/local as root, ~/.local otherwise. The archive is --archive FILE, else
# $READYSTACK_ARCHIVE, else the newest docker-credential-readystack-*-linux-<arch>.tar.gz in the
# repository's dist/ (or the current directory). It is verified against the SHA256SUMS file
# beside it before anything is unpacked.
#
# Layout:
#   PREFIX/lib/docker-credential-readystack-<version>-<sha12>/   one folder per release
#   PREFIX/lib/docker-credential-readystack -> that folder         switched atomically
#   PREFIX/bin/docker-credential-readystack -> ../lib/docker-credential-readystack/docker-credential-readystack
#
# An upgrade unpacks the new release beside the old one, checks that it runs, then renames a
# new symlink over the old (rename(2) is atomic): a lookup starts entirely in the old release or
# entirely in the new one, and one already running keeps its own folder, which stays until a
# later upgrade (the previous release is kept; older ones are removed).
set -euo pipefail

NAME=docker-credential-readystack
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ARCH="$(uname -m)"

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}
die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "install.sh: $*"; }

mode=install
archive="${READYSTACK_ARCHIVE:-}"
prefix=""
while [ $# -gt 0 ]; do
    case "$1" in
        --uninstall) mode=uninstall ;;
        --archive) [ $# -ge 2 ] || die "--archive needs a file"; archive="$2"; shift ;;
        --archive=*) archive="${1#--archive=}" ;;
        -h|--help) usage 0 ;;
        -*) echo "install.sh: unknown option $1" >&2; usage 2 ;;
        *) [ -z "$prefix" ] || die "more than one PREFIX given"; prefix="$1" ;;
    esac
    shift
done
if [ -z "$prefix" ]; then
    if [ "$(id -u)" = 0 ]; then prefix=/usr/local; else prefix="$HOME/.local"; fi
fi
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"
lib="$prefix/lib"
bin="$prefix/bin"
current="$lib/$NAME"
link="$bin/$NAME"
link_target="../lib/$NAME/$NAME"

# One installer at a time per PREFIX.
mkdir -p "$lib"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$lib/.$NAME.lock"
    flock 9
fi

# Replace (or create) symlink $2 so that it points to $1, atomically.
swap_link() {
    local tmp
    tmp="$(dirname "$2")/.$(basename "$2").new.$$"
    ln -sfn "$1" "$tmp"
    mv -Tf "$tmp" "$2"
}

releases() {  # installed release folders, oldest first
    find "$lib" -mindepth 1 -maxdepth 1 -type d -name "$NAME-*" ! -name "*.partial.*" \
        -printf '%T@ %p\n' 2>/dev/null | sort -n | cut -d' ' -f2-
}

if [ "$mode" = uninstall ]; then
    removed=0
    if [ -L "$link" ] && [ "$(readlink "$link")" = "$link_target" ]; then
        rm -f "$link"; say "removed $link"; removed=1
    elif [ -e "$link" ] || [ -L "$link" ]; then
        say "left $link alone: it is not the link this installer made"
    fi
    if [ -L "$current" ]; then rm -f "$current"; say "removed $current"; removed=1; fi
    while IFS= read -r dir; do
        [ -n "$dir" ] || continue
        rm -rf "$dir"; say "removed $dir"; removed=1
    done < <(releases)
    rm -f "$lib/.$NAME.lock"
    [ "$removed" = 1 ] || say "nothing to remove under $prefix"
    exit 0
fi

# -- which archive ----------------------------------------------------------------------------
if [ -z "$archive" ]; then
    for dir in "$ROOT/dist" "$PWD"; do
        archive="$(ls -t "$dir/$NAME"-*-linux-"$ARCH".tar.gz 2>/dev/null | head -n 1 || true)"
        [ -z "$archive" ] || break
    done
    [ -n "$archive" ] || die "no $NAME-*-linux-$ARCH.tar.gz in $ROOT/dist or $PWD: run packaging/build.sh, or pass --archive FILE"
fi
[ -f "$archive" ] || die "$archive: no such file"
archive="$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")"
base="$(basename "$archive")"
case "$base" in
    "$NAME"-*-linux-"$ARCH".tar.gz) ;;
    "$NAME"-*-linux-*.tar.gz) die "$base is not for this machine ($ARCH)" ;;
    *) die "$base is not a $NAME release archive ($NAME-<version>-linux-<arch>.tar.gz)" ;;
esac
version="${base#"$NAME"-}"
version="${version%-linux-"$ARCH".tar.gz}"

# -- verify -----------------------------------------------------------------------------------
sums="$(dirname "$archive")/SHA256SUMS"
[ -f "$sums" ] || die "no SHA256SUMS beside $archive: refusing to install an unverified archive"
expected="$(awk -v f="$base" '$2 == f || $2 == "*" f { print $1 }' "$sums" | head -n 1)"
[ -n "$expected" ] || die "$base is not listed in $sums"
actual="$(sha256sum -- "$archive" | cut -d' ' -f1)"
[ "$expected" = "$actual" ] || die "checksum mismatch for $base: SHA256SUMS says $expected, the file is $actual"
say "verified $base (sha256 $actual)"

# -- unpack beside the current release, check it runs -----------------------------------------
release="$lib/$NAME-$version-${actual:0:12}"
previous=""
if [ -L "$current" ]; then previous="$(readlink -f "$current" || true)"; fi
if [ -e "$current" ] && [ ! -L "$current" ]; then
    die "$current exists and is not a symlink (a manual install?): move it away first"
fi
if [ -d "$release" ] && [ -x "$release/$NAME" ]; then
    say "$release is already unpacked"
else
    partial="$lib/$NAME-$version.partial.$$"
    rm -rf "$partial"
    mkdir -p "$partial"
    trap 'rm -rf "$partial"' EXIT
    tar -xzf "$archive" -C "$partial" --no-same-owner
    [ -x "$partial/$NAME/$NAME" ] || die "$base does not contain $NAME/$NAME"
    mv -T "$partial/$NAME" "$release"
    rm -rf "$partial"
    trap - EXIT
    say "unpacked $release"
fi
answer="$("$release/$NAME" version 2>&1)" || die "the new release does not run: $answer"
[ "$answer" = "$NAME ($NAME) $version" ] || die "the new release says '$answer', expected version $version"

# -- switch: lib symlink first, then the bin link (both atomic renames) --------------------------
swap_link "$(basename "$release")" "$current"
say "$current -> $(basename "$release")"
mkdir -p "$bin"
if [ -L "$link" ] && [ "$(readlink "$link")" = "$link_target" ]; then
    say "$link already points into $current"
elif [ -e "$link" ] && [ ! -L "$link" ]; then
    die "$link exists and is not a symlink: remove it, then run this again"
else
    swap_link "$link_target" "$link"
    say "$link -> $link_target"
fi

# -- keep the release in use and the previous one (a lookup may still run from it) -------------
keep_prev=""
if [ -n "$previous" ] && [ "$previous" != "$release" ] && [ -d "$previous" ]; then
    keep_prev="$previous"
    say "kept the previous release $previous"
fi
while IFS= read -r dir; do
    [ -n "$dir" ] || continue
    if [ "$dir" != "$release" ] && [ "$dir" != "$keep_prev" ]; then
        rm -rf "$dir"; say "removed the old release $dir"
    fi
done < <(releases)

say "installed $NAME $version: $("$link" version)"
case ":$PATH:" in
    *":$bin:"*) ;;
    *) say "note: $bin is not on PATH; Docker finds credential helpers on PATH" ;;
esac
