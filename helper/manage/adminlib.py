"""What every management verb shares: opening the database to read or to write."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType

from readystack.store import conventions, paths, registries, writes
from readystack.store.conventions import NAME
from readystack.store.diag import printable
from readystack.store.errors import DatabaseError
from readystack.store.verberrors import AdminError

# Settings where a person typed the database's path for this run: a missing folder there is a
# typo to report, while a missing database chosen any other way is an empty table (DESIGN.md).
NAMED = ("--db", "READYSTACK_DB")


# How store/secrets.py ends a keyring error's advice; a command line that asked for the keyring
# with a flag gets that flag's fix instead (tests/unit/test_secrets.py pins the wording).
ENV_ADVICE = re.compile(r"(,?) or use READYSTACK_SECRETS=database$")


def keyring_advice(exc: Exception, instead: str) -> str:
    """A keyring error whose last advice is ``instead`` (`` or use --secret-store database``)."""
    return ENV_ADVICE.sub(lambda m: m.group(1) + instead if instead else "", str(exc))


def missing_folder(path: str, how: str) -> str | None:
    """What to say when ``path`` was named by ``--db``/READYSTACK_DB and its folder is missing."""
    folder = os.path.dirname(os.path.abspath(path))
    if how not in NAMED or conventions.is_remote(path):
        return None
    try:
        os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):
        return (
            f"the database {path} (from {how}) cannot exist: its folder {folder} does not "
            "exist; correct the path, or create the folder first"
        )
    except OSError:
        pass  # it exists, closed to this user: fileaccess.access_problem says so
    return None


def db_path(ns: argparse.Namespace) -> tuple[str, str]:
    """The database a verb works on, and how it was found; a named one needs its folder."""
    path, how = paths.database_path(ns.environ, getattr(ns, "db", None))
    problem = missing_folder(path, how)
    if problem:
        raise AdminError(problem)
    return path, how


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


def table_opener(path: str, how: str) -> Callable[[str], registries.Registries | None]:
    """How resolve/explain open ``db_path``'s table: a server only when ``--db`` names one."""
    # `get` never reads a server: only a --db typed for this run makes them read one.
    return backend(path).open_read if how == "--db" else registries.open_read


def missing_credentials(username: object, has_password: bool) -> tuple[list[str], str]:
    """(what a row lacks, username before password; the `registry update` options to set it)."""
    missing = [w for w, ok in (("username", username), ("password", has_password)) if not ok]
    options = "--username U --password-stdin" if not username else "--password-stdin"
    return missing, options


def open_read(ns: argparse.Namespace) -> registries.Registries | None:
    """The verb's database opened for reading; None when it does not exist."""
    path = db_path(ns)[0]
    try:
        return backend(path).open_read(path)
    except DatabaseError as exc:
        raise AdminError(str(exc)) from None


def all_rows(ns: argparse.Namespace) -> list[registries.Row]:
    """Every row of the verb's database (none when it does not exist)."""
    db = open_read(ns)
    if db is None:
        return []
    try:
        return db.all_rows()
    finally:
        db.close()


def open_write(ns: argparse.Namespace) -> registries.Registries:
    """The verb's database opened for writing (created when missing)."""
    path, how = db_path(ns)
    try:
        if conventions.is_remote(path):
            db = backend(path).open_write(path)
        else:
            # Only a --db typed for this run may name a file another user owns.
            db = writes.open_write(
                path, create_folder=how == paths.DEFAULT, foreign_ok=how == "--db"
            )
    except DatabaseError as exc:
        raise AdminError(str(exc)) from None
    if db.is_readystackgo:
        sys.stderr.write(f"{NAME}: note: writing to ReadyStackGo's database {path}\n")
    return db


@contextmanager
def writing(ns: argparse.Namespace) -> Iterator[registries.Registries]:
    """The verb's database, open for writing inside one short transaction, closed afterwards."""
    db = open_write(ns)
    try:
        with writes.transaction(db):
            yield db
    except DatabaseError as exc:
        raise AdminError(str(exc)) from None
    finally:
        db.close()


def find(db: registries.Registries, name: str) -> registries.Row:
    """The row called ``name``, or an AdminError that names the database and the likely row."""
    row = db.row_by_name(name)
    if row is None:
        names = [r.name for r in db.all_rows()]
        raise AdminError(missing_row(name, names, f" in {db.path}"))
    return row


# `registry list` shows every row; a miss names this many, which fits on one line.
_NAMES_SHOWN = 10


def missing_row(name: str, names: list[str], where: str = "") -> str:
    """``no registry named 'X'{where}; did you mean 'Y'? rows: …``, escaped as `registry list`."""
    import difflib

    missing = f"no registry named {printable(name)!r}{where}"
    if not names:
        return f"{missing}; the table has no rows"
    folded = {n.casefold(): n for n in names}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=1)
    hint = f"; did you mean {printable(folded[close[0]])!r}?" if close else ""
    shown = ", ".join(printable(n) for n in names[:_NAMES_SHOWN])
    more = f", … ({len(names)} in all: {NAME} registry list)" if len(names) > _NAMES_SHOWN else ""
    return f"{missing}{hint} rows: {shown}{more}" if hint else f"{missing}; rows: {shown}{more}"


def stdin_bytes(limit: int, what: str) -> bytes:
    """Up to ``limit`` bytes of stdin; a closed stdin (`<&-`) is an AdminError naming ``what``."""
    if sys.stdin is None:
        raise AdminError(f"stdin is closed; {what}")
    return sys.stdin.buffer.read(limit)


def read_secret(limit: int, what: str) -> bytes:
    """``what`` from stdin; from a terminal, one line typed without echo, as getpass reads it."""
    if sys.stdin is None or not sys.stdin.isatty():
        return stdin_bytes(limit, f"--password-stdin reads {what} from it: pipe {what} in")
    import termios

    fd = sys.stdin.fileno()
    before = termios.tcgetattr(fd)
    quiet = list(before)
    quiet[3] &= ~termios.ECHO  # lflags: no echo, line editing kept
    # Echo goes off before the prompt appears, and nothing typed ahead is discarded.
    termios.tcsetattr(fd, termios.TCSADRAIN, quiet)
    try:
        sys.stderr.write(f"{NAME}: type {what} and press Enter (it is not shown): ")
        sys.stderr.flush()
        line = sys.stdin.buffer.readline(limit)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, before)
        sys.stderr.write("\n")
    return line
