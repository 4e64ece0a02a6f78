"""This user's private runtime folder, where helpers started together coordinate (locks, results).

``$XDG_RUNTIME_DIR/readystack`` (else ``/tmp/readystack-UID``), made 0700 and checked to be this
user's own folder, never through a symlink: another user can neither read what is kept there nor
plant a file or a link in it. The compose hint (helper/lookup/compose.py) keeps its shared result
there, and a keyring `get` its lock (keyringlock.py).
"""

from __future__ import annotations

import os

from .errors import Internal


class NotPrivate(Internal):
    """The runtime folder cannot be made, opened, or is not private to this user."""


def private_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> int:
    """A descriptor of this user's private runtime folder (0700, owned, no link); or NotPrivate."""
    base = environ.get("XDG_RUNTIME_DIR", "")
    if base.startswith("/"):
        path = os.path.join(base, "readystack")
    else:
        path = os.path.join("/tmp", f"readystack-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise NotPrivate(f"cannot make the runtime folder {path}: {exc.strerror}") from None
    try:
        # O_NOFOLLOW: a symlink planted by another user under /tmp is refused, never followed.
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise NotPrivate(f"cannot open the runtime folder {path}: {exc.strerror}") from None
    info = os.fstat(fd)
    # stat.S_IMODE without importing stat: the permission bits are the low 12.
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        os.close(fd)
        raise NotPrivate(f"the runtime folder {path} is not private to this user")
    return fd
