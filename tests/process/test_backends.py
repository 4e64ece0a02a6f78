"""Every management verb, run against a SQLite file and against PostgreSQL (`--db`)."""

from __future__ import annotations

import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from readystack.store.conventions import DEFAULT_ORGANIZATION  # DESIGN.md: an empty table

from .backends import PostgresTable, SqliteTable, Table
from .conftest import Run

GUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7}")


@pytest.fixture(params=["sqlite", "postgresql"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Table:
    """The table under test: a file in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return SqliteTable(tmp_path / "admin.db")
    return PostgresTable(request.getfixturevalue("pg_uri"))


@pytest.fixture
def admin(run: Run, table: Table) -> Run:
    """Run a management verb with ``--db`` naming the table under test."""

    def _admin(*args: str, stdin: bytes = b"", **extra: str) -> subprocess.CompletedProcess[bytes]:
        return run(*args, "--db", table.db, stdin=stdin, **extra)

    return _admin


def add(admin: Run, name: str, *args: str, password: bytes = b"pw\n"):
    return admin("registry", "add", name, *args, "--password-stdin", stdin=password)


def test_add_writes_a_readystackgo_row(admin: Run, table: Table) -> None:
    proc = add(admin, "ghcr", "--url", "ghcr.io", "--username", "me", "--pattern", "acme/*")
    assert proc.returncode == 0, proc.stderr
    (row,) = table.rows()
    assert row["Url"] == "https://ghcr.io" and row["Password"] == "pw"
    assert json.loads(row["ImagePatterns"]) == ["acme/*"]
    assert GUID.fullmatch(row["Id"]) and row["OrganizationId"] == DEFAULT_ORGANIZATION
    assert STAMP.fullmatch(row["CreatedAt"]) and row["UpdatedAt"] is None
    assert row["Version"] == 1 and row["IsDefault"] is False


def test_the_tables_are_created_on_first_write_only(admin: Run, table: Table) -> None:
    listed = admin("registry", "list")
    assert listed.returncode == 0, listed.stderr
    assert b"no registries" in listed.stdout
    assert table.rows() == []
    assert add(admin, "a", "--url", "ghcr.io", "--username", "u").returncode == 0
    assert len(table.rows()) == 1


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
    admin: Run, table: Table, args: tuple[str, ...], message: bytes
) -> None:
    proc = add(admin, "bad", *args, "--username", "me")
    assert proc.returncode == 1
    assert proc.stdout == b"" and message in proc.stderr
    assert proc.stderr.count(b"\n") == 1
    assert table.rows() == []


def test_duplicate_name_and_missing_row(admin: Run) -> None:
    assert add(admin, "hub", "--url", "docker.io", "--username", "me").returncode == 0
    again = add(admin, "HUB", "--url", "docker.io", "--username", "me")
    assert again.returncode == 1 and b"already exists" in again.stderr
    for verb in ("show", "remove", "set-default"):
        proc = admin("registry", verb, "nope")
        assert proc.returncode == 1 and b"no registry named 'nope'" in proc.stderr


def test_update_set_default_and_remove(admin: Run, table: Table) -> None:
    add(admin, "a", "--url", "ghcr.io", "--username", "u", "--pattern", "x/*", "--default")
    add(admin, "b", "--url", "quay.io", "--username", "u")
    proc = admin("registry", "update", "a", "--pattern", "y/**", "--rename", "a2")
    assert proc.returncode == 0, proc.stderr
    a2 = table.rows()[0]
    assert (a2["Name"], json.loads(a2["ImagePatterns"]), a2["Version"]) == (
        "a2",
        ["x/*", "y/**"],
        2,
    )
    assert STAMP.fullmatch(a2["UpdatedAt"])
    assert admin("registry", "set-default", "b").returncode == 0
    assert [(r["Name"], r["IsDefault"]) for r in table.rows()] == [("a2", False), ("b", True)]
    assert admin("registry", "update", "b", "--no-default").returncode == 0
    assert [r["IsDefault"] for r in table.rows()] == [False, False]
    assert admin("registry", "update", "b", "--password-stdin", stdin=b"pw2\n").returncode == 0
    resolved = admin("resolve", "quay.io", "--show-secret")
    assert json.loads(resolved.stdout)["Secret"] == "pw2"
    assert admin("registry", "remove", "a2").returncode == 0
    assert [r["Name"] for r in table.rows()] == ["b"]


def test_list_and_show_mask_the_password(admin: Run) -> None:
    add(admin, "g", "--url", "ghcr.io", "--username", "me", password=b"hunter22\n")
    listed = admin("registry", "list", "--json")
    shown = admin("registry", "show", "G", "--json")
    for proc in (listed, shown):
        assert proc.returncode == 0, proc.stderr
        assert b"hunter22" not in proc.stdout + proc.stderr
    (entry,) = json.loads(listed.stdout)
    assert entry == json.loads(shown.stdout)
    assert (entry["name"], entry["host"], entry["password"]) == (
        "g",
        "ghcr.io",
        "<hidden, 8 chars>",
    )


def test_resolve_and_explain_rank_rows_the_same_way(admin: Run) -> None:
    add(admin, "wide", "--url", "ghcr.io", "--username", "w", "--pattern", "ghcr.io/**")
    add(admin, "api", "--url", "ghcr.io", "--username", "a", "--pattern", "acme/api")
    proc = admin("explain", "ghcr.io/acme/api:1.0")
    assert proc.returncode == 0
    text = proc.stdout.decode()
    assert "pattern 'ghcr.io/**' matches" in text and "pattern 'acme/api' matches" in text
    assert "winner: row 'api'" in text
    assert json.loads(admin("resolve", "ghcr.io/acme/web").stdout)["Username"] == "w"
    assert json.loads(admin("resolve", "ghcr.io").stdout)["Username"] == "w"


def test_ties_are_broken_the_same_way(admin: Run, table: Table) -> None:
    # Two rows whose names differ only in case rank by name, then Id, on both backends.
    add(admin, "one", "--url", "quay.io", "--username", "first")
    add(admin, "ONE", "--url", "quay.io", "--username", "second")
    expected = sorted(table.rows(), key=lambda r: (r["Name"].casefold(), r["Id"]))[0]
    assert json.loads(admin("resolve", "quay.io").stdout)["Username"] == expected["Username"]


def test_doctor_reports_invalid_patterns(admin: Run, table: Table) -> None:
    add(admin, "g", "--url", "ghcr.io", "--username", "u")
    table.execute("""UPDATE "Registries" SET "ImagePatterns" = '["quay.io/**"]'""")
    sick = admin("doctor")
    assert sick.returncode == 1
    assert b"invalid pattern" in sick.stdout and b"quay.io" in sick.stdout
    assert b"2 registry row(s)" not in sick.stdout and b"1 registry row(s)" in sick.stdout


def test_move_secrets_to_the_database_when_none_is_elsewhere(admin: Run, table: Table) -> None:
    add(admin, "g", "--url", "ghcr.io", "--username", "u")
    proc = admin("registry", "move-secrets", "--to", "database")
    assert proc.returncode == 0, proc.stderr
    assert b"moved 0 secret(s)" in proc.stdout
    assert table.rows()[0]["Password"] == "pw"


def test_concurrent_set_default_leaves_one_default(admin: Run, table: Table) -> None:
    names = [f"r{i}" for i in range(6)]
    for name in names:
        add(admin, name, "--url", f"{name}.example.com", "--username", "u")
    with ThreadPoolExecutor(len(names)) as pool:
        done = list(pool.map(lambda n: admin("registry", "set-default", n), names))
    assert all(p.returncode == 0 for p in done), [p.stderr for p in done]
    assert sum(r["IsDefault"] for r in table.rows()) == 1


def test_a_password_inside_the_uri_is_refused(run: Run, pg_uri: str) -> None:
    uri = pg_uri.replace("postgres@", "postgres:s3cret@")
    for args in (("registry", "list"), ("registry", "add", "x", "--url", "ghcr.io")):
        proc = run(*args, "--db", uri)
        assert proc.returncode == 1
        assert b"PGPASSWORD" in proc.stderr and b"~/.pgpass" in proc.stderr
        assert b"s3cret" not in proc.stderr + proc.stdout


def test_a_postgresql_db_never_becomes_a_file(
    exe: Path, env: dict[str, str], tmp_path: Path
) -> None:
    # Before: `--db postgresql://…` silently created a SQLite file named after the URI.
    work = tmp_path / "work"
    work.mkdir()
    uri = "postgresql://postgres@127.0.0.1:1/fleet"
    for args in (("registry", "list"), ("registry", "remove", "x")):
        proc = subprocess.run(
            [str(exe), *args, "--db", uri], cwd=work, env=env, capture_output=True, timeout=60
        )
        assert proc.returncode == 1 and b"PostgreSQL" in proc.stderr
        assert proc.stderr.count(b"\n") == 1
    assert list(work.iterdir()) == []


def test_online_checks_read_their_row_from_either_backend(admin: Run) -> None:
    # Port 1 refuses at once: each verb reaches the row's registry, whichever backend holds it.
    secret = b"s3cret-never-shown"
    add(admin, "gone", "--url", "http://127.0.0.1:1", "--username", "u", password=secret + b"\n")
    tested = admin("registry", "test", "--timeout", "2", "--json")
    assert tested.returncode == 1, tested.stderr
    assert [(r["name"], r["status"]) for r in json.loads(tested.stdout)] == [
        ("gone", "unreachable")
    ]
    doctor = admin("doctor", "--online", "--timeout", "2")
    assert doctor.returncode == 1 and b"PROBLEM  online: row 'gone'" in doctor.stdout
    explained = admin("explain", "127.0.0.1:1", "--online", "--timeout", "2")
    assert b"online: Registries row 'gone' at http://127.0.0.1:1: unreachable" in explained.stdout
    for proc in (tested, doctor, explained):
        assert secret not in proc.stdout + proc.stderr


def test_doctor_reports_a_postgresql_query_the_server_refuses(run: Run, pg_uri: str) -> None:
    table = PostgresTable(pg_uri)
    added = run("registry", "add", "g", "--url", "ghcr.io", "--username", "u", "--db", pg_uri)
    assert added.returncode == 0, added.stderr
    # A role that sees the table (it may insert) but may not read it.
    role = "reader_" + pg_uri.rsplit("/", 1)[1]
    table.execute(f'CREATE ROLE "{role}" LOGIN')
    table.execute(f'GRANT INSERT ON "Registries" TO "{role}"')
    proc = run("doctor", "--db", pg_uri.replace("postgres@", f"{role}@"))
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    problems = [line for line in proc.stdout.splitlines() if b"permission denied" in line]
    assert len(problems) == 1 and problems[0].startswith(b"PROBLEM  PostgreSQL database ")


def test_doctor_reports_a_postgresql_row_skipped_for_a_wrong_typed_cell(
    run: Run, pg_uri: str
) -> None:
    table = PostgresTable(pg_uri)
    added = run("registry", "add", "g", "--url", "ghcr.io", "--username", "u", "--db", pg_uri)
    assert added.returncode == 0, added.stderr
    table.execute(
        'ALTER TABLE "Registries" ALTER COLUMN "Username" TYPE bytea '
        "USING convert_to(\"Username\", 'UTF8')"
    )
    (row,) = table.rows()
    proc = run("doctor", "--db", pg_uri)
    assert proc.returncode == 1
    assert (
        f"PROBLEM  skipping the Registries row with Id '{row['Id']}': its Username is a BLOB"
    ).encode() in proc.stdout.splitlines()
    assert b"ok       0 registry row(s)" in proc.stdout.splitlines()
