"""sync's reading of a PostgreSQL SOURCE: the digest a replica is stamped with names its rows."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from readystack.store import pgsql, registries, replica, schema

ROW = (
    "6F9619FF-8B86-D011-B42D-00C04FC964FF", "0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9", "r",
    "https://r.example.com", "before", "pw", False, "2026-01-01 00:00:00.0000000", None,
    '["r/*"]', 1,
)  # fmt: skip
USERNAME = schema.at("Username")


def _source(uri: str) -> None:
    db = pgsql.open_write(uri)  # the helper's own tables, as `--db postgresql://` creates them
    db.close()
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f'INSERT INTO "Registries" VALUES ({", ".join(["%s"] * len(ROW))})', ROW)


def test_the_digest_and_the_rows_come_from_one_snapshot(
    pg_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _source(pg_uri)
    digest = pgsql.Connection.digest

    def then_a_writer_commits(self: pgsql.Connection, sql: str, params: tuple = ()) -> str:
        found = digest(self, sql, params)
        with psycopg.connect(pg_uri, autocommit=True) as other:
            other.execute('UPDATE "Registries" SET "Username" = \'later\'')
        return found

    monkeypatch.setattr(pgsql.Connection, "digest", then_a_writer_commits)
    dest = str(tmp_path / "replica.db")
    first = replica.read_source(pg_uri, print, dest)
    # The rows are those the digest hashed: the write that came between is not among them.
    assert [r[USERNAME] for r in first.rows] == ["before"]
    replica.write_dest(dest, first.rows, first.digest)
    monkeypatch.setattr(pgsql.Connection, "digest", digest)
    # So the stamp names "before": the next round sees a new digest and the row that changed.
    second = replica.read_source(pg_uri, print, dest)
    assert second.unchanged is None and [r[USERNAME] for r in second.rows] == ["later"]
    replica.write_dest(dest, second.rows, second.digest)
    third = replica.read_source(pg_uri, print, dest)
    assert third.unchanged is not None and third.unchanged.summary().startswith("0 added, 0 upd")
    db = registries.open_read(dest)
    assert db is not None
    try:
        assert [r.username for r in db.all_rows()] == ["later"]
    finally:
        db.close()


def test_every_wait_on_postgresql_is_bounded_by_the_timeout() -> None:
    """sync --timeout: connect, statements, lock waits, and a peer that vanished."""
    from readystack.store import pgsql

    bounds = pgsql.bounds({}, 2.5)
    assert bounds["connect_timeout"] == 2  # libpq's minimum is 2 s
    assert "-c statement_timeout=2500" in str(bounds["options"])
    assert "-c lock_timeout=2500" in str(bounds["options"])
    assert bounds["keepalives"] == 1 and bounds["tcp_user_timeout"] == 2500
    kept = pgsql.bounds({"connect_timeout": "7", "options": "-c search_path=fleet"}, 30)
    assert "connect_timeout" not in kept  # the URI's own value wins
    assert str(kept["options"]).startswith("-c search_path=fleet -c statement_timeout=30000")


@pytest.mark.parametrize("length", [100, 101], ids=["at-the-limit", "one-over"])
def test_a_cell_is_measured_in_characters_not_bytes(
    pg_uri: str, tmp_path: Path, length: int
) -> None:
    # The PostgreSQL scan tries octet_length first (schema.within_limits): a Name of 100 two-byte
    # characters is 200 bytes and still ReadyStackGo's (HasMaxLength(100) counts characters).
    _source(pg_uri)
    with psycopg.connect(pg_uri, autocommit=True) as conn:
        conn.execute('UPDATE "Registries" SET "Name" = %s', ("é" * length,))
    notes: list[str] = []
    source = replica.read_source(pg_uri, notes.append, str(tmp_path / "replica.db"))
    copied = [r[schema.at("Name")] for r in source.rows]
    if length <= schema.max_len("Name"):
        assert (copied, notes) == (["é" * length], [])
    else:
        assert copied == [] and len(notes) == 1 and "longer than 100 characters" in notes[0]
