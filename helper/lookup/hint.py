"""The image hint: a server question from the docker CLI becomes the repository on its argv."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from readystack.store import settings
from readystack.store.diag import debug

from . import target as targets

Note = Callable[[str], None]
KEY = "image-hint"  # in the config file; READYSTACK_IMAGE_HINT wins over it
# A command line longer than this is read as no command line at all (Linux allows about 2 MiB;
# the CLI's own commands are far below it).
_CMDLINE_MAX = 1 << 20


def enabled(environ: Mapping[str, str]) -> bool:
    """On unless READYSTACK_IMAGE_HINT, else `image-hint` in the config file, says false."""
    return settings.enabled(environ, KEY, True)


def turned_off_by(environ: Mapping[str, str]) -> str | None:
    """What turned the hint off (``READYSTACK_IMAGE_HINT=0``, ``image-hint = false in FILE``)."""
    if enabled(environ):
        return None
    found = settings.lookup(environ, KEY)
    if found is None:
        return KEY
    value, where = found
    return f"{where}={value}" if where == "READYSTACK_IMAGE_HINT" else f"{KEY} = {value} in {where}"


def docker_argv(environ: Mapping[str, str]) -> list[str] | str | None:
    """The parent's argv for the hint to read; a reason (a str) when the hint is turned off."""
    off = turned_off_by(environ)
    if off:
        return f"turned off by {off}"
    return parent_argv()


def parent_argv() -> list[str] | None:
    """The argv of the process that ran this one, from /proc (Linux only); None if unknown."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        fd = os.open(f"/proc/{os.getppid()}/cmdline", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks, size = [], 0
        while size <= _CMDLINE_MAX:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    # Each argument ends with a NUL; a process that rewrote its title may leave none at the end.
    if size > _CMDLINE_MAX or not data.endswith(b"\0"):
        return None
    return [os.fsdecode(arg) for arg in data[:-1].split(b"\0")]


def is_docker(argv0: str) -> bool:
    """Whether argv[0] names the docker CLI: ``docker`` or a path ending in ``/docker``."""
    return argv0 == "docker" or argv0.endswith("/docker")


def repository(
    asked: targets.Target, argv: list[str] | str | None, note: Note
) -> targets.Target | None:
    """The repository question a docker ``argv`` makes of ``asked`` (a server), or None.

    Only an image on the very host asked counts: the hint chooses among that host's rows and
    never sends a question, or credentials, anywhere else.
    """
    if isinstance(argv, str):  # the reason there is no command line to read
        return _no(note, argv)
    if not argv:
        return _no(note, "no docker command line: not Linux, or the parent's is unreadable")
    if not is_docker(argv[0]):
        return _no(note, "the parent process is not the docker CLI")
    from .dockerargv import image_operand  # only once the parent is known to be docker

    image = image_operand(argv)
    if image is None:
        return _no(note, "the docker command line names no single image that is certain")
    try:
        hinted = targets.image(image)
    except targets.TargetError:
        # Not quoted: a word that is no image may be anything, a secret included.
        return _no(note, "the docker command's operand is not a valid image reference")
    if hinted.host != asked.host:
        return _no(note, f"the docker command's image is on {hinted.host}, not {asked.host}")
    line = f"image hint: the docker command names {image!r}; answering for {hinted.describe()}"
    debug(line)
    note(line)
    return hinted


def _no(note: Note, why: str) -> None:
    line = f"image hint: none ({why}); the host ranking decides"
    debug(line)
    note(line)
    return None
