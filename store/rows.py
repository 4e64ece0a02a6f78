"""One Registries row as the helper reads it, and the check that its cells have the right types."""

from __future__ import annotations

from . import hosts
from .diag import warn


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
    def login_host(self) -> str | None:
        """The name `store` kept this login under; None unless a login row whose Url parses."""
        if not self.is_login:
            return None
        try:
            return hosts.login_host(self.url)
        except hosts.HostError:
            return None

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
