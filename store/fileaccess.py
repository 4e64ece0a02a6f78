"""What the file system allows: why a user cannot use a database file, and a file's identity."""

from __future__ import annotations

import os
import stat

from .errors import Internal


class Distrusted(Internal, OSError):
    """A config file that someone else than this user or root could have written."""

    # Here, beside the checks, not in settings.py: a lookup with no config file never builds it.


def access_problem(path: str, write: bool = False, foreign_ok: bool = True) -> str | None:
    """Why this user cannot read (or write) the database at ``path``, and what to do; else None.

    Every verb and `doctor` say this one text. ``foreign_ok`` False (with ``write``): a file
    another user owns is refused too, since its owner would read every secret written into it.
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
    if write and not foreign_ok and foreign(found.st_uid):
        return foreign_database(path, found.st_uid)
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
    return owner_name(os.geteuid())


def owner_name(uid: int) -> str:
    """A user's name for messages (``uid N`` when the password database has none)."""
    import pwd  # only when a message names someone

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def foreign(uid: int) -> bool:
    """Whether ``uid`` is someone else than this user or root: who may not choose for us."""
    return uid != 0 and uid != os.geteuid()


def distrust(info: os.stat_result, what: str) -> str | None:
    """Why a file or folder with ``info`` may have been written by someone else, or None.

    Trusted: owned by this user or root, and not writable by group or others; a folder writable
    by others with the sticky bit (``/tmp``) is fine, since only an entry's owner may replace it.
    """
    if foreign(info.st_uid):
        return f"{what} belongs to {owner_name(info.st_uid)}"
    if info.st_mode & 0o022 and not (stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_ISVTX):
        writers = (
            "group and others"
            if info.st_mode & 0o022 == 0o022
            else ("its group" if info.st_mode & 0o020 else "others")
        )
        return f"{what} is writable by {writers} (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def distrusted_folder(path: str) -> str | None:
    """Why a folder above ``path`` may have been changed by someone else, or None.

    One ``stat`` per folder, from the file's own folder up to ``/``.
    """
    folder = os.path.dirname(os.path.abspath(path))
    while True:
        try:
            why = distrust(os.stat(folder), f"its folder {folder}")
        except OSError:
            return f"its folder {folder} cannot be examined"
        if why:
            return why
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def foreign_database(path: str, uid: int) -> str:
    """The refusal to write secrets into ``path``, which the user ``uid`` owns."""
    return (
        f"refusing to write to the database {path}: it belongs to {owner_name(uid)}, "
        f"not to this user ({user()}) or root, so its owner could read every password written "
        "into it; name it with --db on a management verb to write it anyway"
    )


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
