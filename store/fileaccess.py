"""What the file system allows: why a user cannot use a database file, and a file's identity."""

from __future__ import annotations

import os
import stat


def access_problem(path: str, write: bool = False) -> str | None:
    """Why this user cannot read (or write) the database at ``path``, and what to do; else None.

    Every verb and `doctor` say this one text, so it is computed only once SQLite has failed.
    """
    try:
        found = os.stat(path)
    except PermissionError:
        return (
            f"this user ({user()}) may not reach the database {path}: a folder on its path is "
            "closed to them; ask its owner for access, or run as a user who may"
        )
    except OSError:
        return None  # missing: an empty table to a reader, created by a writer
    if stat.S_ISDIR(found.st_mode):
        example = os.path.join(path, "registries.db")
        return f"{path} is a folder, not a database file; name the file itself (e.g. {example})"
    folder = os.path.dirname(os.path.abspath(path))
    if not os.access(path, os.R_OK | (os.W_OK if write else 0)):
        what = "read and write" if write else "read"
        return (
            f"this user ({user()}) may not {what} the database {path}; ask its owner for "
            f"access (ls -l {path}), run as a user who may, or choose another with --db"
        )
    if write and not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"this user ({user()}) may not write the folder {folder}, where SQLite keeps the "
            f"journal of {path}; ask its owner for access, or run as a user who may"
        )
    return None


def user() -> str:
    """This process's user name, for messages."""
    import pwd

    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def file_identity(path: str) -> tuple[int, int]:
    """(device, inode) of ``path``: tells whether `sync` replaced the file."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def moved(path: str, identity: tuple[int, int]) -> bool:
    """Whether ``path`` is no longer the file whose identity was taken."""
    try:
        return file_identity(path) != identity
    except OSError:
        return True  # gone: the retry creates it again
