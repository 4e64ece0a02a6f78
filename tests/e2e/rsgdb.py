"""Write and read Registries rows with raw SQL, the way ReadyStackGo (EF Core) writes them."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

from readystackgo import DDL, create_readystackgo_database

ORGANIZATION_ID = "0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9"


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
    row_id = str(uuid.uuid4()).upper()
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "0"  # 7 fractional digits
    with sqlite3.connect(path) as db:
        db.execute(
            'INSERT INTO "Registries" ("Id", "OrganizationId", "Name", "Url", "Username",'
            ' "Password", "IsDefault", "CreatedAt", "UpdatedAt", "ImagePatterns", "Version")'
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 1)",
            (
                row_id,
                ORGANIZATION_ID,
                name,
                url,
                username,
                password,
                int(is_default),
                created,
                json.dumps(patterns or []),
            ),
        )
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
