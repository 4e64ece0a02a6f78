"""Writing the Registries table as ReadyStackGo does: open for writing, transactions, row changes.

A lookup never imports it (it reads through registries.py); `store`, `erase`, `sync` and the
management verbs do.
"""

from __future__ import annotations

import os

from . import sqliteread
from .conventions import ADMIN, DATABASE, DEFAULT_ORGANIZATION, REMOTE_REFUSAL, is_remote
from .diag import debug, warn
from .errors import ClosedOnFailure, DatabaseError
from .faultpoint import reached
from .registries import Registries, failure, sqlite3
from .schema import INSERT, NAMES, SIDE_INSERT, SIDE_TABLE, max_len
from .verberrors import Replaced

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

# Writers wait longer: a `docker login` racing ReadyStackGo should succeed, not fail.
WRITE_TIMEOUT = 10.0
# How often a writer reopens a file that `sync` replaced while it waited for the lock.
REPLACED_RETRIES = 10


def retry_replaced(path: str, verb: str, attempt: Callable[[], T]) -> T:
    """``attempt()``, which opens ``path`` and writes; again while `sync` replaces the file."""
    for _ in range(REPLACED_RETRIES):
        try:
            return attempt()
        except Replaced:
            debug(f"{verb}: {path} was replaced by a sync; {verb} again on the new file")
    raise DatabaseError(f"cannot write {path}: it keeps being replaced; is another sync running?")


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
        raise failure(path, "write", exc) from None
    try:
        with ClosedOnFailure(conn):
            db = Registries(conn, path)
            db.identity = identity
            create_schema(db)
            return db
    except sqlite3.Error as exc:
        raise failure(path, "write", exc) from None


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
            raise failure(db.path, "write", exc) from None
        reached("after-begin")
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
                reached("before-commit")
                self.db.conn.execute("COMMIT")
                return
            # SQLite itself ends the transaction on some errors (SQLITE_FULL): then no ROLLBACK,
            # whose "no transaction is active" would hide the disk that is full.
            if getattr(self.db.conn, "in_transaction", True):
                self.db.conn.execute("ROLLBACK")
            self.db.tables = self.db.read_tables()  # a table created inside is gone again
        except sqlite3.Error as error:
            cause = exc if isinstance(exc, sqlite3.Error) else error
            raise failure(self.db.path, "write", cause) from None
        if isinstance(exc, sqlite3.Error):
            raise failure(self.db.path, "write", exc) from None


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
            return name[: max_len("Name")]
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
    reached("after-row-write")
    return row_id


def record_side(db: Registries, row_id: str, origin: str, secret_store: str) -> None:
    """Write what only this helper needs about a row; ReadyStackGo's own rows stay unlisted."""
    if origin == ADMIN and secret_store == DATABASE and "ReadyStackHelper" not in db.tables:
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
    reached("after-row-write")


def delete_row(db: Registries, row_id: str) -> None:
    """Delete a row and its side-table entry."""
    db.conn.execute('DELETE FROM "Registries" WHERE "Id" = ?', (row_id,))
    if "ReadyStackHelper" in db.tables:
        db.conn.execute('DELETE FROM "ReadyStackHelper" WHERE "RegistryId" = ?', (row_id,))
    reached("after-row-write")


def set_default(db: Registries, row_id: str) -> None:
    """Make one row the organization's default (there is at most one, as in ReadyStackGo)."""
    organization = write_organization(db)
    _clear_default(db, organization, keep=row_id)
    db.conn.execute(
        'UPDATE "Registries" SET "IsDefault" = ?, "UpdatedAt" = ?, "Version" = "Version" + 1 '
        'WHERE "Id" = ? AND "IsDefault" = ?',
        (True, now(), row_id, False),
    )
    reached("after-row-write")


def _clear_default(db: Registries, organization: str, keep: str = "") -> None:
    db.conn.execute(
        'UPDATE "Registries" SET "IsDefault" = ?, "UpdatedAt" = ?, "Version" = "Version" + 1 '
        'WHERE "IsDefault" = ? AND upper("OrganizationId") = ? AND "Id" != ?',
        (False, now(), True, organization, keep),
    )
