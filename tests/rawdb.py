"""Test databases with any cell in any type, as whoever can write the file may leave them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from readystack.store.conventions import DEFAULT_ORGANIZATION as ORG
from readystackgo import DDL

SIDE = (
    'CREATE TABLE "ReadyStackHelper" ("RegistryId" TEXT NOT NULL PRIMARY KEY, '
    '"Origin" TEXT NOT NULL, "SecretStore" TEXT NOT NULL)'
)


def make(path: Path | str, *, typeless: bool = False) -> None:
    """An empty database with ReadyStackGo's table and the helper's side table.

    ``typeless`` declares no column types, so that SQLite keeps an integer in a text column as
    an integer (with ReadyStackGo's types it would turn it into text): a file written by anyone.
    """
    ddl = DDL
    if typeless:
        for declared in (" TEXT NOT NULL", " TEXT NULL", " INTEGER NOT NULL"):
            ddl = ddl.replace(declared, " NOT NULL" if "NOT" in declared else "")
    with sqlite3.connect(path) as db:
        db.executescript(ddl)
        db.execute(SIDE)
    db.close()


def insert(
    path: Path | str,
    row_id: object,
    name: object,
    url: object,
    username: object = "alice",
    password: object = "pw",
    *,
    patterns: object = "[]",
    default: object = 0,
    store: str | None = None,
) -> None:
    """One Registries row exactly as given (SQLite keeps any type in any column)."""
    with sqlite3.connect(path) as db:
        db.execute(
            'INSERT INTO "Registries" VALUES (?, ?, ?, ?, ?, ?, ?, '
            "'2025-01-01 00:00:00.0000000', NULL, ?, 1)",
            (row_id, ORG, name, url, username, password, default, patterns),
        )
        if store is not None:
            db.execute('INSERT INTO "ReadyStackHelper" VALUES (?, ?, ?)', (row_id, "admin", store))
    db.close()


# A writer killed inside its commit: SQLite spills pages into the file once its cache (one page
# here) is full, after syncing the journal, so SIGKILL then leaves a hot journal, every time.
_DIE_MID_COMMIT = """
import os, signal, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA cache_size = 1")
db.execute("BEGIN IMMEDIATE")
for i in range(200):
    db.execute(
        'INSERT INTO "Registries" VALUES (?, ?, ?, ?, NULL, ?, 0, '
        "'2025-01-01 00:00:00.0000000', NULL, '[]', 1)",
        (f"DEAD-{i}", sys.argv[2], f"dead {i}", "https://dead.example", "x" * 900),
    )
os.kill(os.getpid(), signal.SIGKILL)
"""


def leave_hot_journal(path: Path | str) -> None:
    """Kill a writer of ``path`` inside its commit, leaving a hot rollback journal beside it."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _DIE_MID_COMMIT, str(path), ORG], timeout=60)
    assert proc.returncode == -9, proc
    with open(f"{path}-journal", "rb") as journal:
        assert journal.read(8) == bytes.fromhex("d9d505f920a163d7"), "the journal is not hot"
