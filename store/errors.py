"""The error table: every exception's exit code and stream; here, those a table lookup can meet.

helper/cli.py maps an error by its class's attributes below: what the user sees when it ends a
verb. The errors that a lookup answered from the table (its secret in the database or the
keyring) never meets, or meets only as it fails, are in verberrors.py, under these classes:
those of the other verbs, registry checks, the kubelet, Docker's config files and a keyring
entry bound to another host. The table lives in store/ because store/ raises storage errors and
may never import helper/. `get` imports this module, so it imports nothing but conventions'
texts, and holds only the classes such a lookup can raise: each class costs a lookup about
100,000 instructions to build (verberrors.py's cost a keyring `get` 1.5 M).
tests/test_structure.py fails for an exception class of helper/ or store/ defined elsewhere,
unless it is an Internal signal.
"""

from __future__ import annotations

from .conventions import NOT_FOUND

TYPE_CHECKING = False  # `typing` itself is never imported by a lookup
if TYPE_CHECKING:
    from typing import Protocol

    class Closable(Protocol):
        def close(self) -> object: ...


# Where a reported error's message goes. stdout belongs to the protocol: Docker's clients read
# the message there, byte for byte. Everything said to people goes to stderr.
STDOUT, STDERR = "stdout", "stderr"


class ReadyStackError(Exception):
    """Every error of the product: by default, ``NAME: message`` on stderr and exit status 1."""

    exit_code = 1
    stream = STDERR
    # False for errors raised and caught inside the product (see Internal).
    reported = True


# ---- reported: cli says the message on `stream` and exits with `exit_code` ----------------


class HelperError(ReadyStackError):
    """A protocol error: its message goes to stdout as it is, and the helper exits 1."""

    stream = STDOUT


class NotFound(HelperError):
    """No source has credentials for the question."""

    def __init__(self) -> None:
        super().__init__(NOT_FOUND)


class DatabaseError(ReadyStackError):
    """The database cannot be used for what was asked; SQLite's errors arrive as this."""


class SecretStoreError(ReadyStackError):
    """The secret store cannot be used; the message says what to do."""


# ---- internal: raised and caught inside the product ----------------------------------------


class Internal(ReadyStackError):
    """Raised and caught inside the product; the caller turns it into one of the errors above."""

    # One that reaches cli is a bug, said as one: `<verb> failed: … (READYSTACK_LOG=debug shows
    # where)` on stderr, exit 1; a protocol verb still answers on stdout as its clients expect.
    # Private signals between the functions of one module derive from this class too.
    reported = False


class HostError(Internal, ValueError):
    """The text does not name a registry host."""


class TargetError(Internal, ValueError):
    """The text names neither a registry server nor a valid image reference."""


class PatternError(Internal, ValueError):
    """A pattern that can never be used: it names another host, or is malformed."""


class BadRow(Internal, ValueError):
    """A row whose cells do not have the types ReadyStackGo's schema gives them."""


# ---- what an opener does when it fails -------------------------------------------------------


class ClosedOnFailure:
    """``with ClosedOnFailure(conn):`` closes ``conn`` when the block raises (and re-raises)."""

    # Like keyring's errors.ExceptionRaisedContext, a helper for failing well sits beside the
    # errors: every opener that hands back a connection uses this one instead of a try block.
    __slots__ = ("resource",)

    def __init__(self, resource: Closable) -> None:
        self.resource = resource

    def __enter__(self) -> Closable:
        return self.resource

    def __exit__(self, kind: type[BaseException] | None, value: object, tb: object) -> None:
        if kind is not None:
            self.resource.close()
