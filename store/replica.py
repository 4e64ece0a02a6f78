"""`sync`'s mechanics: read SOURCE's rows, then make DEST's equal, keeping DEST's login rows."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable

from . import conventions, registries
from .registries import COLUMNS, SQLITE, DatabaseError, Registries

Raw = tuple  # the 11 COLUMNS, then Origin and SecretStore
ID, NAME, PASSWORD, IS_DEFAULT, UPDATED, VERSION, ORIGIN, STORE = 0, 2, 5, 6, 8, 10, 11, 12
QUOTED = ", ".join(f'"{c}"' for c in COLUMNS)
INSERT = f'INSERT INTO "Registries" ({QUOTED}) VALUES ({", ".join("?" for _ in COLUMNS)})'
COPY = f'COPY "Registries" ({QUOTED}) FROM STDIN'
SIDE_INSERT = (
    'INSERT INTO "ReadyStackHelper" ("RegistryId", "Origin", "SecretStore") VALUES (?, ?, ?)'
)
# A SQLite database whose header says WAL (bytes 18-19 are 2): see `_refuse_wal`.
WAL_HEADER_BYTE = 18


class Plan:
    """DEST's new rows and what changed: added, updated, removed, kept (login rows)."""

    def __init__(self, old: list[Raw], source: list[Raw]) -> None:
        logins = [r for r in old if r[ORIGIN] == "login"]
        copied = {r[ID]: r for r in old if r[ORIGIN] != "login"}
        login_ids = {r[ID] for r in logins}
        source = [r for r in source if r[ID] not in login_ids]
        self.added = sum(1 for r in source if r[ID] not in copied)
        self.updated = sum(1 for r in source if r[ID] in copied and r != copied[r[ID]])
        self.removed = len(copied.keys() - {r[ID] for r in source})
        self.logins = _renamed(logins, {str(r[NAME]).lower() for r in source})
        self.kept = len(logins)
        self.renamed = sum(1 for a, b in zip(logins, self.logins, strict=True) if a != b)
        self.rows = source + self.logins

    @property
    def changes(self) -> bool:
        """Whether DEST must change at all."""
        return bool(self.added or self.updated or self.removed or self.renamed)

    def summary(self) -> str:
        """The counts, as `sync` prints them."""
        text = (
            f"{self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.kept} kept (login rows)"
        )
        return text + (f", {self.renamed} of them renamed" if self.renamed else "")


def _renamed(logins: list[Raw], taken: set[str]) -> list[Raw]:
    # DESIGN.md: a kept login row whose name collides gets " (local)", then " (local 2)", ...
    out = []
    for row in logins:
        name = str(row[NAME])
        if name.lower() in taken:
            candidates = [f"{name} (local)"] + [f"{name} (local {i})" for i in range(2, 1000)]
            name = next(c for c in candidates if c.lower() not in taken)
            row = _with(row, {NAME: name, UPDATED: registries.now(), VERSION: row[VERSION] + 1})
        taken.add(name.lower())
        out.append(row)
    return out


def _with(row: Raw, changes: dict[int, object]) -> Raw:
    return tuple(changes.get(i, v) for i, v in enumerate(row))


def raw_rows(db: Registries, every_organization: bool = False) -> list[Raw]:
    """Every row with all its columns and its side-table entry, in table order.

    One shape on both backends, made in SQL (10,000 rows must not cost a Python loop each):
    IsDefault 0/1, Origin and SecretStore filled in for rows the side table does not list.
    """
    if "Registries" not in db.tables:
        return []
    side = "ReadyStackHelper" in db.tables
    columns = [f'r."{c}"' for c in COLUMNS]
    # A 0/1 integer on SQLite, a boolean on PostgreSQL: 0/1 from both.
    columns[IS_DEFAULT] = 'CASE WHEN r."IsDefault" THEN 1 ELSE 0 END'
    sql = (
        "SELECT "
        + ", ".join(columns)
        + (
            ", coalesce(h.\"Origin\", 'admin'), coalesce(h.\"SecretStore\", 'database')"
            if side
            else ", 'admin', 'database'"
        )
        + ' FROM "Registries" r'
        + (' LEFT JOIN "ReadyStackHelper" h ON h."RegistryId" = r."Id"' if side else "")
    )
    params: tuple = ()
    if db.organization is not None and not every_organization:
        sql += ' WHERE upper(r."OrganizationId") = ?'
        params = (db.organization,)
    sql += " ORDER BY " + db.dialect.r_order + db.lock_rows
    return db.query(sql, params)


def read_source(location: str, warn: Callable[[str], None]) -> list[Raw]:
    """SOURCE's rows to copy: never its login rows; keyring-held secrets left out (reported)."""
    try:
        return _read_source(location, warn)
    except (DatabaseError, registries.sqlite3.Error, OSError) as exc:
        raise DatabaseError(f"cannot read {conventions.shown(location)}: {_reason(exc)}") from None


def _reason(exc: BaseException) -> str:
    # The store's messages already say what could not be done to which file: keep the why.
    text = getattr(exc, "strerror", None) or str(exc)
    for prefix in ("cannot read ", "cannot write ", "cannot open "):
        if text.startswith(prefix) and ": " in text:
            return text.split(": ", 1)[1]
    return text


