#!/usr/bin/env bash
# Build the onedir docker-credential-readystack binary and its release archive.
#
#   packaging/build.sh            (from any directory; idempotent)
#
# Makes build/venv (PYTHON, default python3: the interpreter bundled into the binary; it must
# have a shared libpython), installs the project into it as a regular (not editable) install
# from a clean copy of the sources plus the pinned PyInstaller, builds
# dist/docker-credential-readystack/ with packaging/docker-credential-readystack.spec, checks
# the result (packaging/bundlecheck.py), then writes
# dist/docker-credential-readystack-<version>-linux-<arch>.tar.gz and dist/SHA256SUMS, and
# (packaging/deb.sh) dist/docker-credential-readystack_<version>_<Debian arch>.deb.
# Environment: PYTHON, BUILD_KEYRING_CHECK=1 (also check a real Secret Service; needs the
# dbus and gnome-keyring packages), BUILD_MEASURE=1 (also time get/version against the
# interpreter's floor, packaging/measure.py --check).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NAME=docker-credential-readystack
BUILD="$ROOT/build"
VENV="$BUILD/venv"
DIST="$ROOT/dist"
PY="$VENV/bin/python"
start=$(date +%s)

say() { printf '== %s\n' "$*"; }

# -- the build environment --------------------------------------------------------------------
base_python="$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')"
if [ "$("$base_python" -c 'import sysconfig; print(sysconfig.get_config_var("Py_ENABLE_SHARED") or 0)')" != 1 ]; then
    echo "build.sh: $base_python has no shared libpython, which PyInstaller needs;" \
        "set PYTHON to one built with --enable-shared" >&2
    exit 1
fi
if [ -x "$PY" ] && [ "$("$PY" -c 'import sys; print(sys._base_executable)')" != "$base_python" ]; then
    rm -rf "$VENV"  # made from another interpreter: start again
fi
if [ ! -x "$PY" ]; then
    say "venv $VENV ($base_python)"
    "$base_python" -m venv "$VENV"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
say "PyInstaller (packaging/requirements-build.txt)"
"$PY" -m pip install -q -r "$ROOT/packaging/requirements-build.txt"

# A copy of exactly what the package is built from, so that stale build/lib files or anything
# else lying in the work tree never ends up in the binary.
STAGE="$BUILD/stage"
rm -rf "$STAGE"
mkdir -p "$STAGE"
sources=(pyproject.toml README.md helper store)
for extra in LICENSE LICENSE.txt LICENSE.md NOTICE setup.cfg setup.py MANIFEST.in; do
    if [ -e "$ROOT/$extra" ]; then sources+=("$extra"); fi
done
(cd "$ROOT" && tar --exclude=__pycache__ --exclude='*.pyc' -cf - "${sources[@]}") \
    | tar -C "$STAGE" -xf -
say "install the project (regular install, constraints packaging/constraints.txt)"
"$PY" -m pip install -q -c "$ROOT/packaging/constraints.txt" "$STAGE"
"$PY" -m pip install -q --no-deps --force-reinstall "$STAGE"
version="$("$PY" -c 'import readystack.helper as h; print(h.__version__)')"
arch="$(uname -m)"

# -- the bundle -------------------------------------------------------------------------------
say "PyInstaller: $NAME $version, onedir"
rm -rf "$BUILD/pyinstaller" "$DIST/$NAME"
(cd "$ROOT" && "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath "$DIST" --workpath "$BUILD/pyinstaller" \
    packaging/docker-credential-readystack.spec)
exe="$DIST/$NAME/$NAME"

say "check the bundle"
check=("$PY" "$ROOT/packaging/bundlecheck.py" "$exe" --version "$version")
if [ "${BUILD_KEYRING_CHECK:-0}" = 1 ]; then check+=(--keyring); fi
"${check[@]}"

# -- the release archive ----------------------------------------------------------------------
archive="$NAME-$version-linux-$arch.tar.gz"
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)}"
say "archive dist/$archive"
rm -f "$DIST/$archive"
tar -C "$DIST" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -cf - "$NAME" | gzip -n -9 >"$DIST/$archive.tmp"
mv "$DIST/$archive.tmp" "$DIST/$archive"
(cd "$DIST" && sha256sum -- "$NAME"-*-linux-*.tar.gz >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)

# -- the Debian package ------------------------------------------------------------------------
deb=""
if command -v dpkg-deb >/dev/null 2>&1; then
    say "Debian package"
    deb="$("$ROOT/packaging/deb.sh" "$DIST/$NAME" "$version" "$DIST")"
elif [ "${CI:-}" = true ]; then
    echo "build.sh: dpkg-deb is missing, and CI=true needs the Debian package (apt-get install dpkg)" >&2
    exit 1
else
    echo "build.sh: dpkg-deb is missing: no Debian package this time (apt-get install dpkg)" >&2
fi

if [ "${BUILD_MEASURE:-0}" = 1 ]; then
    say "start-up against $PY -I -S -c pass"
    "$PY" "$ROOT/packaging/measure.py" --exe "$exe" --python "$PY" --check
fi

size_bytes=$(stat -c %s "$DIST/$archive")
bundle_size=$(du -sh "$DIST/$NAME" | cut -f1)
say "done in $(($(date +%s) - start)) s"
echo "executable: $exe"
echo "archive:    $DIST/$archive ($(numfmt --to=iec --suffix=B "$size_bytes"), $size_bytes bytes; bundle $bundle_size unpacked)"
echo "checksums:  $DIST/SHA256SUMS"
if [ -n "$deb" ]; then echo "package:    $deb"; fi
