"""The Registries table on PostgreSQL (psycopg 3): only what differs from SQLite lives here.

Imported only by `sync` and by the management verbs given ``--db postgresql://…``; a lookup
never imports it (the protocol verbs read only a local file).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import psycopg
from psycopg import conninfo

from . import writes
from .conventions import NAME, shown
from .diag import printable
from .errors import BadJSON, ClosedOnFailure, DatabaseError
from .jsonread import read_json
from .registries import Dialect, Registries
from .rows import Row, make_row
from .schema import PATTERNS_USABLE, registries_ddl

CONNECT_TIMEOUT = 10
# Every writer takes this transaction-scoped lock first, as SQLite's BEGIN IMMEDIATE lets one
# writer in at a time: under READ COMMITTED two concurrent `set-default`s could otherwise each
# clear the old default and leave two. Readers never wait for it.
WRITER_LOCK = "SELECT pg_advisory_xact_lock(hashtext('docker-credential-readystack'))"


def patterns_of(text: object) -> list[str] | None:
    """ImagePatterns as SQLite's json_each reads it: [] when blank, None unless strings."""
    if text is None or (isinstance(text, str) and not text.strip()):
        return []
    try:
        value = read_json(str(text))
    except BadJSON:
        return None
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        return None
    return value


def _collect(cursor: Iterable[Sequence[object]], skipped: list[str]) -> list[Row]:
    rows = []
    for values in cursor:
        # Dialect.patterns puts the ImagePatterns text where SQLite's "usable" cell is.
        patterns = patterns_of(values[PATTERNS_USABLE])
        row = make_row((*values[:PATTERNS_USABLE], patterns is not None), skipped)
        if row is None:
            continue  # a cell of the wrong type: said once on stderr
        row.patterns = patterns
        rows.append(row)
    return rows


class PostgresDialect(Dialect):
    """PostgreSQL: booleans, row locks, no rowid, patterns parsed in Python."""

    tables = (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_name IN ('Registries', 'ReadyStackHelper')"
    )
    patterns = 'r."ImagePatterns", NULL, NULL'
    patterns_join = ""
    # No rowid: DESIGN.md breaks ties by CreatedAt, then Id, compared byte by byte as SQLite
    # compares text (a database's own collation could order them otherwise, and sorts slower).
    r_order = 'r."CreatedAt" COLLATE "C", r."Id" COLLATE "C"'
    row_order = r_order
    like = "ILIKE"
    begin = ("BEGIN", WRITER_LOCK)
    # The Registries rows a writer reads stay locked until it commits (the side table's row
    # may be missing, so only r is locked).
    lock_rows = " FOR UPDATE OF r"
    # SQLite's DDL with PostgreSQL's one difference: "IsDefault" is a boolean.
    schema = registries_ddl("BOOLEAN", '"IsDefault"')
    collect = staticmethod(_collect)


POSTGRES = PostgresDialect()


class Result(list):
    """Rows of one statement, fetched at once so that driver errors surface inside execute."""

    def fetchone(self) -> Sequence[object] | None:
        """The first row, or None."""
        return self[0] if self else None

    def fetchall(self) -> Result:
        """Every row (already fetched)."""
        return self


class Connection:
    """A psycopg connection that takes SQLite's ``?`` placeholders and raises DatabaseError."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.raw = conn
        self._converted: dict[str, str] = {}

    def _query(self, sql: str) -> str:
        query = self._converted.get(sql)
        if query is None:
            # The shared queries never hold a literal `?`; `%` is psycopg's own escape.
            query = self._converted[sql] = sql.replace("%", "%%").replace("?", "%s")
        return query

    def execute(self, sql: str, params: Sequence[object] = ()) -> Result:
        """Run one statement; every driver error becomes the store's DatabaseError."""
        query = self._query(sql)
        try:
            cursor = self.raw.execute(query, tuple(params))  # type: ignore[arg-type]
            return Result(cursor.fetchall() if cursor.description else ())
        except psycopg.Error as exc:
            raise DatabaseError(first_line(exc)) from None

    def copy_rows(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """COPY ... FROM STDIN: the fast path for many rows."""
        try:
            with self.raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except psycopg.Error as exc:
            raise DatabaseError(first_line(exc)) from None

    def digest(self, sql: str, params: Sequence[object] = ()) -> str:
        """A digest of the query and of what ``COPY (sql) TO STDOUT`` sends, hashed as it comes.

        Every byte of every row is read, as `psql \\copy` reads it, but none becomes a Python
        object: the text form is lossless, so equal digests mean equal rows.
        """
        query = self._query(sql)
        summed = hashlib.blake2b(f"{query}\0{params!r}\0".encode(), digest_size=32)
        copy_sql = f"COPY ({query}) TO STDOUT"
        try:
            with self.raw.cursor() as cursor, cursor.copy(copy_sql, tuple(params) or None) as copy:
                for chunk in copy:
                    summed.update(chunk)
        except psycopg.Error as exc:
            raise DatabaseError(first_line(exc)) from None
        return summed.hexdigest()

    def close(self) -> None:
        """Close the connection."""
        self.raw.close()


def first_line(exc: BaseException) -> str:
    """The driver's message, first line only (libpq adds hints on further lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_uri(uri: str) -> dict[str, str]:
    """The URI's parameters; a password in it is refused (it would sit in argv and history)."""
    try:
        params = conninfo.conninfo_to_dict(uri)
    except psycopg.Error:
        # Never libpq's text: it quotes the part it could not parse, the password included.
        raise DatabaseError(f"invalid PostgreSQL URI {printable(shown(uri))}") from None
    if params.get("password"):
        raise DatabaseError(
            "the PostgreSQL URI carries a password; leave it out and use PGPASSWORD, "
            "~/.pgpass or another libpq mechanism instead"
        )
    return {k: str(v) for k, v in params.items() if v is not None}


def _scrubbed(exc: BaseException, uri: str) -> str:
    """The driver's first line, without any piece of what could be a password in the URI."""
    text = first_line(exc)
    # check_uri refused a password libpq saw; one it mistook for a host or port is still here.
    secret = uri.partition("://")[2].rpartition("@")[0].partition(":")[2]
    for piece in {secret, *secret.replace("/", ":").split(":")}:
        if len(piece) >= 4:  # a short piece (a user `u`) would blank unrelated words
            text = text.replace(piece, "<hidden>")
    return text


def connect(uri: str) -> Connection:
    """Connect (autocommit: transactions are explicit, as on SQLite)."""
    params = check_uri(uri)
    extra = {} if "connect_timeout" in params else {"connect_timeout": CONNECT_TIMEOUT}
    try:
        raw = psycopg.connect(uri, autocommit=True, application_name=NAME, **extra)
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {_scrubbed(exc, uri)}") from None
    return Connection(raw)


def open_read(uri: str) -> Registries:
    """Open the table for reading (a database without it is an empty table)."""
    conn = connect(uri)
    with ClosedOnFailure(conn):
        return Registries(conn, uri, dialect=POSTGRES)  # type: ignore[arg-type]


def open_write(uri: str) -> Registries:
    """Open the table for writing, creating both tables on first use."""
    db = open_read(uri)
    with ClosedOnFailure(db):
        writes.create_schema(db)
    return db
