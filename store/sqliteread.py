"""Open a SQLite file for reading so that nothing is created, changed or left beside it.

SQLite's own read-only mode is not enough for a database in WAL mode (as EF Core creates
ReadyStackGo's): ``mode=ro`` on a WAL file whose ``-wal`` is absent creates ``-wal`` and ``-shm``
when it may write the folder (and a read-only connection can never remove them again), and fails
with SQLITE_READONLY_DIRECTORY when it may not. So, per https://sqlite.org/uri.html and
https://sqlite.org/wal.html#readonly:
- WAL file, no ``-wal``: every committed row is in the file itself, so it is read with
  ``immutable=1`` (no lock, no side file). If a ``-wal`` appears, or the file changes, during the
  read, the caller reads again through ``reopen()``.
- WAL file with ``-wal``: ReadyStackGo runs (or crashed). We hold a SHARED lock on the file's
  lock bytes while checking that ``-wal`` and ``-shm`` exist, then open ``mode=ro``. A WAL writer
  never needs the lock we hold, but a closing connection needs EXCLUSIVE to checkpoint and delete
  both files, so they cannot vanish between our check and SQLite's open (which would make SQLite
  create them, owned by us). Without ``-shm``, opening would create it, or fail with
  SQLITE_CANTOPEN for a user who cannot write the folder: refused with one sentence instead.
- Rollback-journal file: ``mode=ro``, which creates nothing and holds its SHARED lock only for
  the statement.
- Rollback-journal file with a *hot* journal (a writer was killed, or the power cut, inside its
  commit): ``mode=ro`` cannot roll it back and fails with SQLITE_READONLY_ROLLBACK until some
  writer comes along. A pull must not depend on a writer having finished cleanly, and must not
  write beside the database either (it may be ReadyStackGo's, or a root-owned replica the reader
  may only read). So ``rolled_back()`` copies the file and its journal, under our SHARED lock (no
  writer can roll back or write meanwhile), into a private folder in memory-backed storage,
  lets SQLite roll the copy back there, and reads the result from memory. The hot journal stays
  for the next writer, which rolls the real file back itself
  (sqlite.org/lockingv3.html#hot_journals).
"""

from __future__ import annotations

import atexit
import os
import stat
import sys

from .errors import ClosedOnFailure, Internal

# SQLite's C module as a lookup loads it, for this module and registries.py. The C module itself:
# the `sqlite3` package adds only date adapters we never use, and costs ~7% of a lookup's
# instructions. connect, Connection and Error are the very same objects.
#
# CPython's _sqlite3 (Modules/_sqlite/module.c, load_functools_lru_cache) imports functools at
# import time for one thing: `lru_cache`, which each connection wraps around itself as its
# statement cache (connection.c, new_statement_cache: `lru_cache(maxsize)(connection)`).
# functools pulls in collections, operator, keyword, reprlib and types: 13 M instructions, a
# fifth of the binary's whole `get`. The console script's `re` has loaded functools already, so
# this only matters where nothing has: the PyInstaller binary. There, the import sees a stand-in
# whose lru_cache builds the very same C cache (`_functools._lru_cache_wrapper`, what
# functools.lru_cache returns) and is gone from sys.modules once _sqlite3 is loaded; anything
# that imports functools later gets the real one. tests/unit/test_sqliteread.py checks the cache.


def _lru_cache(maxsize: int = 128, typed: bool = False) -> object:
    """functools.lru_cache(maxsize, typed) for a callable: the C cache without its extras."""
    import _functools

    if maxsize < 0:  # as functools.lru_cache: a negative size caches nothing
        maxsize = 0

    def decorate(user_function: object) -> object:
        # cache_info() is the only user of the fourth argument, and sqlite never calls it.
        return _functools._lru_cache_wrapper(user_function, maxsize, typed, tuple)

    return decorate


def _load_sqlite3() -> object:
    """Import _sqlite3, with the stand-in for functools if nothing has imported it yet."""
    if "functools" in sys.modules:
        import _sqlite3

        return _sqlite3
    stand_in = type(sys)("functools")
    stand_in.lru_cache = _lru_cache  # type: ignore[attr-defined]
    sys.modules["functools"] = stand_in
    try:
        import _sqlite3
    finally:
        if sys.modules.get("functools") is stand_in:
            del sys.modules["functools"]
    return _sqlite3


TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
else:
    try:
        sqlite3 = _load_sqlite3()
    except ImportError:  # pragma: no cover - interpreters without the private module
        import sqlite3

# SQLite's lock bytes (src/os.h): a SHARED lock is a read lock on one byte of this range, and
# EXCLUSIVE a write lock on all of it.
_PENDING_BYTE = 0x40000000
_SHARED_FIRST = _PENDING_BYTE + 2
_SHARED_SIZE = 510
# Header byte 19 (the read version) is 2 for a database in WAL mode (sqlite.org/fileformat.html).
_WAL_VERSION = 2


# Readers not closed yet. The protocol verbs end with os._exit(), which runs atexit handlers but
# no finalizers: whatever a failing path left open is closed there, before the process goes.
_OPEN: set[Reader] = set()


def close_all() -> None:
    """Close every reader still open (registered with atexit)."""
    for reader in list(_OPEN):
        reader.close()


atexit.register(close_all)


# SQLITE_READONLY_ROLLBACK (sqlite3.h): a read-only connection found a hot journal.
READONLY_ROLLBACK = 776


def hot_journal(exc: BaseException) -> bool:
    """A read-only connection met a journal it cannot roll back (a writer died mid-commit)."""
    return getattr(exc, "sqlite_errorcode", None) == READONLY_ROLLBACK


class Unreadable(Internal, sqlite3.OperationalError):
    """The file cannot be read without writing beside it, or is not a regular file."""


