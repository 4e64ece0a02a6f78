"""The Registries table: schema, file modes, row format, filtering, read-only opens, locks."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from readystack.store import conventions, errors, registries, writes

GUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7}")
COLUMNS = [
    "Id",
    "OrganizationId",
    "Name",
    "Url",
    "Username",
    "Password",
    "IsDefault",
    "CreatedAt",
    "UpdatedAt",
    "ImagePatterns",
    "Version",
]


def shape(path: Path) -> dict[str, Any]:
    """Everything about the Registries schema that a ReadyStackGo model depends on."""
    conn = sqlite3.connect(path)
    try:
        columns = conn.execute('PRAGMA table_info("Registries")').fetchall()
        indexes = {}
        for _, name, unique, _origin, partial in conn.execute('PRAGMA index_list("Registries")'):
            cols = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')]
            indexes[name] = (unique, partial, cols)
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'Registries'").fetchone()[0]
        return {"columns": columns, "indexes": indexes, "tables": tables, "sql": sql}
    finally:
        conn.close()


def insert(db: registries.Registries, name: str, url: str, **kw: Any) -> str:
    values = {
        "username": "u",
        "password": "p",
        "patterns_json": "[]",
        "is_default": False,
        "origin": "admin",
        "secret_store": "database",
    }
    values.update(kw)
    with writes.transaction(db):
        return writes.insert_row(db, name=name, url=url, **values)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "new" / "deeper" / "registries.db"


@pytest.fixture
def wdb(db_path: Path):
    db = writes.open_write(str(db_path))
    yield db
    db.close()


def test_schema_is_design_ddl(tmp_path: Path, make_rsg: Any, db_path: Path) -> None:
    reference = tmp_path / "reference.db"
    make_rsg(reference)
    writes.open_write(str(db_path)).close()
    ours, theirs = shape(db_path), shape(reference)
    assert ours["columns"] == theirs["columns"]
    assert [c[1] for c in ours["columns"]] == COLUMNS
    assert ours["indexes"] == theirs["indexes"]
    assert ours["indexes"]["IX_Registries_OrganizationId_Name"][0] == 1
    assert ours["indexes"]["IX_Registries_OrganizationId_IsDefault"][1] == 1
    assert ours["tables"] == {"Registries"}
    for column in COLUMNS:
        assert f'"{column}"' in ours["sql"]
    assert 'CONSTRAINT "PK_Registries" PRIMARY KEY' in ours["sql"]


def test_new_database_modes(db_path: Path) -> None:
    old = os.umask(0o022)
    try:
        writes.open_write(str(db_path)).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_existing_database_is_not_altered(rsg: Any) -> None:
    rsg.add("Admin", "https://ghcr.io")
    before = shape(rsg.path)
    db = writes.open_write(str(rsg.path))
    try:
        insert(db, "Another", "https://quay.io")  # an admin row: no side table needed
    finally:
        db.close()
    after = shape(rsg.path)
    assert after == before


def test_a_written_row_has_readystackgos_column_formats(
    wdb: registries.Registries, db_path: Path
) -> None:
    row_id = insert(wdb, "R", "https://ghcr.io", patterns_json='["acme/*"]')
    conn = sqlite3.connect(db_path)
    row = conn.execute(
        'SELECT "Id", "OrganizationId", "CreatedAt", "UpdatedAt", "Version", "ImagePatterns", '
        '"IsDefault" FROM "Registries"'
    ).fetchone()
    conn.close()
    assert row[0] == row_id and GUID.fullmatch(row_id)
    assert row[1] == conventions.DEFAULT_ORGANIZATION == row[1].upper()
    assert STAMP.fullmatch(row[2])
    assert row[3] is None and row[4] == 1
    assert json.loads(row[5]) == ["acme/*"]
    assert row[6] == 0


def test_new_id_and_now() -> None:
    ids = {writes.new_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(GUID.fullmatch(i) for i in ids)
    assert STAMP.fullmatch(writes.now())


def test_update_bumps_version_and_updated_at(wdb: registries.Registries, db_path: Path) -> None:
    row_id = insert(wdb, "R", "https://ghcr.io")
    for _ in range(2):
        with writes.transaction(wdb):
            writes.update_row(wdb, row_id, Username="new")
    version, updated, user = (
        sqlite3.connect(db_path)
        .execute('SELECT "Version", "UpdatedAt", "Username" FROM "Registries"')
        .fetchone()
    )
    assert (version, user) == (3, "new")
    assert STAMP.fullmatch(updated)


def test_side_table_only_when_needed(wdb: registries.Registries, db_path: Path) -> None:
    insert(wdb, "Admin", "https://ghcr.io")
    assert "ReadyStackHelper" not in shape(db_path)["tables"]
    login = insert(wdb, "Login", "https://quay.io", origin="login")
    assert "ReadyStackHelper" in shape(db_path)["tables"]
    rows = sqlite3.connect(db_path).execute('SELECT * FROM "ReadyStackHelper"').fetchall()
    assert rows == [(login, "login", "database")]


def test_delete_row_removes_side_entry(wdb: registries.Registries, db_path: Path) -> None:
    login = insert(wdb, "Login", "https://quay.io", origin="login")
    with writes.transaction(wdb):
        writes.delete_row(wdb, login)
    conn = sqlite3.connect(db_path)
    assert conn.execute('SELECT count(*) FROM "ReadyStackHelper"').fetchone()[0] == 0
    assert conn.execute('SELECT count(*) FROM "Registries"').fetchone()[0] == 0


def test_transaction_rolls_back(wdb: registries.Registries) -> None:
    with pytest.raises(RuntimeError), writes.transaction(wdb):
        writes.insert_row(
            wdb,
            name="R",
            url="https://ghcr.io",
            username="u",
            password="p",
            patterns_json="[]",
            is_default=False,
            origin="login",
            secret_store="database",
        )
        raise RuntimeError("boom")
    fresh = registries.open_read(wdb.path)
    assert fresh is not None
    try:
        assert fresh.all_rows() == []
        assert "ReadyStackHelper" not in fresh.tables
    finally:
        fresh.close()


def test_setting_a_default_clears_the_previous_one(wdb: registries.Registries) -> None:
    a = insert(wdb, "A", "https://ghcr.io", is_default=True)
    b = insert(wdb, "B", "https://quay.io", is_default=True)
    assert {r.id: r.is_default for r in wdb.all_rows()} == {a: False, b: True}
    with writes.transaction(wdb):
        writes.set_default(wdb, a)
    assert {r.id: r.is_default for r in wdb.all_rows()} == {a: True, b: False}


def test_a_taken_name_gets_a_numbered_login_suffix(wdb: registries.Registries) -> None:
    org = writes.write_organization(wdb)
    insert(wdb, "ghcr.io", "https://ghcr.io")
    assert writes.unique_name(wdb, org, "quay.io") == "quay.io"
    assert writes.unique_name(wdb, org, "GHCR.IO") == "GHCR.IO (login)"
    insert(wdb, "ghcr.io (login)", "https://ghcr.io")
    assert writes.unique_name(wdb, org, "ghcr.io") == "ghcr.io (login 2)"


def test_new_rows_join_the_first_organization_or_the_one_in_use(
    tmp_path: Path, make_rsg: Any
) -> None:
    first, second = "11111111-1111-4111-8111-11111111111a", "22222222-2222-4222-8222-222222222222"
    with_orgs = make_rsg(tmp_path / "orgs.db", organizations=[first, second])
    db = writes.open_write(str(with_orgs.path))
    assert writes.write_organization(db) == first.upper()
    db.close()
    reused = make_rsg(tmp_path / "reuse.db")
    reused.add("X", "https://ghcr.io", org=second.lower())
    db = writes.open_write(str(reused.path))
    assert writes.write_organization(db) == second
    db.close()


# ---- reading ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def filled(make_rsg: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = make_rsg(tmp_path_factory.mktemp("filled") / "filled.db")
    for name, url in [
        ("plain", "https://r.io"),
        ("port", "https://r.io:5000"),
        ("upper", "HTTPS://R.IO/v2/"),
        ("bare", "r.io"),
        ("evil", "https://r.io.evil.com"),
        ("sub", "https://sub.r.io"),
        ("hub1", "https://index.docker.io/v1/"),
        ("hub2", "https://registry-1.docker.io"),
        ("hub3", "docker.io"),
        ("hub4", "https://registry.hub.docker.com"),
        ("hubport", "https://docker.io:443"),
        ("oauth", "https://index.docker.io/v1/access-token"),
        ("junk", "::::"),
        ("trick1", "https://r.io@evil.com"),
        ("trick2", "https://evil.com/r.io"),
    ]:
        db.add(name, url)
    return db


@pytest.mark.parametrize(
    ("host", "names"),
    [
        ("r.io", ["plain", "upper", "bare"]),
        ("r.io:5000", ["port"]),
        ("r.io.evil.com", ["evil"]),
        # userinfo makes a URL name no host at all (the WHATWG and Go readings differ)
        ("evil.com", ["trick2"]),
        ("docker.io", ["hub1", "hub2", "hub3", "hub4"]),
        ("docker.io:443", ["hubport"]),
        ("nothing.io", []),
    ],
)
def test_rows_for_host(filled: Any, host: str, names: list[str]) -> None:
    db = registries.open_read(str(filled.path))
    assert db is not None
    try:
        assert [r.name for r in db.rows_for_host(host)] == names
    finally:
        db.close()


def test_row_for_key_and_junk_url(filled: Any) -> None:
    db = registries.open_read(str(filled.path))
    assert db is not None
    try:
        assert db.row_for_key("https://index.docker.io/v1/access-token") is None  # admin row
        junk = db.row_by_name("JUNK")
        assert junk is not None and junk.host is None
        assert len(db.all_rows()) == 15
    finally:
        db.close()


def test_patterns_read_as_lists(make_rsg: Any, tmp_path: Path) -> None:
    db = make_rsg(tmp_path / "p.db")
    db.add("two", "https://ghcr.io", patterns=["b/*", "a/**"])
    db.add("none", "https://ghcr.io", patterns=[])
    db.add("bad", "https://ghcr.io", patterns="[1]")
    opened = registries.open_read(str(db.path))
    assert opened is not None
    try:
        got = {r.name: r.patterns for r in opened.rows_for_host("ghcr.io")}
    finally:
        opened.close()
    assert got == {"two": ["b/*", "a/**"], "none": [], "bad": None}


def test_open_read_missing_returns_none(tmp_path: Path) -> None:
    assert registries.open_read(str(tmp_path / "absent.db")) is None
    assert not (tmp_path / "absent.db").exists()


def test_open_read_is_read_only(rsg: Any) -> None:
    db = registries.open_read(str(rsg.path))
    assert db is not None
    try:
        with pytest.raises(sqlite3.OperationalError):
            db.conn.execute('DELETE FROM "Registries"')
    finally:
        db.close()


@pytest.mark.parametrize("name", ["odd?name#%.db", "with space.db"])
def test_open_read_odd_file_names(make_rsg: Any, tmp_path: Path, name: str) -> None:
    db = make_rsg(tmp_path / name)
    db.add("X", "https://ghcr.io")
    opened = registries.open_read(str(db.path))
    assert opened is not None
    try:
        assert [r.name for r in opened.rows_for_host("ghcr.io")] == ["X"]
    finally:
        opened.close()


def test_corrupt_database_raises_a_database_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"definitely not sqlite\x00" * 100)
    with pytest.raises(errors.DatabaseError, match="not a database"):
        db = registries.open_read(str(path))
        if db is not None:
            db.rows_for_host("ghcr.io")


def test_empty_file_is_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    db = registries.open_read(str(path))
    assert db is not None
    try:
        assert db.rows_for_host("ghcr.io") == []
    finally:
        db.close()


def test_locked_database_fails_fast(rsg: Any) -> None:
    rsg.add("X", "https://ghcr.io")
    holder = sqlite3.connect(rsg.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        start = time.monotonic()
        with pytest.raises(errors.DatabaseError, match="locked"):
            db = registries.open_read(str(rsg.path))
            if db is not None:
                db.rows_for_host("ghcr.io")
        elapsed = time.monotonic() - start
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert elapsed < 3.0
    assert elapsed >= registries.READ_TIMEOUT * 0.5  # it did wait for the busy timeout


def test_a_writer_refuses_a_database_another_user_owns_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "theirs.db"
    writes.open_write(str(path)).close()
    if os.geteuid() == 0:
        os.chown(path, 65534, 65534)  # nobody's
    else:
        owner = path.stat().st_uid
        monkeypatch.setattr(os, "geteuid", lambda: owner + 4242)  # as if another user ran this
    with pytest.raises(errors.DatabaseError, match="belongs to .*name it with --db"):
        writes.open_write(str(path))
    writes.open_write(str(path), foreign_ok=True).close()
    reader = registries.open_read(str(path))  # reading someone else's table is fine
    assert reader is not None
    reader.close()


def test_the_fixed_organization_is_the_one_design_md_names() -> None:
    # The one place the value is written in the tests: everything else reads conventions.
    assert conventions.DEFAULT_ORGANIZATION == "00000000-0000-0000-0000-000000000001"
