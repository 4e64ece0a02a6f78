"""The Registries table: ReadyStackGo's schema, read and written exactly as ReadyStackGo does."""

from __future__ import annotations

import os
import stat

try:
    # The C module itself: `sqlite3` adds only date adapters we never use, and costs ~7% of a
    # lookup's instructions. connect, Connection and Error are the very same objects.
    import _sqlite3 as sqlite3
except ImportError:  # pragma: no cover - interpreters without the private module
    import sqlite3  # type: ignore[no-redef]

from . import hosts, sqliteread
from .diag import warn

# A pull must never hang on a writer holding the lock: give up after this and try the next source.
READ_TIMEOUT = 1.0
# Writers wait longer: a `docker login` racing ReadyStackGo should succeed, not fail.
WRITE_TIMEOUT = 10.0
# Used for writes to an empty database that has no Organizations table.
DEFAULT_ORGANIZATION = "00000000-0000-0000-0000-000000000001"

SCHEMA = """
CREATE TABLE IF NOT EXISTS "Registries" (
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
CREATE INDEX IF NOT EXISTS "IX_Registries_OrganizationId" ON "Registries" ("OrganizationId");
CREATE INDEX IF NOT EXISTS "IX_Registries_OrganizationId_IsDefault"
    ON "Registries" ("OrganizationId", "IsDefault") WHERE [IsDefault] = 1;
CREATE UNIQUE INDEX IF NOT EXISTS "IX_Registries_OrganizationId_Name"
    ON "Registries" ("OrganizationId", "Name");
"""
SIDE_TABLE = (
    'CREATE TABLE IF NOT EXISTS "ReadyStackHelper" ("RegistryId" TEXT NOT NULL PRIMARY KEY, '
    '"Origin" TEXT NOT NULL, "SecretStore" TEXT NOT NULL)'
)

# ImagePatterns as text when it is a JSON array, else NULL; json_each then yields one row per
# pattern, so patterns are parsed by SQLite's C code instead of importing json on every lookup.
_ARRAY = (
    "CASE WHEN json_valid(r.ImagePatterns) THEN CASE WHEN json_type(r.ImagePatterns) = 'array' "
    "THEN r.ImagePatterns END END"
)


class DatabaseError(Exception):
    """The database cannot be used for what was asked; SQLite's errors arrive as this."""


def access_problem(path: str, write: bool = False) -> str | None:
    """Why this user cannot read (or write) the database at ``path``, and what to do; else None.

    Every verb and `doctor` say this one text, so it is computed only once SQLite has failed.
    """
    try:
        found = os.stat(path)
    except PermissionError:
        return (
            f"this user ({_user()}) may not reach the database {path}: a folder on its path is "
            "closed to them; ask its owner for access, or run as a user who may"
        )
    except OSError:
        return None  # missing: an empty table to a reader, created by a writer
    if stat.S_ISDIR(found.st_mode):
        example = os.path.join(path, "registries.db")
        return f"{path} is a folder, not a database file; name the file itself (e.g. {example})"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.access(path, os.R_OK | (os.W_OK if write else 0)):
        what = "read and write" if write else "read"
        return (
            f"this user ({_user()}) may not {what} the database {path}; ask its owner for "
            f"access (ls -l {path}), run as a user who may, or choose another with --db"
        )
    if write and not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"this user ({_user()}) may not write the folder {folder}, where SQLite keeps the "
            f"journal of {path}; ask its owner for access, or run as a user who may"
        )
    return None


def _user() -> str:
    import pwd

    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _failure(path: str, doing: str, exc: object, write: bool = False) -> DatabaseError:
    """The DatabaseError for a SQLite failure: the access problem when there is one."""
    return DatabaseError(access_problem(path, write) or f"cannot {doing} {path}: {exc}")


class _ReadAgain(Exception):
    """The unlocked read may have missed a write; the query runs again on a locked connection."""


