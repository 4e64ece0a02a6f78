"""Opening a database for a lookup: no side file, no hang, and every committed write seen."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
import rawdb
from readystack.store import errors, registries, sqliteread, writes
from readystackgo import RunningReadyStackGo, create_readystackgo_database


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """ReadyStackGo's database as EF Core creates it, with ReadyStackGo stopped."""
    path = tmp_path / "rsg" / "readystackgo.db"
    create_readystackgo_database(path)
    return path


def test_a_stopped_wal_database_is_read_without_a_lock_or_side_file(db: Path) -> None:
    with RunningReadyStackGo(db) as rsg:
        rsg.add("a", "https://ghcr.io", "u", "p")
    found = registries.open_read(str(db))
    assert found is not None and found.reader is not None
    try:
        assert found.reader.unlocked
        assert [r.name for r in found.all_rows()] == ["a"]
        assert os.listdir(db.parent) == ["readystackgo.db"]
    finally:
        found.close()


def test_a_write_that_starts_during_an_unlocked_read_is_seen(db: Path) -> None:
    found = registries.open_read(str(db))
    assert found is not None and found.reader is not None and found.reader.unlocked
    try:
        with RunningReadyStackGo(db) as rsg:
            rsg.add("late", "https://ghcr.io", "u", "p")
            # The open connection predates the write; the -wal that appeared forces a re-read.
            assert [r.name for r in found.rows_for_host("ghcr.io")] == ["late"]
            assert not found.reader.unlocked
    finally:
        found.close()


def test_while_running_every_commit_is_seen_by_an_open_reader(db: Path) -> None:
    with RunningReadyStackGo(db) as rsg:
        rsg.add("a", "https://ghcr.io", "u", "p1")
        found = registries.open_read(str(db))
        assert found is not None
        try:
            rsg.set_password("a", "p2")
            assert found.rows_for_host("ghcr.io")[0].password == "p2"
        finally:
            found.close()
        assert sorted(os.listdir(db.parent)) == [
            "readystackgo.db",
            "readystackgo.db-shm",
            "readystackgo.db-wal",
        ]
    assert os.listdir(db.parent) == ["readystackgo.db"]


def test_a_wal_without_its_shm_is_refused_in_one_sentence(db: Path, tmp_path: Path) -> None:
    with RunningReadyStackGo(db) as rsg:
        rsg.add("a", "https://ghcr.io", "u", "p")
        shutil.copy(f"{db}-wal", tmp_path / "kept-wal")
    shutil.copy(tmp_path / "kept-wal", f"{db}-wal")  # as after a crash that lost the -shm
    with pytest.raises(errors.DatabaseError, match="-wal file exists without its -shm"):
        registries.open_read(str(db))
    assert sorted(os.listdir(db.parent)) == ["readystackgo.db", "readystackgo.db-wal"]


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_non_regular_file_is_refused_without_blocking(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "registries.db"
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    expected = "not a regular file" if kind == "fifo" else "is a folder, not a database file"
    with pytest.raises(errors.DatabaseError, match=expected):
        registries.open_read(str(path))


def test_a_rollback_journal_database_is_read_the_normal_way(tmp_path: Path) -> None:
    path = tmp_path / "rsg" / "readystackgo.db"
    create_readystackgo_database(path, wal=False)
    found = registries.open_read(str(path))
    assert found is not None and found.reader is not None
    try:
        assert not found.reader.unlocked and found.is_readystackgo
    finally:
        found.close()
    assert os.listdir(path.parent) == ["readystackgo.db"]


def test_a_missing_database_is_none_and_an_unopenable_one_an_sqlite_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert registries.open_read(str(tmp_path / "missing.db")) is None

    def refuse(*_: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(sqliteread.os, "open", refuse)
    with pytest.raises(errors.DatabaseError, match="cannot read .*: Permission denied"):
        registries.open_read(str(tmp_path / "any.db"))


def test_readers_left_open_are_closed_at_exit(db: Path) -> None:
    found = registries.open_read(str(db))
    assert found is not None and found.reader is not None
    sqliteread.close_all()  # what the atexit handler does before cli.run's os._exit
    assert found.reader.fd == -1 and found.reader.conn is None
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        found.conn.execute("SELECT 1")


def test_a_database_replaced_during_an_unlocked_read_is_read_again(db: Path) -> None:
    found = registries.open_read(str(db))
    assert found is not None and found.reader is not None and found.reader.unlocked
    try:
        fresh = db.with_name("fresh.db")
        create_readystackgo_database(fresh)
        with RunningReadyStackGo(fresh) as rsg:
            rsg.add("new", "https://ghcr.io", "u", "p")
        os.replace(fresh, db)  # as `sync` swaps in a new copy
        assert [r.name for r in found.all_rows()] == ["new"]
    finally:
        found.close()


@pytest.mark.parametrize("readystackgo", [False, True])
def test_a_hot_journal_is_rolled_back_in_private_and_nothing_beside_the_file_changes(
    tmp_path: Path, readystackgo: bool
) -> None:
    """A writer killed mid-commit never blinds a reader, who still writes nothing beside it."""
    path = tmp_path / "data" / "registries.db"
    if readystackgo:
        create_readystackgo_database(path, wal=False)
    else:
        path.parent.mkdir()
        rawdb.make(path)
    rawdb.insert(path, "A", "kept", "https://ghcr.io")
    rawdb.leave_hot_journal(path)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in path.parent.iterdir()}
    with pytest.raises(sqlite3.OperationalError, match="readonly"):  # what a plain reader gets
        sqlite3.connect(sqliteread.read_only_uri(str(path)), uri=True).execute(
            'SELECT * FROM "Registries"'
        )
    found = registries.open_read(str(path))
    assert found is not None
    try:
        # (ReadyStackGo's file has its own organization; the raw row is what counts here.)
        assert found.query('SELECT "Name" FROM "Registries"') == [("kept",)]
        assert found.is_readystackgo == readystackgo
    finally:
        found.close()
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in path.parent.iterdir()}
    assert after == before  # the journal stays for the next writer; nothing was written


