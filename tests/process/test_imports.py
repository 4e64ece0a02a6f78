"""Start-up guard: `get` on a database row imports nothing it does not need (no timing involved)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from readystack.helper.importbudget import denied_among

REPO = Path(__file__).resolve().parents[2]


def _imported(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def _shim(tmp_path: Path) -> Path:
    # The source tree under its installed names, without the installer's import machinery.
    root = tmp_path / "shim"
    (root / "readystack").mkdir(parents=True)
    (root / "readystack" / "helper").symlink_to(REPO / "helper")
    (root / "readystack" / "store").symlink_to(REPO / "store")
    return root


@pytest.mark.parametrize("question", [b"ghcr.io", b"ghcr.io/acme/app:1.0"])
def test_get_on_a_database_row_imports_nothing_denied(
    tmp_path: Path, env: dict[str, str], question: bytes
) -> None:
    payload = json.dumps({"ServerURL": "ghcr.io", "Username": "u", "Secret": "p"})
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from readystack.helper.cli import main; sys.argv = ['helper', sys.argv[2]]; "
        "sys.exit(main())"
    )
    shim = str(_shim(tmp_path))
    stored = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, shim, "store"], input=payload.encode(), env=env
    )
    assert stored.returncode == 0
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-X", "importtime", "-c", code, shim, "get"],
        input=question,
        capture_output=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["Username"] == "u"
    imported = _imported(proc.stderr.decode())
    denied = denied_among(imported)
    assert not denied, f"get imported {denied}"
    assert "readystack.helper.resolver" in imported
    # A host without pattern rows never reads the parent's command line for the image hint.
    assert not {"readystack.helper.hint", "readystack.helper.dockerargv"} & imported


def _verb_imports(shim: str, env: dict[str, str], *args: str) -> set[str]:
    # With site-packages (no -S): the management verbs need the installed dependencies.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from readystack.helper.cli import main; sys.argv = ['helper', *sys.argv[2:]]; "
        "sys.exit(main())"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", "-c", code, shim, *args],
        capture_output=True,
        env=env,
        timeout=60,
    )
    return _imported(proc.stderr.decode())


def test_only_the_online_verbs_import_the_http_client(tmp_path: Path, env: dict[str, str]) -> None:
    shim = str(_shim(tmp_path))
    payload = json.dumps({"ServerURL": "http://127.0.0.1:1", "Username": "u", "Secret": "p"})
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from readystack.helper.cli import main; sys.argv = ['helper', 'store']; sys.exit(main())"
    )
    subprocess.run([sys.executable, "-I", "-c", code, shim], input=payload.encode(), env=env)
    for args in (("registry", "list"), ("explain", "127.0.0.1:1/a/b"), ("doctor",)):
        assert "urllib3" not in _verb_imports(shim, env, *args), args
    online = _verb_imports(shim, env, "registry", "test", "--timeout", "1")
    assert "urllib3" in online and "readystack.helper.regcheck" in online


def _modules_of(exe: Path, args: list[str], env: dict[str, str], tmp_path: Path, stdin: bytes):
    """Run the executable and return (process, modules it imported): through PyInstaller's
    audit hook for the binary, through -X importtime for the console script."""
    audit = tmp_path / "audit.txt"
    audit.unlink(missing_ok=True)
    extra = {"READYSTACK_PYI_AUDIT": str(audit), "PYTHONPROFILEIMPORTTIME": "1"}
    proc = subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, env={**env, **extra}, timeout=60
    )
    if audit.exists():
        lines = audit.read_text().splitlines()
        return proc, {line.split(" ", 1)[1] for line in lines if line.startswith("module ")}
    return proc, _imported(proc.stderr.decode())


@pytest.mark.parametrize("verb", ["get", "list"])
def test_protocol_verbs_never_import_the_postgresql_driver(
    exe: Path, env: dict[str, str], tmp_path: Path, verb: str
) -> None:
    uri = "postgresql://postgres@127.0.0.1:1/fleet"
    proc, modules = _modules_of(exe, [verb], {**env, "READYSTACK_DB": uri}, tmp_path, b"ghcr.io")
    assert b"PostgreSQL" in proc.stderr
    assert "readystack.store.registries" in modules  # the probe saw our own imports
    assert not [m for m in modules if m.split(".")[0] in ("psycopg", "psycopg_binary")]
    # The same probe does see the driver where it is used: it can tell.
    admin, modules = _modules_of(exe, ["registry", "list", "--db", uri], env, tmp_path, b"")
    assert admin.returncode == 1
    assert "psycopg" in modules
