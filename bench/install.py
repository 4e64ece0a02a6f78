"""Installing the checkout (a regular install) into the bench venv, and finding what to time."""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

from . import ROOT, SCRIPT, log, read_text


class SetupError(Exception):
    """The bench venv cannot be used; the message says why."""


class Setup:
    """The interpreter and programs a run times, and how they were installed."""

    def __init__(self, venv: str, about: str, exe: str, go: str) -> None:
        self.venv = venv
        self.py = os.path.join(venv, "bin", "python")
        self.script = os.path.join(venv, "bin", SCRIPT)
        self.about = about  # the "install" line of the machine table
        self.exe = exe  # the PyInstaller binary, "" when there is none
        self.go = go  # Debian's Go helper, "" when it is not installed


def _source_files() -> list[str]:
    files = [os.path.join(ROOT, "pyproject.toml"), os.path.join(ROOT, "README.md")]
    for top in ("helper", "store"):
        for folder, dirs, names in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            files += [os.path.join(folder, n) for n in sorted(names) if not n.endswith(".pyc")]
    return [f for f in files if os.path.isfile(f)]


def source_hash() -> str:
    """A digest of everything the install is built from."""
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(os.path.relpath(path, ROOT).encode() + b"\0")
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()[:16]


def _run_quiet(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise SystemExit(f"bench: {what} failed (exit {done.returncode}):\n  " + "\n  ".join(tail))


def site_packages(venv: str) -> str:
    """The venv's purelib folder."""
    py = os.path.join(venv, "bin", "python")
    out = subprocess.run(
        [py, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def _install_copy(venv: str, fresh: bool) -> None:
    py = os.path.join(venv, "bin", "python")
    # Build from a copy: pip builds local projects in-tree (build/, *.egg-info), and the
    # checkout is being edited by others; the copy is also one consistent snapshot.
    with tempfile.TemporaryDirectory(prefix="rs-bench-src-") as tmp:
        src = os.path.join(tmp, "src")
        os.makedirs(src)
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            if os.path.exists(os.path.join(ROOT, name)):
                shutil.copy2(os.path.join(ROOT, name), src)
        for top in ("helper", "store"):
            shutil.copytree(
                os.path.join(ROOT, top),
                os.path.join(src, top),
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )
        argv = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if not fresh:
            # Dependencies the checkout gained since the venv was made, then the package rebuilt.
            _run_quiet(argv + [src], "pip install of the checkout's dependencies")
            argv += ["--force-reinstall", "--no-deps"]
        log(f"installing the checkout into {os.path.relpath(venv, ROOT)} (regular install)")
        _run_quiet(argv + [src], "pip install of the checkout")


def ensure_install(venv: str, reinstall: bool) -> str:
    """A regular install of the current checkout in ``venv``; returns the source hash."""
    py = os.path.join(venv, "bin", "python")
    fresh = not os.path.exists(py)
    if fresh:
        log(f"creating {os.path.relpath(venv, ROOT)} with {sys.executable} -m venv")
        _run_quiet([sys.executable, "-m", "venv", venv], "creating the bench venv")
    stamp_file = os.path.join(venv, "bench-source-hash")
    wanted = source_hash()
    have = read_text(stamp_file).strip() if os.path.exists(stamp_file) else ""
    script = os.path.join(venv, "bin", SCRIPT)
    if fresh or reinstall or have != wanted or not os.path.exists(script):
        _install_copy(venv, fresh)
        with open(stamp_file, "w") as fh:
            fh.write(wanted + "\n")
    site = site_packages(venv)
    editable = [n for n in os.listdir(site) if n.startswith("__editable__") and "readystack" in n]
    if editable:
        raise SystemExit(f"bench: {site} holds an editable install ({editable}); remove {venv}")
    if not os.path.exists(os.path.join(site, "readystack", "helper", "cli.py")):
        raise SystemExit(f"bench: readystack.helper is not installed in {site}")
    return wanted


def prepare(opts: argparse.Namespace) -> Setup:
    """The bench venv (installed unless --no-install), the binary and the Go anchor."""
    venv = os.path.abspath(opts.venv)
    try:
        if opts.no_install:
            if not os.path.exists(os.path.join(venv, "bin", SCRIPT)):
                raise SetupError(f"--no-install, but {venv} has no {SCRIPT}")
            about = f"{venv} as it is (--no-install)"
        else:
            about = (
                f"regular pip install of the checkout into {os.path.relpath(venv, ROOT)} "
                f"(sources {ensure_install(venv, opts.reinstall)})"
            )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SetupError(f"cannot set up the bench venv: {exc}") from exc
    exe = opts.exe if opts.exe and os.access(opts.exe, os.X_OK) else ""
    go = opts.go if opts.go and os.access(opts.go, os.X_OK) else ""
    return Setup(venv, about, exe, go)


def snapshot_binary(exe: str, tmp: str) -> tuple[str, str]:
    """Copy a PyInstaller onedir folder aside, so that one run measures one build.

    Returns (path to run, description); ("", reason) when it cannot be used. A file that is not
    in a onedir folder (no ``_internal`` next to it) is run where it is.
    """
    real = os.path.realpath(exe)
    folder = os.path.dirname(real)
    try:
        stat = os.stat(real)
        built = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.UTC)
        about = f"{exe} (built {built:%Y-%m-%d %H:%M:%S} UTC, {stat.st_size:,} bytes)"
        if not os.path.isdir(os.path.join(folder, "_internal")):
            return real, about
        copy = os.path.join(tmp, "binary", os.path.basename(folder))
        shutil.copytree(folder, copy, symlinks=True)
        return os.path.join(copy, os.path.basename(real)), about + ", run from a copy"
    except (OSError, shutil.Error) as exc:
        return "", f"{exe} could not be copied ({exc}); binary cases skipped"
