"""The Registries table: ReadyStackGo's schema, read and written exactly as ReadyStackGo does."""

from __future__ import annotations

import os

try:
    # The C module itself: `sqlite3` adds only date adapters we never use, and costs ~7% of a
    # lookup's instructions. connect, Connection and Error are the very same objects.
    import _sqlite3 as sqlite3
except ImportError:  # pragma: no cover - interpreters without the private module
    import sqlite3  # type: ignore[no-redef]

from . import hosts, sqliteread
from .conventions import REMOTE_REFUSAL, is_remote
from .diag import debug, warn
from .rows import Row, make_row
from .schema import (
    BY_NAME,
    INSERT,
    LOOKUP,
    NAMES,
    PATTERN,
    PATTERN_TYPE,
    SIDE_COLUMNS,
    SIDE_INSERT,
    SIDE_TABLE,
    SQLITE_DDL,
    at,
)

TYPE_CHECKING = False  # `typing` itself is never imported by a lookup
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

# A pull must never hang on a writer holding the lock: give up after this and try the next source.
READ_TIMEOUT = 1.0
# Writers wait longer: a `docker login` racing ReadyStackGo should succeed, not fail.
WRITE_TIMEOUT = 10.0
# Used for writes to an empty database that has no Organizations table.
DEFAULT_ORGANIZATION = "00000000-0000-0000-0000-000000000001"

# ImagePatterns as text when it is a JSON array, else NULL; json_each then yields one row per
# pattern, so patterns are parsed by SQLite's C code instead of importing json on every lookup.
_ARRAY = (
    'CASE WHEN json_valid(r."ImagePatterns") THEN CASE WHEN json_type(r."ImagePatterns") = '
    "'array' THEN r.\"ImagePatterns\" END END"
)


def _lookup_cells(side: bool) -> str:
    """What a lookup selects of a row (schema.LOOKUP); NULLs where there is no side table."""
    cells = []
    for name in LOOKUP:
        table = "h" if BY_NAME[name] in SIDE_COLUMNS else "r"
        cells.append(f'{table}."{name}"' if side or table == "r" else "NULL")
    return ", ".join(cells)


_LOOKUP_CELLS = {False: _lookup_cells(False), True: _lookup_cells(True)}
_ID = at("Id", LOOKUP)


class DatabaseError(Exception):
    """The database cannot be used for what was asked; SQLite's errors arrive as this."""


class Replaced(DatabaseError):
    """The file was replaced (by `sync`) after it was opened: open it again and retry."""


# How often a writer reopens a file that `sync` replaced while it waited for the lock.
REPLACED_RETRIES = 10
# How often a lookup reads again when ReadyStackGo wrote under its unlocked read.
READ_AGAIN = 3


def retry_replaced(path: str, verb: str, attempt: Callable[[], T]) -> T:
    """``attempt()``, which opens ``path`` and writes; again while `sync` replaces the file."""
    for _ in range(REPLACED_RETRIES):
        try:
            return attempt()
        except Replaced:
            debug(f"{verb}: {path} was replaced by a sync; {verb} again on the new file")
    raise DatabaseError(f"cannot write {path}: it keeps being replaced; is another sync running?")


def _collect(cursor: object, skipped: list[str]) -> list[Row]:
    # One result row per (registry, pattern) from json_each; fold them into Rows.
    rows: dict[object, Row] = {}
    bad: set[object] = set()
    for values in cursor:  # type: ignore[attr-defined]
        key = values[_ID]
        if key in bad:
            continue
        row = rows.get(key)
        if row is None:
            row = make_row(values, skipped)
            if row is None:
                bad.add(key)
                continue
            rows[key] = row
        pattern = values[PATTERN]
        if pattern is None:
            continue
        if values[PATTERN_TYPE] == "text" and row.patterns is not None:
            row.patterns.append(pattern)
        else:
            row.patterns = None  # a non-string element: the whole column is unusable
    return list(rows.values())


