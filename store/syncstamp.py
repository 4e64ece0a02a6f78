"""The stamp `sync` leaves in a replica it wrote from PostgreSQL: the digest of SOURCE's rows.

A timer's next round reads every SOURCE row again (as `psql \\copy` does), hashes it and, when
the digest is the stamped one, writes nothing. The stamp only says so while nobody wrote the
replica since: any write to its tables (a `docker login`, a hand edit) fires a trigger that
deletes it, and a replica whose triggers are not exactly these has no stamp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .registries import Registries, sqlite3

TABLE_DDL = 'CREATE TABLE "ReadyStackSync" ("Digest" TEXT NOT NULL)'
TRIGGERS = tuple(
    f'CREATE TRIGGER "ReadyStackSync_{table}_{event}" AFTER {event.upper()} ON "{table}" '
    'BEGIN DELETE FROM "ReadyStackSync"; END'
    for table in ("Registries", "ReadyStackHelper")
    for event in ("insert", "update", "delete")
)
_FOUND = (
    "SELECT sql FROM sqlite_master WHERE (type = 'table' AND name = 'ReadyStackSync') OR "
    "(type = 'trigger' AND tbl_name IN ('Registries', 'ReadyStackHelper'))"
)


def install(conn: sqlite3.Connection, digest: str) -> None:
    """Stamp a database being built (after its rows: the triggers must not fire on them)."""
    conn.execute(TABLE_DDL)
    conn.execute('INSERT INTO "ReadyStackSync" ("Digest") VALUES (?)', (digest,))
    for trigger in TRIGGERS:
        conn.execute(trigger)


def read(db: Registries) -> str | None:
    """The stamped digest, or None unless the table and every trigger that voids it are there."""
    found = {sql for (sql,) in db.query(_FOUND)}
    if TABLE_DDL not in found or not found.issuperset(TRIGGERS):
        return None
    stamps = db.query('SELECT "Digest" FROM "ReadyStackSync"')
    return str(stamps[0][0]) if len(stamps) == 1 else None
