"""The storage contract, in-process, on SQLite and on PostgreSQL.

`StorageContract` states what every backend of the Registries table keeps, in the manner of
keyring's `keyring.testing.backend.BackendBasicTests` (tests/keyringcontract.py does the same for
keyrings): a subclass says how to open a writable table with `open_table()`, and inherits the
tests. The PostgreSQL subclass uses the suite's private cluster (tests/postgres.py): skipped
with the reason when PostgreSQL is not installed, a failure under CI=true.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from readystack.store import errors, pgsql, registries, schema, writes

GUID = re.compile(r"[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}")
STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7}")


class StorageContract:
    """The tests every backend inherits; ``db`` is an open, writable, empty table."""

    @pytest.fixture
    def db(self) -> Iterator[registries.Registries]:
        opened = self.open_table()
        try:
            yield opened
        finally:
            opened.close()

    def open_table(self) -> registries.Registries:
        raise NotImplementedError

    # ---- helpers -------------------------------------------------------------------------

    @staticmethod
    def add(db: registries.Registries, name: str, url: str, **given: object) -> str:
        cells: dict[str, object] = {
            "username": "u",
            "password": "p",
            "patterns_json": "[]",
            "is_default": False,
            "origin": "admin",
            "secret_store": "database",
        }
        cells.update(given)
        with writes.transaction(db):
            return writes.insert_row(db, name=name, url=url, **cells)  # type: ignore[arg-type]

    @staticmethod
    def cells(db: registries.Registries, row_id: str, *names: str) -> tuple:
        quoted = ", ".join(f'"{n}"' for n in names)
        found = db.conn.execute(f'SELECT {quoted} FROM "Registries" WHERE "Id" = ?', (row_id,))
        return tuple(found.fetchone())

    @staticmethod
    def defaults(db: registries.Registries) -> list[str]:
        return sorted(r.name for r in db.all_rows() if r.is_default)

    # ---- the contract --------------------------------------------------------------------

    def test_add(self, db: registries.Registries) -> None:
        row_id = self.add(db, "ghcr", "https://ghcr.io", patterns_json='["ghcr.io/team/*"]')
        assert GUID.fullmatch(row_id)
        row = db.row_by_name("ghcr")
        assert row is not None
        assert (row.id, row.url, row.host, row.username, row.password) == (
            row_id, "https://ghcr.io", "ghcr.io", "u", "p"
        )  # fmt: skip
        assert (row.patterns, row.is_default, row.origin, row.is_login) == (
            ["ghcr.io/team/*"], False, "admin", False
        )  # fmt: skip
        version, created, updated = self.cells(db, row_id, "Version", "CreatedAt", "UpdatedAt")
        assert (version, updated) == (1, None)
        assert STAMP.fullmatch(created)
        assert [r.id for r in db.rows_for_host("ghcr.io")] == [row_id]
        assert db.rows_for_host("quay.io") == []

    def test_update_bumps_version_and_stamp(self, db: registries.Registries) -> None:
        row_id = self.add(db, "ghcr", "https://ghcr.io")
        with writes.transaction(db):
            writes.update_row(db, row_id, Username="new", ImagePatterns='["ghcr.io/x/**"]')
        row = db.row_by_name("ghcr")
        assert row is not None and (row.username, row.patterns) == ("new", ["ghcr.io/x/**"])
        version, updated = self.cells(db, row_id, "Version", "UpdatedAt")
        assert version == 2 and STAMP.fullmatch(updated)

    def test_remove(self, db: registries.Registries) -> None:
        kept = self.add(db, "quay", "https://quay.io")
        gone = self.add(db, "ghcr", "https://ghcr.io", origin="login")
        with writes.transaction(db):
            writes.delete_row(db, gone)
        assert [r.id for r in db.all_rows()] == [kept]
        side = db.conn.execute(
            'SELECT count(*) FROM "ReadyStackHelper" WHERE "RegistryId" = ?', (gone,)
        )
        assert side.fetchone()[0] == 0

    def test_set_default_keeps_a_single_default(self, db: registries.Registries) -> None:
        a = self.add(db, "a", "https://a.example.com", is_default=True)
        b = self.add(db, "b", "https://b.example.com")
        assert self.defaults(db) == ["a"]
        with writes.transaction(db):
            writes.set_default(db, b)
        assert self.defaults(db) == ["b"]
        assert self.cells(db, a, "Version") == (2,) and self.cells(db, b, "Version") == (2,)
        with writes.transaction(db):
            writes.set_default(db, b)  # already the default: nothing changes
        assert self.cells(db, b, "Version") == (2,)
        self.add(db, "c", "https://c.example.com", is_default=True)
        assert self.defaults(db) == ["c"]
        assert self.cells(db, b, "Version") == (3,)

    def test_login_rows(self, db: registries.Registries) -> None:
        admin = self.add(db, "ghcr", "https://ghcr.io")
        login = self.add(db, "ghcr (login)", "https://ghcr.io", origin="login", username="me")
        key = self.add(db, "hub key", "https://index.docker.io/v1/access-token", origin="login")
        by_id = {r.id: r for r in db.all_rows()}
        assert (by_id[admin].is_login, by_id[login].is_login) == (False, True)
        assert by_id[login].login_host == "ghcr.io"
        assert by_id[key].is_oauth_key
        assert {r.id for r in db.rows_for_host("ghcr.io")} == {admin, login}
        found = db.row_for_key("https://index.docker.io/v1/access-token")
        assert found is not None and found.id == key
        with writes.transaction(db):
            writes.record_side(db, login, "login", "keyring:x.Y")
        row = db.row_by_name("ghcr (login)")
        assert row is not None and (row.secret_store, row.in_keyring) == ("keyring:x.Y", True)

    def test_names_are_unique_per_organization(self, db: registries.Registries) -> None:
        self.add(db, "ghcr", "https://ghcr.io")
        with pytest.raises(errors.DatabaseError):
            self.add(db, "ghcr", "https://other.example.com")
        organization = writes.write_organization(db)
        assert writes.unique_name(db, organization, "GHCR") == "GHCR (login)"
        assert writes.unique_name(db, organization, "quay") == "quay"
        found = db.row_by_name("GHCR")  # people type names in any case
        assert found is not None and found.name == "ghcr"

    def test_a_failed_transaction_writes_nothing(self, db: registries.Registries) -> None:
        with pytest.raises(RuntimeError), writes.transaction(db):
            writes.insert_row(
                db, name="x", url="https://x.example.com", username="u", password="p",
                patterns_json="[]", is_default=False, origin="login", secret_store="database",
            )  # fmt: skip
            raise RuntimeError("crash")
        assert db.all_rows() == []

    def test_cells_past_their_maximum_are_skipped_in_sql(self, db: registries.Registries) -> None:
        self.add(db, "ghcr", "https://ghcr.io")
        for n, column in enumerate(c.name for c in schema.LIMITED):
            cells: dict[str, object] = {
                "Id": f"big-{n}", "OrganizationId": writes.write_organization(db),
                "Name": f"big {n}", "Url": "https://ghcr.io/", "Username": "big",
                "Password": "p", "IsDefault": False, "CreatedAt": writes.now(),
                "UpdatedAt": None, "ImagePatterns": "[]", "Version": 1,
            }  # fmt: skip
            cells[column] = str(cells[column]) + "x" * schema.max_len(column)
            db.conn.execute(schema.INSERT, tuple(cells[name] for name in schema.NAMES))
        assert [r.name for r in db.all_rows()] == ["ghcr"]
        assert [r.name for r in db.rows_for_host("ghcr.io")] == ["ghcr"]
        assert db.row_by_name("big 0") is None
        lines = db.too_long()
        assert len(lines) == len(schema.LIMITED)
        for line, column in zip(lines, schema.LIMITED, strict=True):
            assert f"its {column.name} is longer than {column.max_len} characters" in line

    def test_a_login_token_may_pass_the_password_maximum(self, db: registries.Registries) -> None:
        token = "t" * 5000
        self.add(db, "ecr", "https://1.dkr.ecr.example.com", origin="login", password=token)
        assert [r.password for r in db.rows_for_host("1.dkr.ecr.example.com")] == [token]
        assert db.too_long() == []


class TestSQLite(StorageContract):
    """A file, as `store` and the management verbs open it."""

    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.path = tmp_path / "registries.db"

    def open_table(self) -> registries.Registries:
        return writes.open_write(str(self.path))


class TestPostgres(StorageContract):
    """A PostgreSQL database, as `--db postgresql://…` opens it."""

    @pytest.fixture(autouse=True)
    def _database(self, pg_uri: str) -> None:
        self.uri = pg_uri

    def open_table(self) -> registries.Registries:
        return pgsql.open_write(self.uri)
