"""ReadyStackGo's database as ReadyStackGo really has it, written independently of the product.

EF Core's ``SqliteDatabaseCreator.Create`` (dotnet/efcore, src/EFCore.Sqlite.Core/Storage/
Internal/SqliteDatabaseCreator.cs) opens the new file, runs ``PRAGMA journal_mode = 'wal';`` and
closes it; then the migrator creates ``__EFMigrationsHistory`` and applies the migrations
(``Organizations``, then ``Registries``). While ReadyStackGo runs, Microsoft.Data.Sqlite's pool
keeps one connection open, so ``-wal`` and ``-shm`` sit beside the file, and every write is a
short transaction; a clean stop closes the pool, which checkpoints and removes both files.
"""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path

# DESIGN.md's DDL, verbatim: the table exactly as ReadyStackGo's EF Core model creates it. The
# tests build databases from this copy, not from the product's, so a drift in either shows.
DDL = """
CREATE TABLE "Registries" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Registries" PRIMARY KEY,
    "OrganizationId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Url" TEXT NOT NULL,
    "Username" TEXT NULL,
    "Password" TEXT NULL,
    "IsDefault" INTEGER NOT NULL,
    "CreatedAt" TEXT NOT NULL,
    "UpdatedAt" TEXT NULL,
    "ImagePatterns" TEXT NOT NULL,
    "Version" INTEGER NOT NULL
);
CREATE INDEX "IX_Registries_OrganizationId" ON "Registries" ("OrganizationId");
CREATE INDEX "IX_Registries_OrganizationId_IsDefault"
    ON "Registries" ("OrganizationId", "IsDefault") WHERE [IsDefault] = 1;
CREATE UNIQUE INDEX "IX_Registries_OrganizationId_Name" ON "Registries" ("OrganizationId", "Name");
"""
# What makes a database ReadyStackGo's: EF Core's migrations history.
EF_HISTORY_TABLE = """
CREATE TABLE "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);
"""
MIGRATION = ("20250101000000_InitialCreate", "9.0.0")
EF_HISTORY = EF_HISTORY_TABLE + (
    f"INSERT INTO \"__EFMigrationsHistory\" VALUES ('{MIGRATION[0]}', '{MIGRATION[1]}');\n"
)
ORGANIZATIONS = """
CREATE TABLE "Organizations" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Organizations" PRIMARY KEY,
    "Name" TEXT NOT NULL,
    "CreatedAt" TEXT NOT NULL
);
"""
ORGANIZATION_ID = "0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9"
SIDE_FILES = ("-wal", "-shm", "-journal")


def ef_timestamp() -> str:
    """UTC now as EF Core writes a DateTime to SQLite: seven fractional digits."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "0"


def create_readystackgo_database(
    path: Path, *, wal: bool = True, organization: str | None = ORGANIZATION_ID
) -> None:
    """Create ReadyStackGo's database the EF Core way (``wal=False``: the old rollback journal)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    if wal:
        conn.execute("PRAGMA journal_mode = 'wal';")  # SqliteDatabaseCreator.Create
    conn.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for statement in (EF_HISTORY_TABLE + ORGANIZATIONS + DDL).split(";"):
            if statement.strip():
                conn.execute(statement)
        if organization:
            conn.execute(
                'INSERT INTO "Organizations" VALUES (?, ?, ?)',
                (organization, "Default", ef_timestamp()),
            )
        conn.execute('INSERT INTO "__EFMigrationsHistory" VALUES (?, ?)', MIGRATION)
        conn.execute("COMMIT")
    finally:
        conn.close()


def insert_registry(
    conn: sqlite3.Connection,
    name: str,
    url: str,
    username: str | None,
    password: str | None,
    patterns: list[str] | None = None,
    *,
    is_default: bool = False,
    organization: str = ORGANIZATION_ID,
) -> str:
    """INSERT one row as ReadyStackGo does (uppercase GUID, JSON patterns); returns its Id."""
    row_id = str(uuid.uuid4()).upper()
    conn.execute(
        'INSERT INTO "Registries" ("Id", "OrganizationId", "Name", "Url", "Username",'
        ' "Password", "IsDefault", "CreatedAt", "UpdatedAt", "ImagePatterns", "Version")'
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 1)",
        (
            row_id,
            organization,
            name,
            url,
            username,
            password,
            int(is_default),
            ef_timestamp(),
            json.dumps(patterns or []),
        ),
    )
    return row_id


def side_files(path: Path) -> list[str]:
    """Which of ``-wal``, ``-shm``, ``-journal`` exist beside ``path``."""
    return [suffix for suffix in SIDE_FILES if os.path.exists(f"{path}{suffix}")]


class RunningReadyStackGo:
    """ReadyStackGo while it runs: one pooled connection held open, writes in short transactions.

    Use as a context manager, or call ``stop()``: a clean stop closes the connection, which
    checkpoints the WAL into the database and removes ``-wal`` and ``-shm``.
    """

    def __init__(self, path: Path, busy_timeout: float = 30) -> None:
        self.path = path
        # Microsoft.Data.Sqlite's default is a 30 s busy timeout; 0 makes any wait an error.
        self.conn = sqlite3.connect(
            path, isolation_level=None, timeout=busy_timeout, check_same_thread=False
        )
        # The pool's connection has read the schema, so -wal and -shm exist from here on.
        self.conn.execute('SELECT count(*) FROM "Registries"').fetchone()

    def __enter__(self) -> RunningReadyStackGo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, name: str, url: str, username: str | None, password: str | None, **kw) -> str:
        """Insert a row in one short transaction, as a save on the Settings page does."""
        self.conn.execute("BEGIN")
        try:
            row_id = insert_registry(self.conn, name, url, username, password, **kw)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return row_id

    def set_password(self, name: str, password: str) -> None:
        """Change one row's password in one short transaction, bumping Version."""
        self.conn.execute("BEGIN")
        self.conn.execute(
            'UPDATE "Registries" SET "Password" = ?, "UpdatedAt" = ?, "Version" = "Version" + 1 '
            'WHERE "Name" = ?',
            (password, ef_timestamp(), name),
        )
        self.conn.execute("COMMIT")

    def stop(self) -> None:
        """A clean stop: the last connection closes, -wal and -shm go away."""
        self.conn.close()
