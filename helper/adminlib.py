"""What every management verb shares: its error, and opening the database to read or to write."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType

from readystack.store import conventions, paths, registries
from readystack.store.conventions import NAME


class AdminError(Exception):
    """A management verb failed; the message goes to stderr and the exit status is 1."""


def db_path(ns: argparse.Namespace) -> tuple[str, str]:
    """The database a verb works on, and how it was found."""
    return paths.database_path(ns.environ, getattr(ns, "db", None))


def backend(location: str) -> ModuleType:
    """The module that opens ``location``: PostgreSQL's for a libpq URI, else SQLite's."""
    if not conventions.is_remote(location):
        return registries
    try:
        # The driver is imported here only, for a management verb given a postgresql:// URI.
        from readystack.store import pgsql
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("psycopg"):
            raise
        raise AdminError(
            "the PostgreSQL driver is not installed: pip install 'psycopg[binary]'"
        ) from None
    return pgsql


def table_opener(ns: argparse.Namespace) -> Callable[[str], registries.Registries | None]:
    """How resolve/explain open the table: a server only when ``--db`` names one, as `get`
    never reads one."""
    path, how = db_path(ns)
    return backend(path).open_read if how == "--db" else registries.open_read


def open_read(ns: argparse.Namespace) -> registries.Registries | None:
    """The verb's database opened for reading; None when it does not exist."""
    path = db_path(ns)[0]
    try:
        return backend(path).open_read(path)
    except registries.DatabaseError as exc:
        raise AdminError(str(exc)) from None


def open_write(ns: argparse.Namespace) -> registries.Registries:
    """The verb's database opened for writing (created when missing)."""
    path, _ = db_path(ns)
    try:
        db = backend(path).open_write(path)
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
