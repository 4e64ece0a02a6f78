"""The errors a lookup answered from the table never meets, or only when it fails: writes, Docker's
config files (a lookup's later step), a keyring entry bound to another host, the other verbs.

They are part of errors.py's table (each derives from a class there, which gives its exit code
and stream), kept apart so that a pull never builds their classes (see errors.py).
"""

from __future__ import annotations

from .errors import DatabaseError, Internal, ReadyStackError, SecretStoreError

# ---- reported: cli says the message on `stream` and exits with `exit_code` ----------------


class AdminError(ReadyStackError):
    """A management verb failed; the message goes to stderr and the exit status is 1."""


class UsageError(ReadyStackError):
    """A command line that cannot mean anything: exit 2, like argparse's own errors."""

    exit_code = 2


class ConfigError(ReadyStackError):
    """A config file that cannot be read or parsed; the lookup moves on to the next file."""


class HostMismatch(SecretStoreError):
    """The keyring entry was written for another host than the row now names."""


class Stalled(DatabaseError):
    """PostgreSQL did not answer within `sync --timeout` (our own deadline, not the server's)."""


class Replaced(DatabaseError):
    """The file was replaced (by `sync`) after it was opened: open it again and retry."""


class KubeletError(ReadyStackError):
    """A request the provider cannot answer; the kubelet logs the message from stderr."""

    # The kubelet verb says it itself, as `NAME kubelet: message`, and exits 1.


# ---- internal: raised and caught inside the product ----------------------------------------


class ConnectionStringError(Internal, ValueError):
    """The connection string cannot be parsed, or names no database file we can read."""


class ChallengeError(Internal, ValueError):
    """The header is not a list of RFC 7235 challenges."""


class DurationError(Internal, ValueError):
    """Text that is not a Go duration, or one the kubelet cannot use; the message says which."""


class UnsafeValue(Internal, ValueError):
    """A value that cannot be written as one ``key = value`` line of the config file."""


class Verdict(Internal):
    """A registry check ended: a status of DESIGN.md's table and its detail (never a secret)."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