class Dialect:
    """What differs between SQLite and PostgreSQL; every query and rule is written once."""

    # Tables this helper cares about that exist.
    tables = (
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
        "('Registries', 'Organizations', '__EFMigrationsHistory', 'ReadyStackHelper')"
    )
    # The cells after schema.LOOKUP (patterns usable, one pattern, its JSON type) and their join.
    patterns = (
        f'({_ARRAY}) IS NOT NULL OR r."ImagePatterns" IS NULL '
        "OR trim(r.\"ImagePatterns\") = '', j.value, j.type"
    )
    patterns_join = f" LEFT JOIN json_each(coalesce(({_ARRAY}), '[]')) j"
    # Table order, where ties need breaking: SQLite's rowid is ReadyStackGo's insertion order.
    r_order = "r.rowid"
    row_order = "r.rowid, j.key"
    # Case-insensitive (ASCII) substring match.
    like = "LIKE"
    # Writers: SQLite locks the whole file; row locks are PostgreSQL's.
    begin: tuple[str, ...] = ("BEGIN IMMEDIATE",)
    lock_rows = ""
    schema = SQLITE_DDL
    collect = staticmethod(_collect)


SQLITE = Dialect()


def _failure(path: str, doing: str, exc: object) -> DatabaseError:
    """The DatabaseError for a SQLite failure to read or write: the access problem if any."""
    from .fileaccess import access_problem  # only once SQLite has failed

    problem = access_problem(path, write=doing == "write")
    return DatabaseError(problem or f"cannot {doing} {path}: {exc}")


class _ReadAgain(Exception):
    """The unlocked read may have missed a write; the query runs again on a locked connection."""


