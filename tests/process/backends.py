"""The two places a table can live, seen the same way by the tests: a SQLite file, PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

ORDER = 'ORDER BY "Name"'


class SqliteTable:
    """A SQLite file, read with the stdlib driver."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = str(path)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of one SELECT as dicts (IsDefault as a bool, as on PostgreSQL)."""
        if not self.path.exists():
            return []
        conn = sqlite3.connect(self.path)
        conn.row_factory = sqlite3.Row
        try:
            found = [dict(r) for r in conn.execute(sql)]
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise
        finally:
            conn.close()
        for row in found:
            if "IsDefault" in row:
                row["IsDefault"] = bool(row["IsDefault"])
        return found

    def execute(self, sql: str, params: tuple = ()) -> None:
        """One statement, committed."""
        with sqlite3.connect(self.path) as conn:
            conn.execute(sql, params)
        conn.close()

    def rows(self) -> list[dict[str, Any]]:
        """Every Registries row, by name."""
        return self.query(f'SELECT * FROM "Registries" {ORDER}')


class PostgresTable:
    """A PostgreSQL database, read with psycopg."""

    name = "postgresql"

    def __init__(self, uri: str) -> None:
        self.db = uri

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of one SELECT as dicts; a missing table is no rows."""
        with psycopg.connect(self.db, row_factory=dict_row, autocommit=True) as conn:
            try:
                return list(conn.execute(sql))
            except psycopg.errors.UndefinedTable:
                return []

    def execute(self, sql: str, params: tuple = ()) -> None:
        """One statement (``?`` placeholders, as for SQLite), committed."""
        with psycopg.connect(self.db, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), params)

    def rows(self) -> list[dict[str, Any]]:
        """Every Registries row, by name."""
        return self.query(f'SELECT * FROM "Registries" {ORDER}')


Table = SqliteTable | PostgresTable
