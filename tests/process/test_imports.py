"""Start-up guard: `get` on a database row imports nothing it does not need (no timing involved)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from readystack.helper.lookup.importbudget import denied_among

REPO = Path(__file__).resolve().parents[2]


def _imported(stderr: str) -> set[str]:
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def _startup_floor() -> set[str]:
    """What this interpreter imports before any code of ours: site, and an editable finder."""
    proc = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", "-c", "pass"], capture_output=True, check=True
    )
    return _imported(proc.stderr.decode())


def _run(env: dict[str, str], *args: str, stdin: bytes = b"") -> tuple[int, bytes, set[str]]:
    """Run the installed package as the console script does, with -X importtime: (exit, stdout,
    the modules it imported beyond the interpreter's own start-up)."""
    proc = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", "-m", "readystack.helper", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
    )
    return proc.returncode, proc.stdout, _imported(proc.stderr.decode()) - _startup_floor()


@pytest.mark.parametrize("question", [b"ghcr.io", b"ghcr.io/acme/app:1.0"])
def test_get_on_a_database_row_imports_nothing_denied(env: dict[str, str], question: bytes) -> None:
    payload = json.dumps({"ServerURL": "ghcr.io", "Username": "u", "Secret": "p"})
    stored, _, writing = _run(env, "store", stdin=payload.encode())
    assert stored == 0 and "readystack.store.writes" in writing
    code, out, imported = _run(env, "get", stdin=question)
    assert code == 0, out
    assert json.loads(out)["Username"] == "u"
    denied = denied_among(imported)
    assert not denied, f"get imported {denied}"
    assert "readystack.helper.lookup.resolver" in imported
    # Reading never loads the writing half of the table (store/writes.py), which `store` does.
    assert "readystack.store.writes" not in imported
    # A host without pattern rows never reads the parent's command line for the image hint.
    assert not {"readystack.helper.lookup.hint", "readystack.helper.lookup.dockerargv"} & imported
    # Each error class costs a lookup to build: the errors a pull never meets stay unbuilt.
    assert not {"readystack.store.verberrors", "readystack.store.jsonread"} & imported
    # A database-held secret costs nothing of the keyring's: no Secret Service lock, no deadline.
    keyring_side = {"secrets", "keyringlock", "runtime", "deadline", "faultpoint"}
    assert not {f"readystack.store.{m}" for m in keyring_side} & imported


def test_get_reading_a_parent_that_is_no_client_imports_nothing_more(env: dict[str, str]) -> None:
    # Pattern rows make the image hint read the parent (here: the test's Python), which is no
    # client naming its images: no parser, and nothing of compose's branch (json, subprocess).
    url = "http://127.0.0.1:5055"
    for name, extra, password in (
        ("Company", ["--pattern", "team/*"], b"a"),
        ("Default", ["--default"], b"b"),
    ):
        args = [
            "registry",
            "add",
            name,
            "--url",
            url,
            "--username",
            name.lower(),
            "--password-stdin",
        ]
        assert _run(env, *args, *extra, stdin=password)[0] == 0
    code, out, imported = _run(env, "get", stdin=b"127.0.0.1:5055")
    assert code == 0, out
    assert json.loads(out)["Username"] == "default"
    assert not denied_among(imported), f"get imported {denied_among(imported)}"
    assert "readystack.helper.lookup.hint" in imported
    parsers = {
        f"readystack.helper.lookup.{m}"
        for m in ("compose", "composeargv", "containersargv", "dockerargv", "pflag")
    }
    assert not parsers & imported


def test_only_the_online_verbs_import_the_http_client(env: dict[str, str]) -> None:
    payload = json.dumps({"ServerURL": "http://127.0.0.1:1", "Username": "u", "Secret": "p"})
    assert _run(env, "store", stdin=payload.encode())[0] == 0
    for args in (("registry", "list"), ("explain", "127.0.0.1:1/a/b"), ("doctor",)):
        assert "urllib3" not in _run(env, *args)[2], args
    online = _run(env, "registry", "test", "--timeout", "1")[2]
    assert "urllib3" in online and "readystack.helper.online.regcheck" in online


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
