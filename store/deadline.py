"""A client-side end to one blocking wait: SIGALRM runs a function that raises, in the main thread.

For waits on libraries that take no timeout of their own (psycopg's, keyring's D-Bus I/O). The
handler's exception interrupts the blocking call: CPython runs signal handlers between bytecodes
and when a system call returns EINTR, and PEP 475 retries the call only when the handler returns.
Outside the main thread signal handlers cannot be set, and the wait is left to the library.
"""

from __future__ import annotations

# The C module: signal.py would convert its constants to enums on import, which a keyring `get`
# would pay for (~0.9 ms) for nothing.
import _signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class Deadline:
    """``with Deadline(seconds, expired):`` calls ``expired`` (which raises) if the block outlasts
    ``seconds``; the previous SIGALRM handler is back afterwards."""

    def __init__(self, seconds: float, expired: Callable[[], None]) -> None:
        self.seconds, self.expired = seconds, expired
        self.previous: object = None

    def __enter__(self) -> None:
        try:
            self.previous = _signal.signal(_signal.SIGALRM, self._ring)
        except ValueError:  # not the main thread: the library's own timeouts (if any) hold
            self.previous = None
            return
        _signal.setitimer(_signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *_: object) -> None:
        if self.previous is not None:
            _signal.setitimer(_signal.ITIMER_REAL, 0)
            _signal.signal(_signal.SIGALRM, self.previous)

    def _ring(self, *_: object) -> None:
        self.expired()
