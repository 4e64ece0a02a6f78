"""Names and texts fixed by Docker's conventions, shared by the protocol and the config files."""

from __future__ import annotations

# The executable: the prefix of every diagnostic, and what Docker runs for SELF.
NAME = "docker-credential-readystack"
# What credHelpers / credsStore say when they mean this helper.
SELF = "readystack"
# The texts clients match on, byte for byte (docker-credential-helpers' credentials/error.go).
NOT_FOUND = "credentials not found in native keychain"
MISSING_SERVER_URL = "no credentials server URL"
MISSING_USERNAME = "no credentials username"
# The username that marks an identity token (docker/cli's credentials.tokenUsername).
TOKEN_USERNAME = "<token>"
# libpq's URI schemes: such a database is a server, never a local file.
REMOTE_SCHEMES = ("postgresql://", "postgres://")
# Where a row came from (the side table's Origin): a `docker login` kept by `store`, or an
# administrator (ReadyStackGo, `registry add`). A row the side table does not list is ADMIN's.
LOGIN, ADMIN = "login", "admin"
# Where a row's secret lives (the side table's SecretStore): the Password column, or the OS
# keyring (a row then says `keyring:<backend class>`). The values READYSTACK_SECRETS,
# `secrets =`, --secret-store and --to accept, in the order their messages name them.
DATABASE, KEYRING = "database", "keyring"
SECRET_STORES = (DATABASE, KEYRING)
KEYRING_PREFIX = KEYRING + ":"
# The organization of rows written to a database without an Organizations row (DESIGN.md).
DEFAULT_ORGANIZATION = "00000000-0000-0000-0000-000000000001"
# DESIGN.md "Every wait ends": what bounds connecting, each statement and each lock wait on a
# server (`sync --timeout`'s default; the management verbs on --db postgresql:// use it too).
REMOTE_TIMEOUT = 30.0
REMOTE_REFUSAL = (
    "the database is a PostgreSQL URI; the protocol verbs use only a local file: keep a local copy "
    "with `sync --to FILE` and point READYSTACK_DB at FILE"
)


class Answer:
    """Credentials that answer a question, and the source that gave them."""

    __slots__ = ("username", "secret", "source")

    def __init__(self, username: str, secret: str, source: str) -> None:
        self.username = username
        self.secret = secret
        self.source = source

    def __repr__(self) -> str:
        return f"Answer(username={self.username!r}, source={self.source!r})"  # never the secret


def get_ci(data: object, key: str) -> object:
    """``data[key]`` with the exact spelling first, then any case (Go's JSON and .NET's keys)."""
    # dict, not collections.abc.Mapping: `version` must not import collections (JSON gives dicts).
    if not isinstance(data, dict):
        return None
    if key in data:
        return data[key]
    lowered = key.lower()
    for k, v in data.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return None


def is_remote(location: str) -> bool:
    """A libpq URI (PostgreSQL) rather than a SQLite path."""
    return location.startswith(REMOTE_SCHEMES)


def shown(location: str) -> str:
    """``location`` as messages may print it: a URI without its user information or query."""
    if not is_remote(location):
        return location
    scheme, _, rest = location.partition("://")
    # Everything up to the last `@` goes, not just up to the first `/`: a password may hold an
    # unencoded `/`, `?` or `@` (libpq refuses such a URI, and saying so must not show it).
    return f"{scheme}://{rest.rpartition('@')[2].partition('?')[0]}"
