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
