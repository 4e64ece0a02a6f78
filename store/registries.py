"""The Registries table read as ReadyStackGo keeps it: opening for lookups, the dialects, rows."""

from __future__ import annotations

from . import hosts, sqliteread
from .conventions import REMOTE_REFUSAL, is_remote
from .errors import ClosedOnFailure, DatabaseError, Internal
from .schema import (
    AT_ID,
    BY_NAME,
    LOOKUP,
    PATTERN,
    PATTERN_TYPE,
    SIDE_COLUMNS,
    SQLITE_DDL,
    Row,
    limit_of,
    make_row,
    too_long,
    within_limits,
)
from .sqliteread import sqlite3

TYPE_CHECKING = False  # `typing` itself is never imported by a lookup
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")

# A pull must never hang on a writer holding the lock: give up after this and try the next source.
READ_TIMEOUT = 1.0
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
_SIDE_JOIN = ' LEFT JOIN "ReadyStackHelper" h ON h."RegistryId" = r."Id"'
_ORIGIN = {False: None, True: 'h."Origin"'}
# A row with a cell longer than ReadyStackGo's maximum is none of ReadyStackGo's: every lookup
# skips it in SQL, before Python ever holds its cells (doctor lists them: Registries.too_long).
_WITHIN_LIMITS = {side: within_limits(origin) for side, origin in _ORIGIN.items()}


# How often a lookup reads again when ReadyStackGo wrote under its unlocked read.
READ_AGAIN = 3


def _collect(cursor: object, skipped: list[str]) -> list[Row]:
    # One result row per (registry, pattern) from json_each; fold them into Rows.
    rows: dict[object, Row] = {}
    bad: set[object] = set()
    for values in cursor:  # type: ignore[attr-defined]
        key = values[AT_ID]
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
    # Whether cell limits may test octet_length first (schema.within_limits): SQLite 3.40 has none.
    octets = False
    # Writers: SQLite locks the whole file; row locks are PostgreSQL's.
    begin: tuple[str, ...] = ("BEGIN IMMEDIATE",)
    lock_rows = ""
    schema = SQLITE_DDL
    collect = staticmethod(_collect)


SQLITE = Dialect()


def failure(path: str, doing: str, exc: object) -> DatabaseError:
    """The DatabaseError for a SQLite failure to read or write: the access problem if any."""
    from .fileaccess import access_problem  # only once SQLite has failed

    problem = access_problem(path, write=doing == "write")
    return DatabaseError(problem or f"cannot {doing} {path}: {exc}")


class _ReadAgain(Internal):
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
        try:
            self.tables = self.read_tables()
        except sqlite3.DatabaseError as exc:
            if self.reader is None or not sqliteread.hot_journal(exc):
                raise
            # A writer was killed inside its commit: never wait for another one to clean up.
            self.conn = self.reader.rolled_back()
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
        except sqlite3.DatabaseError as exc:
            if self.reader is not None and sqliteread.hot_journal(exc):
                # A writer died inside its commit since we opened: never wait for another one.
                self.conn = self.reader.rolled_back()
                self._learn_shape()
                raise _ReadAgain() from None
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
            + (_SIDE_JOIN if side else "")
            + dialect.patterns_join
            # The caller's filter first: SQLite tests the terms in this order, and a lookup by
            # host measures only the rows whose Url names it.
            + f" WHERE ({where}) AND {_WITHIN_LIMITS[side]}"
        )
        if self.organization is not None:
            sql += ' AND upper(r."OrganizationId") = ?'
            params = (*params, self.organization)
        sql += " ORDER BY " + dialect.row_order + self.lock_rows
        try:
            found = self._fetch(sql, params)
        except sqlite3.Error as exc:
            raise failure(self.path, "read", exc) from None
        return dialect.collect(found, self.skipped)

    def too_long(self) -> list[str]:
        """One line for each row that lookups skip because a cell is longer than its maximum."""
        if "Registries" not in self.tables:
            return []
        side = "ReadyStackHelper" in self.tables
        origin = _ORIGIN[side]
        sql = (
            f'SELECT substr(r."Id", 1, 60), {too_long(origin)}, {origin or "NULL"} '
            f'FROM "Registries" r{_SIDE_JOIN if side else ""} WHERE NOT ({_WITHIN_LIMITS[side]})'
        )
        params: tuple = ()
        if self.organization is not None:
            sql += ' AND upper(r."OrganizationId") = ?'
            params = (self.organization,)
        found = self.query(sql + " ORDER BY " + self.dialect.r_order, params)
        return [
            f"skipping the Registries row with Id {ascii(ident)}: its {column} is longer than "
            f"{limit_of(column, row_origin)} characters, ReadyStackGo's maximum"
            for ident, column, row_origin in found
        ]

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
        raise failure(path, "read", exc) from None
    if reader is None:
        if is_remote(path):
            raise DatabaseError(REMOTE_REFUSAL)
        return None
    try:
        with ClosedOnFailure(reader):
            assert reader.conn is not None
            return Registries(reader.conn, path, reader)
    except sqlite3.Error as exc:
        raise failure(path, "read", exc) from None