class Registries:
    """An open Registries database with what was learned about its shape."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        path: str,
        reader: sqliteread.Reader | None = None,
        dialect: Dialect = SQLITE,
    ) -> None:
        self.conn = conn
        self.path = path
        self.reader = reader  # lookups: how the file was opened without writing beside it
        self.dialect = dialect
        # Set inside a write transaction: rows read then are locked (PostgreSQL).
        self.lock_rows = ""
        # (device, inode) of the file a writer opened; None for readers and servers.
        self.identity: tuple[int, int] | None = None
        self._learn_shape()
        # What _select skipped, so that doctor can report it.
        self.skipped: list[str] = []

    def _learn_shape(self) -> None:
        self.tables = self.read_tables()
        self.organization = self._organization()

    def read_tables(self) -> set[str]:
        """Which of the tables this helper cares about exist."""
        return {name for (name,) in self.conn.execute(self.dialect.tables)}

    @property
    def is_readystackgo(self) -> bool:
        """A database ReadyStackGo created (it has EF Core's migrations table)."""
        return "__EFMigrationsHistory" in self.tables

    def _organization(self) -> str | None:
        if "Organizations" not in self.tables:
            return None
        first = self.conn.execute('SELECT "Id" FROM "Organizations" ORDER BY rowid LIMIT 1')
        row = first.fetchone()
        return str(row[0]).upper() if row and row[0] is not None else None

    def close(self) -> None:
        """Close the connection (and, for a lookup, the descriptor behind it)."""
        if self.reader is not None:
            self.reader.close()
        else:
            self.conn.close()

    def _fetch(self, sql: str, params: tuple) -> list[tuple]:
        try:
            rows = self.conn.execute(sql, params).fetchall()
        except sqlite3.DatabaseError:
            if self.reader is None or not self.reader.stale():
                raise
            rows = None  # a checkpoint rewrote pages under our unlocked read
        if self.reader is not None and (rows is None or self.reader.stale()):
            # ReadyStackGo started (or wrote) while we read the file without a lock: read again,
            # the locking way, which sees every committed write.
            self.conn = self.reader.reopen()
            self._learn_shape()
            raise _ReadAgain()
        return rows

    def _again(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, again on the reopened connection while an unlocked read went stale."""
        for _ in range(READ_AGAIN):
            try:
                return attempt()
            except _ReadAgain:
                continue  # the reopened connection holds a lock unless ReadyStackGo stopped again
        raise DatabaseError(f"cannot read {self.path}: it kept changing while it was read")

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """The rows of one read-only statement (read again, the locking way, if needed)."""
        try:
            return self._again(lambda: self._fetch(sql, params))
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot read {self.path}: {exc}") from None

    # ---- reading -------------------------------------------------------------------------

    def _select(self, where: str, params: tuple) -> list[Row]:
        return self._again(lambda: self._select_once(where, params))

    def _select_once(self, where: str, params: tuple) -> list[Row]:
        if "Registries" not in self.tables:
            return []
        side = "ReadyStackHelper" in self.tables
        dialect = self.dialect
        sql = (
            f"SELECT {_LOOKUP_CELLS[side]}, "
            + dialect.patterns
            + ' FROM "Registries" r'
            + (' LEFT JOIN "ReadyStackHelper" h ON h."RegistryId" = r."Id"' if side else "")
            + dialect.patterns_join
            + f" WHERE ({where})"
        )
        if self.organization is not None:
            sql += ' AND upper(r."OrganizationId") = ?'
            params = (*params, self.organization)
        sql += " ORDER BY " + dialect.row_order + self.lock_rows
        try:
            found = self._fetch(sql, params)
        except sqlite3.Error as exc:
            raise _failure(self.path, "read", exc) from None
        return dialect.collect(found, self.skipped)

    def rows_for_host(self, host: str) -> list[Row]:
        """Every row whose URL names ``host`` (canonical), Hub OAuth keys excluded."""
        # Filter in SQL on a substring of Url (C speed, no index needed on ReadyStackGo's table),
        # then confirm the exact host in Python for the few rows that survive.
        # LIKE is ASCII case-insensitive and twice as fast as instr(lower()); its `_` wildcard
        # can only add candidates, which the exact host check below removes again.
        needles = ("docker.io", "registry.hub.docker.com") if hosts.is_hub(host) else (host,)
        where = " OR ".join(f"r.\"Url\" {self.dialect.like} '%' || ? || '%'" for _ in needles)
        return [
            row for row in self._select(where, needles) if row.host == host and not row.is_oauth_key
        ]

    def row_for_key(self, key: str) -> Row | None:
        """The login row stored under exactly ``key`` (Docker Hub's OAuth keys)."""
        for row in self._select('r."Url" = ?', (key,)):
            if row.is_login:
                return row
        return None

    def all_rows(self) -> list[Row]:
        """Every row of the organization, in table order."""
        return self._select("1 = 1", ())

    def row_by_name(self, name: str) -> Row | None:
        """The row called ``name`` (case-insensitive, as people type it)."""
        exact = self._select('r."Name" = ?', (name,))
        if exact:
            return exact[0]
        found = self._select('lower(r."Name") = lower(?)', (name,))
        return found[0] if len(found) == 1 else None


def open_read(path: str) -> Registries | None:
    """Open ``path`` for a lookup, writing nothing beside it; None when there is no database."""
    try:
        reader = sqliteread.open_reader(path, READ_TIMEOUT)
    except sqlite3.Error as exc:  # sqliteread.Unreadable among them
        raise _failure(path, "read", exc) from None
    if reader is None:
        if is_remote(path):
            raise DatabaseError(REMOTE_REFUSAL)
        return None
    try:
        assert reader.conn is not None
        return Registries(reader.conn, path, reader)
    except sqlite3.Error as exc:
        reader.close()
        raise _failure(path, "read", exc) from None
    except BaseException:
        reader.close()
        raise


def open_write(path: str, create_folder: bool = True, foreign_ok: bool = False) -> Registries:
    """Open ``path`` for writing, creating it (file 0600 in a 0700 folder) with the schema.

    ``create_folder`` False: a missing folder is an error (only the default's may be created).
    ``foreign_ok`` False: a file another user (not this one, not root) owns is refused.
    """
    from .fileaccess import access_problem, file_identity, user

    if is_remote(path):
        raise DatabaseError(REMOTE_REFUSAL)  # never a file named after a URI
    problem = access_problem(path, write=True, foreign_ok=foreign_ok)
    if problem:
        raise DatabaseError(problem)
    if not os.path.lexists(path):
        folder = os.path.dirname(os.path.abspath(path))
        try:
            if not os.path.isdir(folder):
                if not create_folder:
                    raise DatabaseError(f"cannot create {path}: the folder {folder} does not exist")
                os.makedirs(folder, mode=0o700, exist_ok=True)
            # O_NOFOLLOW and O_EXCL: a symlink planted meanwhile is never followed, and the new
            # file is 0600 from its first byte.
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            os.close(os.open(path, flags, 0o600))
        except FileExistsError:
            pass  # another process created it first; its schema comes next
        except OSError as exc:
            raise DatabaseError(
                f"this user ({user()}) cannot create the database {path}: {exc.strerror}"
            ) from None
    elif not os.path.exists(path):
        # SQLite would follow the link and create its target with the umask's mode (0644),
        # secrets included, wherever the link points.
        raise DatabaseError(f"refusing to create the database through the dangling link {path}")
    # Taken before the open: a file replaced in between only causes a needless retry.
    identity = file_identity(path)
    # mode=rw: SQLite never creates the file itself, so nothing is made with the umask's mode.
    uri = "file:" + sqliteread.uri_path(path) + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=WRITE_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise _failure(path, "write", exc) from None
    try:
        db = Registries(conn, path)
        db.identity = identity
        create_schema(db)
        return db
    except sqlite3.Error as exc:
        conn.close()
        raise _failure(path, "write", exc) from None
    except BaseException:
        conn.close()
        raise


def readable_by_others(path: str) -> int | None:
    """The file's mode when group or others may read or write it, else None."""
    try:
        mode = os.stat(path).st_mode & 0o777
    except OSError:
        return None
    return mode if mode & 0o077 else None


def warn_if_readable(path: str) -> None:
    """One stderr line when others can read the database; not refused (ReadyStackGo's is 0644)."""
    mode = readable_by_others(path)
    if mode is not None:
        warn(f"{path} has mode {mode:04o}: others can read the passwords in it; chmod 600 it")


def create_schema(db: Registries) -> None:
    """Create the Registries table and its indexes when the database has none yet."""
    if "Registries" in db.tables:
        return
    with transaction(db):
        for statement in db.dialect.schema:
            db.conn.execute(statement)
    db.tables.add("Registries")


class transaction:
    """A short write transaction: ``BEGIN IMMEDIATE`` on SQLite, row locks on PostgreSQL."""

    def __init__(self, db: Registries) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        from .fileaccess import moved

        db = self.db
        try:
            for statement in db.dialect.begin:
                db.conn.execute(statement)
        except sqlite3.Error as exc:
            raise _failure(db.path, "write", exc) from None
        # A writer that waited for `sync`'s lock may hold it on a file sync has replaced. Check
        # before the first write: SQLite names its journal after the path (the new file's).
        if db.identity is not None and moved(db.path, db.identity):
            db.conn.execute("ROLLBACK")
            raise Replaced(f"{db.path} was replaced while waiting for its lock")
        # Another writer may have created a table (ReadyStackHelper) since the open: what this
        # transaction reads must see it, or a login row would pass for an administrator's.
        try:
            db.tables = db.read_tables()
        except sqlite3.Error as exc:
            db.conn.execute("ROLLBACK")
            raise DatabaseError(f"cannot write {db.path}: {exc}") from None
        db.lock_rows = db.dialect.lock_rows
        return db.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.db.lock_rows = ""
        try:
            if exc_type is None:
                self.db.conn.execute("COMMIT")
                return
            self.db.conn.execute("ROLLBACK")
            self.db.tables = self.db.read_tables()  # a table created inside is gone again
        except sqlite3.Error as error:
            raise _failure(self.db.path, "write", error) from None
        if isinstance(exc, sqlite3.Error):
            raise _failure(self.db.path, "write", exc) from None


def password_of(db: Registries, row_id: str) -> tuple[str | None] | None:
    """The row's Password column as it is now, or None when the row is gone."""
    found = db.conn.execute(
        'SELECT "Password" FROM "Registries" r WHERE "Id" = ?' + db.lock_rows, (row_id,)
    )
    row = found.fetchone()
    return None if row is None else (row[0],)


def ensure_side_table(db: Registries) -> None:
    """Create ReadyStackHelper (inside the caller's transaction) when first needed."""
    if "ReadyStackHelper" not in db.tables:
        db.conn.execute(SIDE_TABLE)
        db.tables.add("ReadyStackHelper")


def write_organization(db: Registries) -> str:
    """The organization of new rows: Organizations' first row, the table's, or a fixed one."""
    if db.organization:
        return db.organization
    row = db.conn.execute(
        f'SELECT r."OrganizationId" FROM "Registries" r ORDER BY {db.dialect.r_order} LIMIT 1'
    )
    found = row.fetchone()
    return str(found[0]).upper() if found and found[0] else DEFAULT_ORGANIZATION


def new_id() -> str:
    """A random (version 4) GUID as uppercase text, as EF Core writes it."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def now() -> str:
    """UTC now in EF Core's SQLite text format, ``YYYY-MM-DD HH:MM:SS.fffffff``."""
    import datetime

    stamp = datetime.datetime.now(datetime.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S.%f") + "0"


def unique_name(db: Registries, organization: str, wanted: str) -> str:
    """``wanted``, or ``wanted (login)``, ``wanted (login 2)``… when the name is taken."""
    taken = {
        str(n).lower()
        for (n,) in db.conn.execute(
            'SELECT "Name" FROM "Registries" WHERE upper("OrganizationId") = ?', (organization,)
        )
    }
    candidates = [wanted, f"{wanted} (login)"] + [f"{wanted} (login {i})" for i in range(2, 1000)]
    for name in candidates:
        if name.lower() not in taken:
            return name[:100]
    raise DatabaseError(f"no free registry name for {wanted!r}")


def insert_row(
    db: Registries,
    *,
    name: str,
    url: str,
    username: str | None,
    password: str | None,
    patterns_json: str,
    is_default: bool,
    origin: str,
    secret_store: str,
    row_id: str | None = None,
) -> str:
    """Insert a row (inside the caller's transaction) and record it in the side table."""
    organization = write_organization(db)
    row_id = row_id or new_id()
    if is_default:
        _clear_default(db, organization)
    cells = {
        "Id": row_id,
        "OrganizationId": organization,
        "Name": name,
        "Url": url,
        "Username": username,
        "Password": password,
        "IsDefault": bool(is_default),  # SQLite stores 1/0, PostgreSQL a boolean
        "CreatedAt": now(),
        "UpdatedAt": None,
        "ImagePatterns": patterns_json,
        "Version": 1,
    }
    db.conn.execute(INSERT, tuple(cells[name] for name in NAMES))
    record_side(db, row_id, origin, secret_store)
    return row_id


def record_side(db: Registries, row_id: str, origin: str, secret_store: str) -> None:
    """Write what only this helper needs about a row; ReadyStackGo's own rows stay unlisted."""
    if origin == "admin" and secret_store == "database" and "ReadyStackHelper" not in db.tables:
        return
    ensure_side_table(db)
    db.conn.execute(
        SIDE_INSERT + ' ON CONFLICT ("RegistryId") DO UPDATE SET "Origin" = excluded."Origin", '
        '"SecretStore" = excluded."SecretStore"',
        (row_id, origin, secret_store),
    )


def update_row(db: Registries, row_id: str, **columns: object) -> None:
    """Update some columns of a row, bumping Version and UpdatedAt as ReadyStackGo does."""
    allowed = {"Name", "Url", "Username", "Password", "IsDefault", "ImagePatterns"}
    assert set(columns) <= allowed, columns
    sets = "".join(f'"{col}" = ?, ' for col in columns)
    db.conn.execute(
        f'UPDATE "Registries" SET {sets}"UpdatedAt" = ?, "Version" = "Version" + 1 WHERE "Id" = ?',
        (*columns.values(), now(), row_id),
    )


def delete_row(db: Registries, row_id: str) -> None:
    """Delete a row and its side-table entry."""
    db.conn.execute('DELETE FROM "Registries" WHERE "Id" = ?', (row_id,))
    if "ReadyStackHelper" in db.tables:
        db.conn.execute('DELETE FROM "ReadyStackHelper" WHERE "RegistryId" = ?', (row_id,))


def set_default(db: Registries, row_id: str) -> None:
    """Make one row the organization's default (there is at most one, as in ReadyStackGo)."""
    organization = write_organization(db)
    _clear_default(db, organization, keep=row_id)
    db.conn.execute(
        'UPDATE "Registries" SET "IsDefault" = ?, "UpdatedAt" = ?, "Version" = "Version" + 1 '
        'WHERE "Id" = ? AND "IsDefault" = ?',
        (True, now(), row_id, False),
    )


def _clear_default(db: Registries, organization: str, keep: str = "") -> None:
    db.conn.execute(
        'UPDATE "Registries" SET "IsDefault" = ?, "UpdatedAt" = ?, "Version" = "Version" + 1 '
        'WHERE "IsDefault" = ? AND upper("OrganizationId") = ? AND "Id" != ?',
        (False, now(), True, organization, keep),
    )