class Row:
    """One Registries row, with what the side table says about it."""

    __slots__ = (
        "id",
        "name",
        "url",
        "host",
        "username",
        "password",
        "is_default",
        "patterns",
        "origin",
        "secret_store",
    )

    def __init__(self, values: tuple) -> None:
        _check_types(values)
        self.id: str = values[0] or ""
        self.name: str = values[1] or ""
        self.url: str = values[2] or ""
        self.username: str | None = values[3]
        self.password: str | None = values[4]
        self.is_default = bool(values[5])
        self.origin: str = values[6] or "admin"
        self.secret_store: str = values[7] or "database"
        # None means the column is not a JSON array of strings: no pattern of it can match.
        self.patterns: list[str] | None = [] if values[8] else None
        try:
            self.host: str | None = hosts.host_of_url(self.url)
        except hosts.HostError:
            self.host = None

    def __repr__(self) -> str:
        return (
            f"Row(name={self.name!r}, url={self.url!r}, username={self.username!r}, "
            f"patterns={self.patterns!r}, default={self.is_default}, origin={self.origin!r}, "
            f"secret_store={self.secret_store!r})"
        )

    @property
    def is_login(self) -> bool:
        """Rows `store` wrote for a `docker login`."""
        return self.origin == "login"

    @property
    def is_oauth_key(self) -> bool:
        """Rows holding one of Docker Hub's OAuth keys, found only by that exact key."""
        return self.url in hosts.OAUTH_KEYS

    @property
    def in_keyring(self) -> bool:
        """The secret lives in the OS keyring, not in the Password column."""
        return self.secret_store.startswith("keyring:")

    @property
    def has_credentials(self) -> bool:
        """Whether the row answers: login rows always, others with a username and a password."""
        if self.is_login:
            return bool(self.username)
        return bool(self.username) and (self.in_keyring or bool(self.password))


class BadRow(ValueError):
    """A row whose cells do not have the types ReadyStackGo's schema gives them."""


# (column, types it may hold) in the order _select reads them. SQLite stores whatever it is
# given whatever the declared type, so a cell may be a BLOB, a number or NULL anywhere.
_CELL_TYPES = (
    ("Id", (str,)),
    ("Name", (str,)),
    ("Url", (str,)),
    ("Username", (str, type(None))),
    ("Password", (str, type(None))),
    ("IsDefault", (int,)),
    ("Origin", (str, type(None))),
    ("SecretStore", (str, type(None))),
)
_SQL_TYPE = {str: "text", bytes: "a BLOB", int: "an integer", float: "a real", type(None): "NULL"}


def _check_types(values: tuple) -> None:
    for (column, allowed), value in zip(_CELL_TYPES, values, strict=False):
        if not isinstance(value, allowed):
            shown = ascii(values[0])[:60] if isinstance(values[0], str) else "of another type"
            kind = _SQL_TYPE.get(type(value), type(value).__name__)
            raise BadRow(f"skipping the Registries row with Id {shown}: its {column} is {kind}")