class Reader:
    """One read-only connection to a database file, and how it was opened."""

    def __init__(self, path: str, fd: int, timeout: float) -> None:
        self.path = path
        self.fd = fd  # held until close: the file we checked, and (when locked) our SHARED lock
        self.timeout = timeout
        self.conn: sqlite3.Connection | None = None
        self.unlocked = False
        self._seen: tuple[int, int, int, int] = (0, 0, 0, 0)
        _OPEN.add(self)

    def connect(self) -> sqlite3.Connection:
        """Open the connection the way the file's journal mode and side files call for."""
        st = os.fstat(self.fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable("it is not a regular file")
        self._seen = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        header = os.pread(self.fd, 20, 0)
        if len(header) < 20 or header[19] != _WAL_VERSION:
            return self._open("mode=ro")
        if os.path.exists(self.path + "-wal"):
            self._lock_shared()
            if os.path.exists(self.path + "-wal"):
                if not os.path.exists(self.path + "-shm"):
                    raise Unreadable(
                        "its -wal file exists without its -shm file (ReadyStackGo did not stop "
                        "cleanly), and reading it would create one: start ReadyStackGo again"
                    )
                return self._open("mode=ro")
            self._unlock()  # a clean stop finished while we waited: nothing is running
        self.unlocked = True
        # mode=ro too: immutable alone opens read-write-create, which would make a file that
        # vanished since our check.
        return self._open("mode=ro&immutable=1")

    def stale(self) -> bool:
        """True when an unlocked read may have missed a write: read again through ``reopen()``."""
        if not self.unlocked:
            return False
        if os.path.exists(self.path + "-wal"):
            return True
        try:
            st = os.stat(self.path)
        except OSError:
            return False  # removed after we opened it: what we read was one consistent file
        return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) != self._seen

    def reopen(self) -> sqlite3.Connection:
        """A fresh connection to whatever file is at the path now, after ``stale()`` said so."""
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        self.unlocked = False
        # The file may have been replaced (a sync renames a new one into place): look again.
        fd = _open_fd(self.path)
        if fd is None:
            raise Unreadable("it was removed while it was read")
        os.close(self.fd)
        self.fd = fd
        return self.connect()

    def rolled_back(self) -> sqlite3.Connection:
        """A connection to the file as its hot journal says it was, read without writing beside it.

        Called after SQLITE_READONLY_ROLLBACK; see the module's docstring for why a copy.
        """
        if self.conn is not None:
            self.conn.close()
            self.conn = None
        journal = self.path + "-journal"
        self._lock_shared()  # no writer can roll back, or write, while we copy
        try:
            image = _read_all(self.fd)
            try:
                jfd = os.open(journal, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except FileNotFoundError:
                jfd = -1  # a writer rolled it back before our lock: the file is whole
            try:
                log = _read_all(jfd) if jfd >= 0 else b""
            finally:
                if jfd >= 0:
                    os.close(jfd)
        finally:
            self._unlock()
        self.conn = _roll_back_in_private(image, log)
        return self.conn

    def close(self) -> None:
        """Close the connection, then our descriptor (closing it drops this process's locks)."""
        try:
            if self.conn is not None:
                self.conn.close()
        finally:
            _OPEN.discard(self)
            self.conn = None
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1

    def _open(self, flags: str) -> sqlite3.Connection:
        # The path was checked as a regular file through our descriptor; SQLite opens it again
        # by name. Someone who swaps a FIFO in between needs write access to the folder, which
        # already lets them remove the database: the check is against accidents, not races.
        self.conn = sqlite3.connect(
            f"file:{uri_path(self.path)}?{flags}",
            uri=True,
            timeout=self.timeout,
            isolation_level=None,
        )
        return self.conn

    def _lock_shared(self) -> None:
        import fcntl  # only when ReadyStackGo is running
        import time

        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.lockf(self.fd, fcntl.LOCK_SH | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST)
                return
            except OSError:
                # EXCLUSIVE is held only while a closing connection checkpoints: briefly.
                if time.monotonic() > deadline:
                    raise Unreadable(f"it stayed locked for {self.timeout:g}s") from None
                time.sleep(0.002)

    def _unlock(self) -> None:
        import fcntl

        fcntl.lockf(self.fd, fcntl.LOCK_UN, _SHARED_SIZE, _SHARED_FIRST)


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    parts, offset = [], 0
    while offset < size:
        part = os.pread(fd, size - offset, offset)
        if not part:
            break
        parts.append(part)
        offset += len(part)
    return b"".join(parts)


def _private_folder() -> str:
    import tempfile  # only after a writer died inside its commit

    # Memory-backed where there is one: a full disk must not fail a pull (DESIGN.md, faults).
    for base in (os.environ.get("XDG_RUNTIME_DIR"), "/dev/shm", None):
        if base is None or os.path.isdir(base):
            try:
                return tempfile.mkdtemp(prefix="readystack-rollback.", dir=base)  # mode 0700
            except OSError:
                continue
    raise Unreadable("no private folder to roll its hot journal back in")


def _roll_back_in_private(image: bytes, log: bytes) -> sqlite3.Connection:
    """SQLite rolls a copy back in a private folder; the result lives on in memory only."""
    folder = _private_folder()
    copy = os.path.join(folder, "db")
    try:
        for name, data in ((copy, image), (copy + "-journal", log)):
            if name == copy or data:
                fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
        private = sqlite3.connect(f"file:{uri_path(copy)}?mode=rw", uri=True, isolation_level=None)
        try:
            private.execute("SELECT count(*) FROM sqlite_master").fetchone()  # rolls it back
            rolled = private.serialize()
        finally:
            private.close()
    finally:
        for name in (copy + "-journal", copy):
            if os.path.exists(name):
                os.unlink(name)
        os.rmdir(folder)
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.deserialize(rolled)
    return conn


def open_reader(path: str, timeout: float) -> Reader | None:
    """A Reader on ``path``; None when there is no such file."""
    fd = _open_fd(path)
    if fd is None:
        return None
    reader = Reader(path, fd, timeout)
    with ClosedOnFailure(reader):
        reader.connect()
    return reader


def _open_fd(path: str) -> int | None:
    try:
        # O_NONBLOCK: a FIFO at this path must not hang a pull; it is refused as not regular.
        return os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unreadable(exc.strerror or str(exc)) from None


def read_only_uri(path: str) -> str:
    """A ``file:`` URI (``uri=True``) that reads a rollback-journal file as a lookup does."""
    return f"file:{uri_path(path)}?mode=ro"


def uri_path(path: str) -> str:
    """``path`` for a file: URI, which treats ?, # and % specially, so any file name works."""
    return path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
