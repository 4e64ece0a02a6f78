"""What every management verb shares: its error, and opening the database to read or to write."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from readystack.store import paths, registries
from readystack.store.conventions import NAME


class AdminError(Exception):
    """A management verb failed; the message goes to stderr and the exit status is 1."""


def db_path(ns: argparse.Namespace) -> tuple[str, str]:
    """The database a verb works on, and how it was found."""
    return paths.database_path(ns.environ, getattr(ns, "db", None))


def open_read(ns: argparse.Namespace) -> registries.Registries | None:
    """The verb's database opened for reading; None when it does not exist."""
    try:
        return registries.open_read(db_path(ns)[0])
    except registries.DatabaseError as exc:
        raise AdminError(str(exc)) from None


def open_write(ns: argparse.Namespace) -> registries.Registries:
    """The verb's database opened for writing (created when missing)."""
    path, _ = db_path(ns)
    try:
        db = registries.open_write(path)
    except OSError as exc:
        raise AdminError(f"cannot open {path} for writing: {exc.strerror or exc}") from None
    except registries.DatabaseError as exc:
        raise AdminError(str(exc)) from None
    if db.is_readystackgo:
        sys.stderr.write(f"{NAME}: note: writing to ReadyStackGo's database {path}\n")
    return db


@contextmanager
def writing(ns: argparse.Namespace) -> Iterator[registries.Registries]:
    """The verb's database, open for writing inside one short transaction, closed afterwards."""
    db = open_write(ns)
    try:
        with registries.transaction(db):
            yield db
    except registries.DatabaseError as exc:
        raise AdminError(str(exc)) from None
    finally:
        db.close()


def find(db: registries.Registries, name: str) -> registries.Row:
    """The row called ``name``, or an AdminError that names the database."""
    row = db.row_by_name(name)
    if row is None:
        raise AdminError(f"no registry named {name!r} in {db.path}")
    return row
