"""Write and read Registries rows with raw SQL, the way ReadyStackGo (EF Core) writes them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from readystackgo import DDL, ORGANIZATION_ID, create_readystackgo_database, insert_registry


def create_database(path: Path, *, readystackgo: bool = False) -> None:
    """Create the Registries table; with `readystackgo`, ReadyStackGo's database as EF Core does."""
    if readystackgo:
        create_readystackgo_database(path, organization=ORGANIZATION_ID)
        return
    with sqlite3.connect(path) as db:
        db.executescript(DDL)
    db.close()


def add_registry(
    path: Path,
    name: str,
    url: str,
    username: str | None,
    password: str | None,
    patterns: list[str] | None = None,
    *,
    is_default: bool = False,
) -> str:
    """INSERT one row as ReadyStackGo does (uppercase GUIDs, JSON patterns); returns its Id."""
    with sqlite3.connect(path) as db:
        row_id = insert_registry(db, name, url, username, password, patterns, is_default=is_default)
    db.close()
    return row_id


def registry_rows(path: Path) -> list[dict[str, object]]:
    """All Registries rows as dicts; no database or no table yet means no rows."""
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        db.row_factory = sqlite3.Row
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "Registries" not in tables:
            return []
        return [dict(row) for row in db.execute('SELECT * FROM "Registries" ORDER BY "Name"')]
    finally:
        db.close()


def side_rows(path: Path) -> dict[str, dict[str, object]]:
    """The helper's own side table (`ReadyStackHelper`) keyed by RegistryId; empty when absent."""
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        db.row_factory = sqlite3.Row
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "ReadyStackHelper" not in tables:
            return {}
        return {
            str(row["RegistryId"]): dict(row)
            for row in db.execute('SELECT * FROM "ReadyStackHelper"')
        }
    finally:
        db.close()
