"""Management and debugging verbs through the executable: rows, refusals, exit codes, doctor."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from readystackgo import DDL, EF_HISTORY

from .conftest import Run


def add(run: Run, name: str, *args: str, password: bytes = b"pw\n"):
    return run("registry", "add", name, *args, "--password-stdin", stdin=password)


def rows(env: dict[str, str]) -> list[dict]:
    with sqlite3.connect(env["READYSTACK_DB"]) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute('SELECT * FROM "Registries" ORDER BY "Name"')]


def test_add_writes_a_readystackgo_row(run: Run, env: dict[str, str]) -> None:
    proc = add(run, "ghcr", "--url", "ghcr.io", "--username", "me", "--pattern", "acme/*")
    assert proc.returncode == 0, proc.stderr
    (row,) = rows(env)
    assert row["Url"] == "https://ghcr.io" and row["Password"] == "pw"
    assert json.loads(row["ImagePatterns"]) == ["acme/*"]
    assert row["Id"] == row["Id"].upper() and row["Version"] == 1 and row["IsDefault"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--url", "https://me:pw@ghcr.io"), b"user information"),
        (("--url", "ghcr.io", "--pattern", "quay.io/**"), b"names host quay.io"),
        (("--url", "ghcr.io", "--pattern", "*.ghcr.io/**"), b"wildcard in its host"),
        (("--url", "ftp://ghcr.io"), b"invalid registry URL"),
        (("--url", "https://index.docker.io/v1/access-token"), b"OAuth"),
    ],
)
def test_add_refuses_what_could_leak(
    run: Run, env: dict[str, str], args: tuple[str, ...], message: bytes
) -> None:
    proc = add(run, "bad", *args, "--username", "me")
    assert proc.returncode == 1
    assert proc.stdout == b"" and message in proc.stderr
    assert proc.stderr.count(b"\n") == 1
    assert not Path(env["READYSTACK_DB"]).exists() or rows(env) == []


def test_usage_errors_exit_2(run: Run) -> None:
    for args in (("registry",), ("registry", "add", "x"), ("resolve",), ("registry", "frob")):
        proc = run(*args)
        assert proc.returncode == 2, args
        assert proc.stdout == b""


def test_duplicate_name_and_missing_row(run: Run) -> None:
    assert add(run, "hub", "--url", "docker.io", "--username", "me").returncode == 0
    again = add(run, "HUB", "--url", "docker.io", "--username", "me")
    assert again.returncode == 1 and b"already exists" in again.stderr
    for verb in ("show", "remove", "set-default"):
        proc = run("registry", verb, "nope")
        assert proc.returncode == 1 and b"no registry named 'nope'" in proc.stderr


def test_update_set_default_and_remove(run: Run, env: dict[str, str]) -> None:
    add(run, "a", "--url", "ghcr.io", "--username", "u", "--pattern", "x/*", "--default")
    add(run, "b", "--url", "quay.io", "--username", "u")
    proc = run("registry", "update", "a", "--pattern", "y/**", "--rename", "a2")
    assert proc.returncode == 0, proc.stderr
    a2 = rows(env)[0]
    assert (a2["Name"], json.loads(a2["ImagePatterns"]), a2["Version"]) == (
        "a2",
        ["x/*", "y/**"],
        2,
    )
    assert a2["UpdatedAt"] is not None
    assert run("registry", "update", "a2", "--clear-patterns").returncode == 0
    assert json.loads(rows(env)[0]["ImagePatterns"]) == []
    assert run("registry", "set-default", "b").returncode == 0
    assert [(r["Name"], r["IsDefault"]) for r in rows(env)] == [("a2", 0), ("b", 1)]
    new_password = run("registry", "update", "b", "--password-stdin", stdin=b"pw2\n")
    assert new_password.returncode == 0
    assert json.loads(run("get", stdin=b"quay.io").stdout)["Secret"] == "pw2"
    assert run("registry", "remove", "a2").returncode == 0
    assert [r["Name"] for r in rows(env)] == ["b"]


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