class Registries:
    """An open Registries database with what was learned about its shape."""

    def __init__(
        self, conn: sqlite3.Connection, path: str, reader: sqliteread.Reader | None = None
    ) -> None:
        self.conn = conn
        self.path = path
        self.reader = reader  # lookups: how the file was opened without writing beside it
        self.tables = self.read_tables()
        self.organization = self._organization()
        # What _select skipped, so that doctor can report it.
        self.skipped: list[str] = []

    def read_tables(self) -> set[str]:
        """Which of the tables this helper cares about exist."""
        return {
            name
            for (name,) in self.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                "('Registries', 'Organizations', '__EFMigrationsHistory', 'ReadyStackHelper')"
            )
        }

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
            self.tables = self.read_tables()
            self.organization = self._organization()
            raise _ReadAgain()
        return rows

    # ---- reading -------------------------------------------------------------------------

    def _select(self, where: str, params: tuple) -> list[Row]:
        for _ in range(3):
            try:
                return self._select_once(where, params)
            except _ReadAgain:
                continue  # the reopened connection holds a lock unless ReadyStackGo stopped again
        raise DatabaseError(f"cannot read {self.path}: it kept changing while it was read")

    def _select_once(self, where: str, params: tuple) -> list[Row]:
        if "Registries" not in self.tables:
            return []
        side = "ReadyStackHelper" in self.tables
        sql = (
            "SELECT r.Id, r.Name, r.Url, r.Username, r.Password, r.IsDefault, "
            + ("h.Origin, h.SecretStore, " if side else "NULL, NULL, ")
            + f"({_ARRAY}) IS NOT NULL OR r.ImagePatterns IS NULL OR trim(r.ImagePatterns) = '', "
            + "j.value, j.type FROM Registries r "
            + ('LEFT JOIN "ReadyStackHelper" h ON h.RegistryId = r.Id ' if side else "")
            + f"LEFT JOIN json_each(coalesce(({_ARRAY}), '[]')) j "
            + f"WHERE ({where})"
        )
        if self.organization is not None:
            sql += " AND upper(r.OrganizationId) = ?"
            params = (*params, self.organization)
        sql += " ORDER BY r.rowid, j.key"
        rows: dict[object, Row] = {}
        bad: set[object] = set()
        try:
            found = self._fetch(sql, params)
        except sqlite3.Error as exc:
            raise _failure(self.path, "read", exc) from None
        for values in found:
            row = rows.get(values[0])
            if values[0] in bad:
                continue
            if row is None:
                try:
                    row = rows[values[0]] = Row(values)
                except BadRow as exc:
                    bad.add(values[0])
                    self.skipped.append(str(exc))
                    warn(str(exc))
                    continue
            if values[9] is None:
                continue
            if values[10] == "text" and row.patterns is not None:
                row.patterns.append(values[9])
            else:
                row.patterns = None  # a non-string element: the whole column is unusable
        return list(rows.values())

    def rows_for_host(self, host: str) -> list[Row]:
        """Every row whose URL names ``host`` (canonical), Hub OAuth keys excluded."""
        # Filter in SQL on a substring of Url (C speed, no index needed on ReadyStackGo's table),
        # then confirm the exact host in Python for the few rows that survive.
        # LIKE is ASCII case-insensitive and twice as fast as instr(lower()); its `_` wildcard
        # can only add candidates, which the exact host check below removes again.
        needles = ("docker.io", "registry.hub.docker.com") if hosts.is_hub(host) else (host,)
        where = " OR ".join("r.Url LIKE '%' || ? || '%'" for _ in needles)
        return [
            row for row in self._select(where, needles) if row.host == host and not row.is_oauth_key
        ]

    def row_for_key(self, key: str) -> Row | None:
        """The login row stored under exactly ``key`` (Docker Hub's OAuth keys)."""
        for row in self._select("r.Url = ?", (key,)):
            if row.is_login:
                return row
        return None

    def all_rows(self) -> list[Row]:
        """Every row of the organization, in table order."""
        return self._select("1", ())

    def row_by_name(self, name: str) -> Row | None:
        """The row called ``name`` (case-insensitive, as people type it)."""
        exact = self._select("r.Name = ?", (name,))
        if exact:
            return exact[0]
        found = self._select("lower(r.Name) = lower(?)", (name,))
        return found[0] if len(found) == 1 else None


def open_read(path: str) -> Registries | None:
    """Open ``path`` for a lookup, writing nothing beside it; None when there is no database."""
    try:
        reader = sqliteread.open_reader(path, READ_TIMEOUT)
    except sqlite3.Error as exc:  # sqliteread.Unreadable among them
        raise _failure(path, "read", exc) from None
    if reader is None:
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


