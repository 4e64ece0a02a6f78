"""Management verbs on SQLite only: ReadyStackGo databases, usage errors, doctor's wiring.

What holds on both backends is in test_backends.py."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from readystackgo import DDL, EF_HISTORY

from .conftest import Run


def add(run: Run, name: str, *args: str, password: bytes = b"pw\n"):
    return run("registry", "add", name, *args, "--password-stdin", stdin=password)


def rows(env: dict[str, str]) -> list[dict]:
    with sqlite3.connect(env["READYSTACK_DB"]) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute('SELECT * FROM "Registries" ORDER BY "Name"')]


def test_usage_errors_exit_2(run: Run) -> None:
    for args in (("registry",), ("registry", "add", "x"), ("resolve",), ("registry", "frob")):
        proc = run(*args)
        assert proc.returncode == 2, args
        assert proc.stdout == b""


def test_management_on_a_readystackgo_database_says_so(run: Run, env: dict[str, str]) -> None:
    with sqlite3.connect(env["READYSTACK_DB"]) as db:
        db.executescript(DDL + EF_HISTORY)
    proc = add(run, "r", "--url", "ghcr.io", "--username", "u")
    assert proc.returncode == 0
    assert b"ReadyStackGo" in proc.stderr
    refused = run("store", stdin=b'{"ServerURL":"ghcr.io","Username":"u","Secret":"s"}')
    assert refused.returncode == 1 and b"ReadyStackGo database" in refused.stdout
    assert json.loads(run("get", stdin=b"ghcr.io").stdout)["Username"] == "u"


def test_doctor_reports_invalid_patterns_and_wiring(
    run: Run, env: dict[str, str], exe: Path
) -> None:
    add(run, "g", "--url", "ghcr.io", "--username", "u")
    with sqlite3.connect(env["READYSTACK_DB"]) as db:  # as ReadyStackGo might have written it
        db.execute(
            """UPDATE "Registries" SET "ImagePatterns" = '["quay.io/**"]' WHERE "Name" = 'g'"""
        )
    sick = run("doctor")
    assert sick.returncode == 1
    assert b"invalid pattern" in sick.stdout and b"quay.io" in sick.stdout
    assert b"configure-docker" in sick.stdout  # ghcr.io is not wired into the Docker config
    run("registry", "update", "g", "--clear-patterns")
    wired = run("configure-docker")
    assert wired.returncode == 0, wired.stderr
    config = json.loads((Path(env["DOCKER_CONFIG"]) / "config.json").read_text())
    assert config["credHelpers"] == {"ghcr.io": "readystack"}
    healthy = run("doctor", PATH=f"{exe.parent}:{env['PATH']}")
    assert healthy.returncode == 0, healthy.stdout
    assert b"invalid pattern" not in healthy.stdout
    assert b"ghcr.io: Docker, skopeo and podman ask this helper (credHelpers)" in healthy.stdout


def test_explain_names_every_row_and_the_winner(run: Run) -> None:
    add(run, "wide", "--url", "ghcr.io", "--username", "w", "--pattern", "ghcr.io/**")
    add(run, "api", "--url", "ghcr.io", "--username", "a", "--pattern", "acme/api")
    proc = run("explain", "ghcr.io/acme/api:1.0")
    assert proc.returncode == 0
    text = proc.stdout.decode()
    assert "repository acme/api on host ghcr.io" in text
    assert "pattern 'ghcr.io/**' matches" in text and "pattern 'acme/api' matches" in text
    assert "winner: row 'api'" in text
    resolved = run("resolve", "nginx")
    assert resolved.returncode == 1
    assert b"Docker Hub image" in resolved.stderr
