"""One Registries row as the helper reads it, and the check that its cells have the right types."""

from __future__ import annotations

from . import hosts
from .conventions import ADMIN, DATABASE, KEYRING_PREFIX, LOGIN
from .diag import warn
from .errors import BadRow, HostError
from .schema import LOOKUP, LOOKUP_TYPES, PATTERNS_USABLE, at

AT_ID = at("Id", LOOKUP)


_SQL_TYPE = {str: "text", bytes: "a BLOB", int: "an integer", float: "a real", type(None): "NULL"}


def _check_types(values: tuple) -> None:
    # SQLite stores whatever it is given whatever the declared type, so a cell may be a BLOB, a
    # number or NULL anywhere: each is checked against the column's kind (schema.LOOKUP_TYPES).
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
        """``values``: the cells named by schema.LOOKUP, in that order, then PATTERNS_USABLE."""
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
