"""sync copies every value exactly: PostgreSQL -> SQLite -> PostgreSQL, cell by cell."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from .backends import PostgresTable, SqliteTable
from .conftest import Run

ORG = "0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9"
# Id, Name, Url, Username, Password, IsDefault, CreatedAt, UpdatedAt, ImagePatterns, Version
AWKWARD = [
    ("abcdef01-0000-4000-8000-00000000000a", "quote's \"double\"", "https://q.example.com",
     "", None, False, "2025-01-01 00:00:00", None, "", 0),
    ("ABCDEF01-0000-4000-8000-00000000000B", "régistry ✓ 日本 🐳", "https://ü.example.com",
     None, "p\\N%s?$1\\\\", True, "2025-01-01T00:00:00.1234567Z", "2025-02-02 00:00:00.0000000",
     '[ "a/*" ,  "b/**" ]', 2147483647),
    ("AbCdEf01-0000-4000-8000-00000000000c", "tab\tnew\nline\rcr\x01\x1f\x7f", "https://c.example.com",
     "0042", "1e3", False, "2025-01-01 00:00:00.0000000+00:00", "", "not json", -1),
    ("00000000-0000-4000-8000-00000000000d", "\\N", "https://n.example.com",
     "null", "NULL", False, "2025-01-01 00:00:00.0000000", "0", "  ", 7),
    ("00000000-0000-4000-8000-00000000000e", "123", "https://e.example.com/ with space",
     "'; DROP TABLE \"Registries\"; --", "\\x41\\", False, "2025-01-01 00:00:00.0000000",
     None, '["x"]', 1),
]  # fmt: skip
NAMES = ("Id", "Name", "Url", "Username", "Password", "IsDefault", "CreatedAt", "UpdatedAt",
         "ImagePatterns", "Version")  # fmt: skip


def awkward_source(run: Run, uri: str) -> PostgresTable:
    """A PostgreSQL table (made by the helper) holding the awkward rows, written by SQL."""
    table = PostgresTable(uri)
    proc = run(
        "registry", "add", "plain", "--url", "https://plain.example.com", "--username", "u",
        "--password-stdin", "--db", uri, stdin=b"pw\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for row in AWKWARD:
        table.execute(
            'INSERT INTO "Registries" ("Id", "OrganizationId", "Name", "Url", "Username", '
            '"Password", "IsDefault", "CreatedAt", "UpdatedAt", "ImagePatterns", "Version") '
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (row[0], ORG, *row[1:]),
        )
    return table


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["Id"]: r for r in rows}


def test_awkward_values_survive_postgresql_to_sqlite_to_postgresql(
    run: Run, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    cluster = request.getfixturevalue("pg_cluster")
    source = awkward_source(run, cluster.new_database())
    replica = SqliteTable(tmp_path / "replica.db")
    there = run("sync", "--from", source.db, "--to", replica.db)
    assert there.returncode == 0, there.stderr
    assert b"6 added, 0 updated, 0 removed, 0 kept" in there.stdout
    original = by_id(source.rows())
    copied = by_id(replica.rows())
    assert copied.keys() == original.keys()
    for row_id, row in original.items():
        for column, value in row.items():
            assert copied[row_id][column] == value, (row_id, column)
            assert type(copied[row_id][column]) is type(value), (row_id, column)
    # SQLite's own types: integers stay integers, text stays text (even "0042"), NULL stays NULL.
    conn = sqlite3.connect(replica.path)
    types = conn.execute(
        'SELECT "Id", typeof("Username"), typeof("IsDefault"), typeof("Version"), '
        'typeof("UpdatedAt"), "IsDefault" FROM "Registries"'
    ).fetchall()
    conn.close()
    for row_id, username, is_default, version, updated, flag in types:
        assert (is_default, version) == ("integer", "integer")
        assert flag in (0, 1)
        assert username == ("null" if original[row_id]["Username"] is None else "text")
        assert updated == ("null" if original[row_id]["UpdatedAt"] is None else "text")
    # Unchanged values compare equal: a second sync changes nothing.
    again = run("sync", "--from", source.db, "--to", replica.db)
    assert b"0 added, 0 updated, 0 removed, 0 kept" in again.stdout, again.stdout
    back = PostgresTable(cluster.new_database())
    home = run("sync", "--from", replica.db, "--to", back.db)
    assert home.returncode == 0, home.stderr
    assert back.rows() == source.rows()
    assert [
        r["Id"] for r in back.query('SELECT "Id" FROM "Registries" ORDER BY "CreatedAt", "Id"')
    ] == [r["Id"] for r in source.query('SELECT "Id" FROM "Registries" ORDER BY "CreatedAt", "Id"')]


@pytest.mark.parametrize("column", ["Name", "Username", "Password", "UpdatedAt", "Version"])
def test_one_changed_awkward_value_is_one_update(
    run: Run, tmp_path: Path, request: pytest.FixtureRequest, column: str
) -> None:
    source = awkward_source(run, request.getfixturevalue("pg_cluster").new_database())
    replica = SqliteTable(tmp_path / "replica.db")
    assert run("sync", "--from", source.db, "--to", replica.db).returncode == 0
    changed = {"Name": "quote's \"double\" ", "Username": None, "Password": "",
               "UpdatedAt": "2025-01-01 00:00:00", "Version": 1}[column]  # fmt: skip
    source.execute(
        f'UPDATE "Registries" SET "{column}" = ? WHERE "Id" = ?', (changed, AWKWARD[0][0])
    )
    proc = run("sync", "--from", source.db, "--to", replica.db)
    assert b"0 added, 1 updated, 0 removed, 0 kept" in proc.stdout, proc.stdout
    assert by_id(replica.rows())[AWKWARD[0][0]][column] == changed


def test_a_sync_with_nothing_to_change_leaves_the_replica_file_as_it_is(
    run: Run, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = awkward_source(run, request.getfixturevalue("pg_cluster").new_database())
    replica = tmp_path / "replica.db"
    assert run("sync", "--from", source.db, "--to", str(replica)).returncode == 0
    before = (replica.stat().st_ino, replica.stat().st_mtime_ns, replica.read_bytes())
    again = run("sync", "--from", source.db, "--to", str(replica))
    assert b"0 added, 0 updated, 0 removed, 0 kept" in again.stdout, again.stdout
    assert (replica.stat().st_ino, replica.stat().st_mtime_ns, replica.read_bytes()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("replica.db")] == [
        "replica.db"
    ]  # no journal or other side file beside it
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def stamped(source: PostgresTable, replica: Path, run: Run) -> None:
    """Sync ``source`` into ``replica`` and check the replica carries SOURCE's stamp."""
    proc = run("sync", "--from", source.db, "--to", str(replica))
    assert proc.returncode == 0, proc.stderr
    conn = sqlite3.connect(replica)
    try:
        assert len(conn.execute('SELECT "Digest" FROM "ReadyStackSync"').fetchall()) == 1
    finally:
        conn.close()


