"""The Registries table's columns, once (SELECT lists, cell checks, limits and DDL derive from
them), and one row as the helper reads it, with the check that its cells have the right types.

Imported by every lookup: plain classes and tuples, nothing from `typing` or `dataclasses`.
"""

from __future__ import annotations

from . import hosts
from .conventions import ADMIN, DATABASE, KEYRING_PREFIX, LOGIN
from .diag import warn
from .errors import BadRow, HostError

TEXT, INTEGER, BOOLEAN = "text", "integer", "boolean"
# What a cell of each kind may hold when read back. SQLite stores whatever it is given whatever
# the declared type; PostgreSQL's booleans arrive as bool, which is an int.
PYTHON_TYPES: dict[str, tuple[type, ...]] = {TEXT: (str,), INTEGER: (int,), BOOLEAN: (int,)}


class Column:
    """One column: its name, kind, whether NULL is allowed, and ReadyStackGo's maximum length."""

    __slots__ = ("name", "type", "nullable", "max_len")

    def __init__(
        self, name: str, type: str, nullable: bool = False, max_len: int | None = None
    ) -> None:
        self.name = name
        self.type = type
        self.nullable = nullable
        self.max_len = max_len

    def __repr__(self) -> str:
        return f"Column({self.name!r}, {self.type!r}, {self.nullable}, {self.max_len})"

    def allowed(self) -> tuple[type, ...]:
        """The Python types a cell of this column may hold."""
        return PYTHON_TYPES[self.type] + ((type(None),) if self.nullable else ())


# ReadyStackGo's Registries table in its column order (its EF Core model; DESIGN.md). max_len is
# the model's own HasMaxLength: longer cells are not ReadyStackGo's and are never used.
COLUMNS = (
    Column("Id", TEXT),
    Column("OrganizationId", TEXT),
    Column("Name", TEXT, max_len=100),
    Column("Url", TEXT, max_len=500),
    Column("Username", TEXT, nullable=True, max_len=255),
    Column("Password", TEXT, nullable=True, max_len=1000),
    Column("IsDefault", BOOLEAN),
    Column("CreatedAt", TEXT),
    Column("UpdatedAt", TEXT, nullable=True),
    Column("ImagePatterns", TEXT, max_len=4000),
    Column("Version", INTEGER),
)
# The helper's own table beside it: which rows are `docker login`s, and where a secret lives.
SIDE_COLUMNS = (Column("RegistryId", TEXT), Column("Origin", TEXT), Column("SecretStore", TEXT))
BY_NAME = {c.name: c for c in COLUMNS + SIDE_COLUMNS}
NAMES = tuple(c.name for c in COLUMNS)
# Every Registries column, quoted, in order: what `sync` copies and inserts.
QUOTED = ", ".join(f'"{name}"' for name in NAMES)
# One row of each table, every column given, in order.
INSERT = f'INSERT INTO "Registries" ({QUOTED}) VALUES ({", ".join("?" * len(NAMES))})'
_SIDE_NAMES = ", ".join(f'"{c.name}"' for c in SIDE_COLUMNS)
_SIDE_VALUES = ", ".join("?" * len(SIDE_COLUMNS))
SIDE_INSERT = f'INSERT INTO "ReadyStackHelper" ({_SIDE_NAMES}) VALUES ({_SIDE_VALUES})'
LIMITED = tuple(c for c in COLUMNS if c.max_len is not None)
# The longest secret `store` can have read: protocol.MAX_INPUT, the protocol verbs' stdin cap.
LOGIN_SECRET_MAX = 1 << 20

# What a lookup reads of a row, in this order; Row takes the cells by these names. Three
# cells about ImagePatterns follow: whether the column is usable, one pattern, its JSON type.
LOOKUP = ("Id", "Name", "Url", "Username", "Password", "IsDefault", "Origin", "SecretStore")
# The side table's cells are NULL for ReadyStackGo's own rows (a LEFT JOIN).
LOOKUP_TYPES = tuple(
    BY_NAME[name].allowed() + ((type(None),) if BY_NAME[name] in SIDE_COLUMNS else ())
    for name in LOOKUP
)
PATTERNS_USABLE, PATTERN, PATTERN_TYPE = range(len(LOOKUP), len(LOOKUP) + 3)
# The position of each column in a full row (COLUMNS, then Origin and SecretStore): `sync`'s.
FULL = (*NAMES, "Origin", "SecretStore")


def max_len(name: str) -> int:
    """ReadyStackGo's maximum length for column ``name``."""
    limit = BY_NAME[name].max_len
    assert limit is not None, name
    return limit


def at(name: str, order: tuple[str, ...] = FULL) -> int:
    """The position of column ``name`` in a row read in ``order``."""
    return order.index(name)


def _limit(column: Column, origin: str | None) -> str:
    if column.name == "Password" and origin is not None:
        # A login row's secret is a token `store` took from Docker (registries' identity tokens
        # and ECR's passwords run past 1000 characters): it is bounded by the protocol's input.
        return f"CASE WHEN {origin} = '{LOGIN}' THEN {LOGIN_SECRET_MAX} ELSE {column.max_len} END"
    return str(column.max_len)


