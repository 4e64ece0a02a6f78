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
from .conventions import NAME, REMOTE_TIMEOUT, shown
from .deadline import Deadline
from .diag import printable
from .errors import ClosedOnFailure, DatabaseError
from .faultpoint import reached
from .jsonread import BadJSON, read_json
from .registries import Dialect, Registries
from .schema import PATTERNS_USABLE, Row, make_row, registries_ddl
from .verberrors import Stalled

DEFAULT_TIMEOUT = REMOTE_TIMEOUT
# The server enforces statement_timeout and lock_timeout itself; a server that cannot answer at
# all (stopped, or behind a network that drops packets) is ended by our own deadline this much
# later, so that the server's clearer message wins whenever it can still speak.
CLIENT_GRACE = 2.0
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
    octets = True
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


class _Deadline(Deadline):
    """A client-side end to one wait on the server (store/deadline.py): psycopg polls every 0.1 s
    and lets signal handlers run; our exception is not one it catches to cancel and wait again."""

    def __init__(self, seconds: float, what: str, conn: Connection | None = None) -> None:
        super().__init__(seconds + CLIENT_GRACE, self._stall)
        self.server_seconds, self.what, self.conn = seconds, what, conn

    def __enter__(self) -> None:
        if self.conn is not None and self.conn.stalled:
            # Its state is unknown after a stall: not even a ROLLBACK waits on it again.
            raise Stalled(self.conn.stalled)
        super().__enter__()

    def _stall(self) -> None:
        text = f"PostgreSQL did not answer {self.what} within {self.server_seconds:g}s (--timeout)"
        if self.conn is not None:
            self.conn.stalled = text
        raise Stalled(text)


def _reason(exc: psycopg.Error, timeout: float) -> str:
    text = first_line(exc)
    if isinstance(exc, psycopg.errors.QueryCanceled | psycopg.errors.LockNotAvailable):
        text += f" (--timeout {timeout:g}s)"  # statement_timeout or lock_timeout, set below
    return text


class Connection:
    """A psycopg connection that takes SQLite's ``?`` placeholders and raises DatabaseError."""

    def __init__(self, conn: psycopg.Connection, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.raw = conn
        self.timeout = timeout
        self.stalled = ""  # why the server stopped answering, once it did
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
            with _Deadline(self.timeout, "a statement", self):
                cursor = self.raw.execute(query, tuple(params))  # type: ignore[arg-type]
                return Result(cursor.fetchall() if cursor.description else ())
        except psycopg.Error as exc:
            raise DatabaseError(_reason(exc, self.timeout)) from None

    def copy_rows(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        """COPY ... FROM STDIN: the fast path for many rows."""
        try:
            with (
                _Deadline(self.timeout, "a COPY", self),
                self.raw.cursor() as cursor,
                cursor.copy(sql) as copy,
            ):
                for i, row in enumerate(rows):
                    copy.write_row(row)
                    if i == 0:
                        reached("mid-copy")
        except psycopg.Error as exc:
            raise DatabaseError(_reason(exc, self.timeout)) from None

    def digest(self, sql: str, params: Sequence[object] = ()) -> str:
        """A digest of the query and of what ``COPY (sql) TO STDOUT`` sends, hashed as it comes.

        Every byte of every row is read, as `psql \\copy` reads it, but none becomes a Python
        object: the text form is lossless, so equal digests mean equal rows.
        """
        query = self._query(sql)
        summed = hashlib.blake2b(f"{query}\0{params!r}\0".encode(), digest_size=32)
        copy_sql = f"COPY ({query}) TO STDOUT"
        try:
            with (
                _Deadline(self.timeout, "a COPY", self),
                self.raw.cursor() as cursor,
                cursor.copy(copy_sql, tuple(params) or None) as copy,
            ):
                for chunk in copy:
                    summed.update(chunk)
        except psycopg.Error as exc:
            raise DatabaseError(_reason(exc, self.timeout)) from None
        return summed.hexdigest()

    def close(self) -> None:
        """Close the connection (it only sends a goodbye: a stalled server cannot hold it)."""
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


def bounds(params: dict[str, str], timeout: float) -> dict[str, object]:
    """libpq settings that end every wait after ``timeout``: connect, statements, lock waits,
    a dead peer (TCP keepalives, unacknowledged data); a URI's own connect_timeout wins."""
    ms = max(1, int(timeout * 1000))
    options = f"-c statement_timeout={ms} -c lock_timeout={ms}"
    # A client that vanished mid-transaction must not keep its locks from the next round.
    options += f" -c idle_in_transaction_session_timeout={ms}"
    idle = max(1, int(timeout) // 3)
    extra: dict[str, object] = {
        "options": f"{params['options']} {options}" if params.get("options") else options,
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": idle,
        "keepalives_count": 3,
        "tcp_user_timeout": ms,
    }
    if "connect_timeout" not in params:
        extra["connect_timeout"] = max(2, round(timeout))  # libpq's minimum is 2
    return extra


def connect(uri: str, timeout: float = DEFAULT_TIMEOUT) -> Connection:
    """Connect (autocommit: transactions are explicit, as on SQLite), every wait bounded."""
    params = check_uri(uri)
    try:
        with _Deadline(timeout, "the connection"):
            raw = psycopg.connect(
                uri, autocommit=True, application_name=NAME, **bounds(params, timeout)
            )
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {_scrubbed(exc, uri)}") from None
    except Stalled as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL: {exc}") from None
    return Connection(raw, timeout)


def open_read(uri: str, timeout: float = DEFAULT_TIMEOUT) -> Registries:
    """Open the table for reading (a database without it is an empty table)."""
    conn = connect(uri, timeout)
    with ClosedOnFailure(conn):
        return Registries(conn, uri, dialect=POSTGRES)  # type: ignore[arg-type]


def open_write(uri: str, timeout: float = DEFAULT_TIMEOUT) -> Registries:
    """Open the table for writing, creating both tables on first use."""
    db = open_read(uri, timeout)
    with ClosedOnFailure(db):
        writes.create_schema(db)
    return db