def _read_source(location: str, warn: Callable[[str], None]) -> list[Raw]:
    db = _open_source(location)
    try:
        if "Registries" not in db.tables:
            raise DatabaseError("it has no Registries table")
        rows = raw_rows(db)
    finally:
        db.close()
    out = []
    for row in rows:
        if row[ORIGIN] == "login":
            continue
        if row[STORE] != "database":
            if row[STORE].startswith("keyring:"):
                warn(
                    f"registry {row[NAME]!r}: its secret is in a keyring on the source host; "
                    "copied without it"
                )
            row = _with(row, {PASSWORD: None, STORE: "database"})
        # Copied rows are plain rows: an administrator's row with its password, or none.
        out.append(row if row[ORIGIN] == "admin" else _with(row, {ORIGIN: "admin"}))
    return out


def _open_source(location: str) -> Registries:
    if conventions.is_remote(location):
        from . import pgsql

        return pgsql.open_read(location)
    db = registries.open_read(location)  # reads without leaving a trace, even ReadyStackGo's
    if db is None:
        raise DatabaseError("it does not exist")
    return db


def write_dest(location: str, source: list[Raw]) -> Plan:
    """Make DEST's rows SOURCE's, keeping DEST's login rows; returns what changed."""
    try:
        if conventions.is_remote(location):
            return _write_postgres(location, source)
        return _write_file_retrying(location, source)
    except (DatabaseError, registries.sqlite3.Error, OSError) as exc:
        raise DatabaseError(f"cannot write {conventions.shown(location)}: {_reason(exc)}") from None


def _write_file_retrying(location: str, source: list[Raw]) -> Plan:
    for _ in range(10):
        try:
            return _write_file(location, source)
        except registries.Replaced:
            continue  # another sync replaced the file while this one waited: read it again
    raise DatabaseError("it keeps being replaced; is another sync running?")


def _refuse(db: Registries) -> None:
    if db.is_readystackgo:
        raise DatabaseError(
            "it is a ReadyStackGo database; sync never writes to one (use it as --from)"
        )


def _write_postgres(uri: str, source: list[Raw]) -> Plan:
    from . import pgsql

    db = pgsql.open_write(uri)
    try:
        with registries.transaction(db):
            plan = Plan(raw_rows(db, every_organization=True), source)
            if plan.changes:
                db.conn.execute('DELETE FROM "Registries"')
                db.conn.copy_rows(  # type: ignore[attr-defined]
                    COPY, (row[: len(COLUMNS)] for row in plan.rows)
                )
                _write_side(db, plan)
    finally:
        db.close()
    return plan


def _write_side(db: Registries, plan: Plan) -> None:
    if "ReadyStackHelper" in db.tables:
        db.conn.execute('DELETE FROM "ReadyStackHelper"')
    for row in plan.logins:
        registries.record_side(db, row[ID], "login", row[STORE])


def _write_file(path: str, source: list[Raw]) -> Plan:
    if os.path.exists(path):
        _refuse_wal(path)
    db = registries.open_write(path)  # an empty DEST is created first, so logins lock it too
    try:
        _refuse(db)
        # The write lock is held from reading DEST's login rows until the new file is in place:
        # a `docker login` waiting for it then finds the file replaced and writes to the new one.
        with registries.transaction(db):
            plan = Plan(raw_rows(db, every_organization=True), source)
            if plan.changes:
                _replace(path, plan)
    finally:
        db.close()
    return plan


def _refuse_wal(path: str) -> None:
    # SQLite opens an existing `-wal` beside a file whatever the file's header says, so a file
    # renamed over a WAL database could be read together with the old one's log.
    with open(path, "rb") as fh:
        header = fh.read(WAL_HEADER_BYTE + 2)
    if len(header) == WAL_HEADER_BYTE + 2 and header[WAL_HEADER_BYTE] == 2:
        raise DatabaseError(
            "it is in WAL mode, and sync keeps replicas in rollback-journal mode: give a new file"
        )


def _replace(path: str, plan: Plan) -> None:
    """Write the new table to a file beside ``path``, fsync it, and rename it over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".sync", dir=folder)
    os.close(fd)  # mkstemp made it 0600
    try:
        _fill(temp, plan)
        old = os.stat(path)
        if os.geteuid() == 0 and (old.st_uid, old.st_gid) != (0, 0):
            os.chown(temp, old.st_uid, old.st_gid)  # root syncing a user's replica keeps it theirs
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)


def _fill(temp: str, plan: Plan) -> None:
    conn = registries.sqlite3.connect(temp, isolation_level=None)
    try:
        # Nobody else sees this file until the rename, and it is fsynced whole before that.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        table, *indexes = SQLITE.schema
        conn.execute(table)
        conn.executemany(INSERT, [row[: len(COLUMNS)] for row in plan.rows])
        for statement in indexes:  # built once from the rows: faster than row by row
            conn.execute(statement)
        conn.execute(registries.SIDE_TABLE)
        conn.executemany(SIDE_INSERT, ((r[ID], "login", r[STORE]) for r in plan.logins))
        conn.execute("COMMIT")
    finally:
        conn.close()
