"""The debug trace: on stderr or in a 0600 file, never on stdout, never a secret."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from .conftest import Run

SECRET = "hunter2-very-secret"


@pytest.fixture
def stored(run: Run) -> None:
    payload = json.dumps({"ServerURL": "ghcr.io", "Username": "bob", "Secret": SECRET})
    assert run("store", stdin=payload.encode()).returncode == 0


@pytest.mark.parametrize(
    "switch",
    [
        {"READYSTACK_LOG": "debug"},
        {"Logging__LogLevel__ReadyStackGo.Infrastructure.Docker": "Debug"},
    ],
)
def test_debug_trace_goes_to_stderr_without_secrets(
    run: Run, stored: None, switch: dict[str, str]
) -> None:
    for question in (b"ghcr.io", b"ghcr.io/acme/app", b"quay.io"):
        proc = run("get", stdin=question, **switch)
        assert b"debug:" in proc.stderr
        assert SECRET.encode() not in proc.stderr
        if question != b"quay.io":
            assert json.loads(proc.stdout)["Secret"] == SECRET  # stdout holds only the answer
        else:
            assert proc.stdout == b"credentials not found in native keychain\n"


def test_debug_log_file_is_private_and_secret_free(run: Run, stored: None, tmp_path: Path) -> None:
    log = tmp_path / "helper.log"
    for _ in range(2):
        proc = run("get", stdin=b"ghcr.io", READYSTACK_LOG_FILE=str(log))
        assert proc.returncode == 0
        assert proc.stderr == b""
    text = log.read_text()
    assert text.count("debug: get: answered") == 2  # appended, not replaced
    assert SECRET not in text
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600


def test_explain_and_resolve_mask_the_secret(run: Run, stored: None) -> None:
    explained = run("explain", "ghcr.io")
    assert explained.returncode == 0
    assert SECRET.encode() not in explained.stdout + explained.stderr
    assert b"winner" in explained.stdout
    resolved = run("resolve", "ghcr.io")
    assert json.loads(resolved.stdout)["Secret"] != SECRET
    shown = run("resolve", "ghcr.io", "--show-secret")
    assert json.loads(shown.stdout)["Secret"] == SECRET


def test_registry_listing_masks_passwords(run: Run, stored: None) -> None:
    for args in (
        ("registry", "list"),
        ("registry", "list", "--json"),
        ("registry", "show", "ghcr.io"),
    ):
        proc = run(*args)
        assert proc.returncode == 0, proc.stderr
        assert SECRET.encode() not in proc.stdout
