"""One Secret Service read at a time among this user's helpers: a bounded wait on a lock file.

gnome-keyring 42.1 aborts now and then when several clients talk to it at once, whatever the
client (keyring's own reads crash it too): its per-client set-up races both the handling of
the client's first calls and the worker thread's rewriting of ``aliases/default`` paths
(daemon/dbus/gkd-secret-service.c; store/secretservice.py's docstring says which read avoids
what). D-Bus then starts a fresh gnome-keyring, whose collection is locked. The helpers
that Docker starts together (8 for a `docker compose pull` of 8 images) are exactly such
clients, so a keyring `get` holds this lock around its whole read, fast path and keyring alike:
our own processes never talk to the Secret Service at the same time. Other
programs still may; the lock only takes us out of the race.

The lock is ``secretservice.lock`` in the private runtime folder (runtime.py), a POSIX record lock
(``os.lockf``: fcntl.flock would cost a module load) that the kernel releases when the process
ends, however it ends. Every wait ends: after WAIT seconds the read goes ahead without it (a
debug line says so); a pull never fails for the lock. A row whose secret is in the database never
comes here.
"""

from __future__ import annotations

import os
import time

from . import runtime
from .diag import debug

NAME = "secretservice.lock"
# How long a helper waits for the others' reads. A fast read holds the lock 2-5 ms and a read
# through keyring (which imports it) 0.1-0.5 s, so the 8 helpers of one pull are through in well
# under a second, and in a few seconds on a loaded machine. Past that, the holder is most likely
# stuck (a password prompt, a hung daemon: keyring's read has its own deadline), and waiting on
# would only add to the pull's time.
WAIT = 5.0
# How often a waiter tries again: a try is one system call, and the waiter behind a 3 ms read
# should not sleep much longer than that read.
_POLL = 0.002


class Held:
    """``with Held():`` the lock for one read, or, when it cannot be had in WAIT s, none."""

    def __init__(self, wait: float = WAIT) -> None:
        self.wait = wait
        self.fd = -1

    def __enter__(self) -> bool:
        """True when the lock is held; False when the read goes ahead without it."""
        try:
            folder = runtime.private_dir()
        except runtime.NotPrivate as exc:
            debug(f"Secret Service read without the lock: {exc}")
            return False
        try:
            self.fd = os.open(
                NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder
            )
        except OSError as exc:
            debug(f"Secret Service read without the lock: cannot open {NAME}: {exc.strerror}")
            return False
        finally:
            os.close(folder)
        return self._take()

    def _take(self) -> bool:
        deadline = None
        while True:
            try:
                os.lockf(self.fd, os.F_TLOCK, 0)
                return True
            except (BlockingIOError, PermissionError):  # EAGAIN or EACCES: another one holds it
                pass
            except OSError as exc:
                debug(f"Secret Service read without the lock: {exc.strerror}")
                return False
            now = time.monotonic()
            if deadline is None:
                deadline = now + self.wait
            elif now >= deadline:
                debug(
                    f"Secret Service read without the lock: another helper held it for over "
                    f"{self.wait:g} s"
                )
                return False
            time.sleep(_POLL)

    def __exit__(self, *_: object) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # releases the lock
            self.fd = -1