@pytest.fixture
def stamped_pair(
    run: Run, tmp_path: Path, request: pytest.FixtureRequest
) -> tuple[PostgresTable, Path]:
    """The awkward PostgreSQL table, and a replica that one sync stamped with it."""
    source = awkward_source(run, request.getfixturevalue("pg_cluster").new_database())
    replica = tmp_path / "replica.db"
    stamped(source, replica, run)
    return source, replica


def test_a_current_replica_is_neither_locked_nor_written(
    run: Run, stamped_pair: tuple[PostgresTable, Path]
) -> None:
    source, replica = stamped_pair
    before = (replica.stat().st_ino, replica.stat().st_mtime_ns, replica.read_bytes())
    # Another writer holds the replica's write lock: a round that had to write would wait for it
    # (and fail after its 10 s timeout); a round that finds its stamp neither waits nor writes.
    holder = sqlite3.connect(replica, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        proc = run("sync", "--from", source.db, "--to", str(replica), timeout=8)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 0, proc.stderr
    assert b"0 added, 0 updated, 0 removed, 0 kept" in proc.stdout, proc.stdout
    assert (replica.stat().st_ino, replica.stat().st_mtime_ns, replica.read_bytes()) == before


@pytest.mark.parametrize("drop_trigger", [False, True])
def test_a_hand_edit_of_a_copied_row_is_undone_by_the_next_sync(
    run: Run, stamped_pair: tuple[PostgresTable, Path], drop_trigger: bool
) -> None:
    source, replica = stamped_pair
    conn = sqlite3.connect(replica, isolation_level=None)
    if drop_trigger:
        # Without the trigger that voids it, the stamp is not trusted at all.
        conn.execute('DROP TRIGGER "ReadyStackSync_Registries_update"')
    conn.execute('UPDATE "Registries" SET "Password" = \'edited\' WHERE "Id" = ?', (AWKWARD[0][0],))
    conn.close()
    proc = run("sync", "--from", source.db, "--to", str(replica))
    assert b"0 added, 1 updated, 0 removed, 0 kept" in proc.stdout, proc.stdout
    assert by_id(SqliteTable(replica).rows())[AWKWARD[0][0]]["Password"] is None
    # The rewritten replica is stamped (and guarded) again: the next round writes nothing.
    before = (replica.stat().st_ino, replica.read_bytes())
    stamped(source, replica, run)
    assert (replica.stat().st_ino, replica.read_bytes()) == before


def test_a_login_on_a_stamped_replica_is_kept_and_counted(
    run: Run, stamped_pair: tuple[PostgresTable, Path]
) -> None:
    source, replica = stamped_pair
    login = b'{"ServerURL":"mine.example.com","Username":"me","Secret":"mine"}'
    assert run("store", stdin=login, READYSTACK_DB=str(replica)).returncode == 0
    for _ in range(2):  # the first round restamps the replica, the second finds the stamp
        proc = run("sync", "--from", source.db, "--to", str(replica))
        assert b"0 added, 0 updated, 0 removed, 1 kept (login rows)" in proc.stdout, proc.stdout
    got = run("get", stdin=b"mine.example.com", READYSTACK_DB=str(replica))
    assert json.loads(got.stdout)["Secret"] == "mine"
    source.execute('DELETE FROM "Registries" WHERE "Id" = ?', (AWKWARD[1][0],))
    proc = run("sync", "--from", source.db, "--to", str(replica))
    assert b"0 added, 0 updated, 1 removed, 1 kept (login rows)" in proc.stdout, proc.stdout
