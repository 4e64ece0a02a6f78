"""sync: copy the Registries table between SQLite files and PostgreSQL, keeping login rows."""

from __future__ import annotations

import argparse
import os
import signal
import time
from types import FrameType

from readystack.store import conventions, replica, settings
from readystack.store.diag import warn
from readystack.store.errors import DatabaseError, Internal
from readystack.store.verberrors import AdminError

from .adminlib import db_path


def run(ns: argparse.Namespace) -> int:
    """One round, or rounds every ``--every`` seconds until a signal ends them."""
    source = ns.source or settings.sync_source(ns.environ)
    if not source:
        raise AdminError("no SOURCE: give --from, or set sync-from in the config file")
    dest = ns.dest or db_path(ns)[0]
    if _same(source, dest):
        raise AdminError(f"{conventions.shown(source)} is both SOURCE and DEST")
    if not ns.every:
        return sync_once(source, dest, ns.timeout)
    stop = _Stop()
    status = 0
    while not stop.requested:
        # A round that failed or timed out ends with its connections closed: the next one
        # starts clean, so one stalled server never stops the rounds after it.
        status = sync_once(source, dest, ns.timeout)
        stop.sleep(ns.every)
    return status


def sync_once(source: str, dest: str, timeout: float = conventions.REMOTE_TIMEOUT) -> int:
    """Copy once; a SOURCE or DEST that fails leaves DEST as it was, with one stderr line.

    ``timeout`` bounds connecting, each statement and each lock wait on PostgreSQL.
    """
    try:
        read = replica.read_source(source, warn, dest, timeout)
    except (DatabaseError, OSError) as exc:
        warn(f"sync: {exc}")
        return 1
    plan = read.unchanged  # DEST is stamped with SOURCE's rows: nothing to write
    if plan is None:
        try:
            plan = replica.write_dest(dest, read.rows, read.digest, timeout)
        except (DatabaseError, OSError) as exc:
            warn(f"sync: {exc}")
            return 1
    shown = conventions.shown
    print(f"synced {shown(source)} -> {shown(dest)}: {plan.summary()}", flush=True)
    return 0


def _same(source: str, dest: str) -> bool:
    if conventions.is_remote(source) or conventions.is_remote(dest):
        return source == dest
    return os.path.realpath(source) == os.path.realpath(dest)


class _Wake(Internal):
    """Raised by the signal handler to end the sleep between two rounds."""


class _Stop:
    """SIGTERM/SIGINT: a round in progress finishes, and no other one starts."""

    def __init__(self) -> None:
        self.requested = False
        self.sleeping = False
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.requested = True
        if self.sleeping:
            raise _Wake()

    def sleep(self, seconds: float) -> None:
        """Wait for the next round unless a signal came (or comes meanwhile)."""
        try:
            self.sleeping = True
            if not self.requested:
                time.sleep(seconds)
            self.sleeping = False
        except _Wake:
            self.sleeping = False