def test_a_writer_rolls_the_hot_journal_back_and_keeps_every_committed_row(tmp_path: Path) -> None:
    path = tmp_path / "registries.db"
    rawdb.make(path)
    rawdb.insert(path, "A", "kept", "https://ghcr.io")
    rawdb.leave_hot_journal(path)
    db = writes.open_write(str(path))
    try:
        assert [r.name for r in db.all_rows()] == ["kept"]
        assert db.query("PRAGMA integrity_check") == [("ok",)]
    finally:
        db.close()
    assert not os.path.exists(f"{path}-journal")


# What a process that has not imported functools (the PyInstaller binary) does with _sqlite3:
# load it without functools, and still cache statements with the C cache functools would give.
_WITHOUT_FUNCTOOLS = """
import sys
sys.path.insert(0, sys.argv[1])
from readystack.store.sqliteread import sqlite3
assert sqlite3.__name__ == "_sqlite3", sqlite3
assert "functools" not in sys.modules and "collections" not in sys.modules, sorted(sys.modules)
conn = sqlite3.connect(":memory:", cached_statements=4)
conn.execute("CREATE TABLE t (n INTEGER)")
conn.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(10)])
# More distinct statements than the cache holds, each run twice: evicted and cached ones alike.
for _ in range(2):
    for n in range(10):
        assert conn.execute(f"SELECT n FROM t WHERE n = {n}").fetchall() == [(n,)]
import functools
assert functools.reduce(lambda a, b: a + b, range(4)) == 6  # the real module, imported later
print("ok")
"""


def test_without_functools_loaded_sqlite_gets_the_c_statement_cache(tmp_path: Path) -> None:
    import subprocess
    import sys

    package = tmp_path / "readystack"
    package.mkdir()
    (package / "store").symlink_to(Path(sqliteread.__file__).parent)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _WITHOUT_FUNCTOOLS, str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


def test_the_stand_in_lru_cache_caches_as_functools_does() -> None:
    import functools

    calls: list[str] = []

    def compile_statement(sql: str) -> str:
        calls.append(sql)
        return sql.upper()

    for size in (2, -1):
        calls.clear()
        ours = sqliteread._lru_cache(size)(compile_statement)
        theirs = functools.lru_cache(size)(compile_statement)
        for sql in ("a", "b", "a", "c", "a", "b"):
            assert ours(sql) == theirs(sql) == sql.upper()
        # Each miss calls the function once for each cache: the two caches missed alike.
        assert calls[0::2] == calls[1::2]
        assert len(calls) == (8 if size > 0 else 12)  # a, b and c missed; then a and b again
        assert type(ours) is type(theirs)