def within_limits(origin: str | None = None, octets: bool = False) -> str:
    """SQL true when no cell of row ``r`` is longer than its maximum (``origin``: its Origin).

    ``octets`` (PostgreSQL): each cell's octet_length is tried first, as explained below.
    """
    # length(NULL) is NULL, and a NULL Username is within every limit. length() of the column
    # itself: SQLite then measures the cell in place, where coalesce(...) would copy it first.
    cells = []
    for c in LIMITED:
        limit = _limit(c, origin)
        cell = f'coalesce(length(r."{c.name}"), 0) <= {limit}'
        if octets:
            # A cell has no more characters than bytes, so a cell within the limit in bytes is
            # within it. PostgreSQL reads octet_length from the value's header, where length()
            # counts UTF-8 characters one by one: sync's scans of 10,000 rows spent 20 ms on it.
            cell = f'(octet_length(r."{c.name}") <= {limit} OR {cell})'
        cells.append(cell)
    return " AND ".join(cells)


def too_long(origin: str | None = None) -> str:
    """SQL naming the first column of row ``r`` that is longer than its maximum, else NULL."""
    cases = " ".join(
        f"WHEN coalesce(length(r.\"{c.name}\"), 0) > {_limit(c, origin)} THEN '{c.name}'"
        for c in LIMITED
    )
    return f"CASE {cases} END"


def limit_of(name: str, origin: object) -> int:
    """The maximum length of column ``name`` in a row of this Origin."""
    if name == "Password" and origin == LOGIN:
        return LOGIN_SECRET_MAX
    return max_len(name)


def _table(name: str, columns: tuple[Column, ...], types: dict[str, str], primary: str) -> str:
    cells = [f'"{c.name}" {types[c.type]} {"NULL" if c.nullable else "NOT NULL"}' for c in columns]
    cells[0] += primary
    body = ",\n    ".join(cells)
    return f'CREATE TABLE IF NOT EXISTS "{name}" (\n    {body}\n)'


def registries_ddl(boolean: str, is_true: str) -> tuple[str, ...]:
    """The Registries table and its indexes as EF Core creates them, IsDefault typed ``boolean``."""
    types = {TEXT: "TEXT", INTEGER: "INTEGER", BOOLEAN: boolean}
    return (
        _table("Registries", COLUMNS, types, ' CONSTRAINT "PK_Registries" PRIMARY KEY'),
        'CREATE INDEX IF NOT EXISTS "IX_Registries_OrganizationId" ON "Registries" '
        '("OrganizationId")',
        'CREATE INDEX IF NOT EXISTS "IX_Registries_OrganizationId_IsDefault"\n    ON "Registries" '
        f'("OrganizationId", "IsDefault") WHERE {is_true}',
        'CREATE UNIQUE INDEX IF NOT EXISTS "IX_Registries_OrganizationId_Name"\n    ON '
        '"Registries" ("OrganizationId", "Name")',
    )


# SQLite's DDL, byte for byte EF Core's shape (tests compare it with ReadyStackGo's own file).
SQLITE_DDL = registries_ddl("INTEGER", "[IsDefault] = 1")
SCHEMA = ";\n".join(SQLITE_DDL) + ";\n"
SIDE_TABLE = _table("ReadyStackHelper", SIDE_COLUMNS, {TEXT: "TEXT"}, " PRIMARY KEY")


# ---- one row ----------------------------------------------------------------------------------

AT_ID = at("Id", LOOKUP)


_SQL_TYPE = {str: "text", bytes: "a BLOB", int: "an integer", float: "a real", type(None): "NULL"}


def _check_types(values: tuple) -> None:
    # SQLite stores whatever it is given whatever the declared type, so a cell may be a BLOB, a
    # number or NULL anywhere: each is checked against the column's kind (LOOKUP_TYPES).
    for column, allowed, value in zip(LOOKUP, LOOKUP_TYPES, values, strict=False):
        if not isinstance(value, allowed):
            ident = values[AT_ID]
            shown = ascii(ident)[:60] if isinstance(ident, str) else "of another type"
            kind = _SQL_TYPE.get(type(value), type(value).__name__)
            raise BadRow(f"skipping the Registries row with Id {shown}: its {column} is {kind}")


def make_row(values: tuple, skipped: list[str]) -> Row | None:
    """A Row; None, with one stderr line also kept in ``skipped``, when a cell has a wrong type."""
    try:
        return Row(values)
    except BadRow as exc:
        skipped.append(str(exc))
        warn(str(exc))
        return None


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
        """``values``: the cells named by LOOKUP, in that order, then PATTERNS_USABLE."""
        _check_types(values)
        ident, name, url, username, password, is_default, origin, store = values[:PATTERNS_USABLE]
        self.id: str = ident or ""
        self.name: str = name or ""
        self.url: str = url or ""
        self.username: str | None = username
        self.password: str | None = password
        self.is_default = bool(is_default)
        self.origin: str = origin or ADMIN
        self.secret_store: str = store or DATABASE
        # None means the column is not a JSON array of strings: no pattern of it can match.
        self.patterns: list[str] | None = [] if values[PATTERNS_USABLE] else None
        try:
            self.host: str | None = hosts.host_of_url(self.url)
        except HostError:
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
        return self.origin == LOGIN

    @property
    def login_host(self) -> str | None:
        """The name `store` kept this login under; None unless a login row whose Url parses."""
        if not self.is_login:
            return None
        try:
            return hosts.login_host(self.url)
        except HostError:
            return None

    @property
    def is_oauth_key(self) -> bool:
        """Rows holding one of Docker Hub's OAuth keys, found only by that exact key."""
        return self.url in hosts.OAUTH_KEYS

    @property
    def in_keyring(self) -> bool:
        """The secret lives in the OS keyring, not in the Password column."""
        return self.secret_store.startswith(KEYRING_PREFIX)

    @property
    def has_credentials(self) -> bool:
        """Whether the row answers: login rows always, others with a username and a password."""
        if self.is_login:
            return bool(self.username)
        return bool(self.username) and (self.in_keyring or bool(self.password))