def open_write(path: str, create_folder: bool = True) -> Registries:
    """Open ``path`` for writing, creating it (file 0600 in a 0700 folder) with the schema.

    ``create_folder`` False: a missing folder is an error (only the default's may be created).
    """
    problem = access_problem(path, write=True)
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
                f"this user ({_user()}) cannot create the database {path}: {exc.strerror}"
            ) from None
    elif not os.path.exists(path):
        # SQLite would follow the link and create its target with the umask's mode (0644),
        # secrets included, wherever the link points.
        raise DatabaseError(f"refusing to create the database through the dangling link {path}")
    _warn_if_readable(path)
    # mode=rw: SQLite never creates the file itself, so nothing is made with the umask's mode.
    uri = "file:" + sqliteread.uri_path(path) + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=WRITE_TIMEOUT, isolation_level=None)
    except sqlite3.Error as exc:
        raise _failure(path, "write", exc, write=True) from None
    try:
        db = Registries(conn, path)
        if "Registries" not in db.tables:
            with transaction(db):
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            db.tables.add("Registries")
        return db
    except sqlite3.Error as exc:
        conn.close()
        raise _failure(path, "write", exc, write=True) from None
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


def _warn_if_readable(path: str) -> None:
    # Not refused: ReadyStackGo's own database may well be 0644. Said once per write.
    mode = readable_by_others(path)
    if mode is not None:
        warn(f"{path} has mode {mode:04o}: others can read the passwords in it; chmod 600 it")


class transaction:
    """A short ``BEGIN IMMEDIATE`` transaction: ReadyStackGo may be writing the same file."""

    def __init__(self, db: Registries) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _failure(self.db.path, "write", exc, write=True) from None
        return self.db.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.db.conn.execute("COMMIT")
                return
            self.db.conn.execute("ROLLBACK")
            self.db.tables = self.db.read_tables()  # a table created inside is gone again
        except sqlite3.Error as error:
            raise _failure(self.db.path, "write", error, write=True) from None
        if isinstance(exc, sqlite3.Error):
            raise _failure(self.db.path, "write", exc, write=True) from None


def password_of(db: Registries, row_id: str) -> tuple[str | None] | None:
    """The row's Password column as it is now, or None when the row is gone."""
    found = db.conn.execute('SELECT "Password" FROM "Registries" WHERE "Id" = ?', (row_id,))
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
    row = db.conn.execute('SELECT "OrganizationId" FROM "Registries" ORDER BY rowid LIMIT 1')
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
    db.conn.execute(
        'INSERT INTO "Registries" ("Id", "OrganizationId", "Name", "Url", "Username", "Password", '
        '"IsDefault", "CreatedAt", "UpdatedAt", "ImagePatterns", "Version") '
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 1)",
        (
            row_id,
            organization,
            name,
            url,
            username,
            password,
            int(is_default),
            now(),
            patterns_json,
        ),
    )
    record_side(db, row_id, origin, secret_store)
    return row_id


def record_side(db: Registries, row_id: str, origin: str, secret_store: str) -> None:
    """Write what only this helper needs about a row; ReadyStackGo's own rows stay unlisted."""
    if origin == "admin" and secret_store == "database" and "ReadyStackHelper" not in db.tables:
        return
    ensure_side_table(db)
    db.conn.execute(
        'INSERT OR REPLACE INTO "ReadyStackHelper" ("RegistryId", "Origin", "SecretStore") '
        "VALUES (?, ?, ?)",
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
        'UPDATE "Registries" SET "IsDefault" = 1, "UpdatedAt" = ?, "Version" = "Version" + 1 '
        'WHERE "Id" = ? AND "IsDefault" = 0',
        (now(), row_id),
    )


def _clear_default(db: Registries, organization: str, keep: str = "") -> None:
    db.conn.execute(
        'UPDATE "Registries" SET "IsDefault" = 0, "UpdatedAt" = ?, "Version" = "Version" + 1 '
        'WHERE "IsDefault" = 1 AND upper("OrganizationId") = ? AND "Id" != ?',
        (now(), organization, keep),
    )
