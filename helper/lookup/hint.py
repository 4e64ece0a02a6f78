"""The image hint: a server question from a client becomes the repositories on its command line."""

from __future__ import annotations

import os
import sys

from readystack.store import errors, settings
from readystack.store.diag import debug

from . import target as targets

TYPE_CHECKING = False  # collections.abc serves annotations only: a lookup never imports it
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

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


def client_of(argv0: str) -> str | None:
    """Which client whose command line names its images argv[0] is, by its file name."""
    name = argv0.rpartition("/")[2]
    if name in _CLIENTS:
        return name
    # compose v2: the CLI plugin (…/cli-plugins/docker-compose) or the standalone binary;
    # compose v1 is a Python script, whose argv[0] is the interpreter.
    return "compose" if name == "docker-compose" else None


_CLIENTS = frozenset({"docker", "skopeo", "podman", "buildah"})
# Those whose short names (`team/web`) they try on each search registry in turn: such a name is
# read as that repository on the host asked, as they resolve it.
_SHORT_NAMES_ON_HOST = frozenset({"podman", "buildah"})


def references(
    asked: targets.Target, argv: list[str] | str | None, note: Note, pid: int | None = None
) -> list[targets.Target] | None:
    """The repositories on the host ``asked`` that the parent's ``argv`` names, or None.

    Only images on the very host asked count: the hint chooses among that host's rows and
    never sends a question, or credentials, anywhere else. ``pid`` is the parent (compose).
    """
    if isinstance(argv, str):  # the reason there is no command line to read
        return no(note, argv)
    if not argv:
        return no(note, "no parent command line: not Linux, or the parent's is unreadable")
    client = client_of(argv[0])
    if client is None:
        return no(note, "the parent process is not a client whose command line names its images")
    words = _named(client, argv, note, pid)
    if words is None:
        return None
    found = []
    for word in words:
        if client in _SHORT_NAMES_ON_HOST and not _has_host(word):
            word = f"{asked.host}/{word}"
        try:
            hinted = targets.image(word)
        except errors.TargetError:
            # Not quoted: a word that is no image may be anything, a secret included.
            return no(note, f"the {client} command names an invalid image reference")
        if hinted.host == asked.host:
            found.append(hinted)
    if not found:
        return no(note, f"the {client} command names no image on {asked.host}")
    shown = ", ".join(t.path for t in found[:8]) + (", …" if len(found) > 8 else "")
    line = f"image hint: the {client} command names {len(found)} image(s) on {asked.host}: {shown}"
    debug(line)
    note(line)
    return found


def _named(client: str, argv: list[str], note: Note, pid: int | None) -> list[str] | None:
    """The image words the client's command line names, or None (with the note why not)."""
    if client == "docker":
        from .dockerargv import image_operand  # only once the parent is known to be docker

        image = image_operand(argv)
        if image is None:
            return no(note, "the docker command line names no single image that is certain")
        return [image]
    if client == "compose":
        from . import compose  # subprocess and json load only here

        try:
            return compose.images(argv, pid)
        except compose.Unknown as exc:
            return no(note, f"compose: {exc}")
    from .containersargv import images

    words = images(client, argv)
    if words is None:
        return no(note, f"the {client} command line names no image that is certain")
    return words


def _has_host(word: str) -> bool:
    """Whether a reference's first component is a registry host (Docker's own test)."""
    first, slash, _ = word.partition("/")
    if not slash:
        return False
    name = first.partition(":")[0]
    return "." in name or ":" in first or name == "localhost" or first.startswith("[")


def no(note: Note, why: str) -> None:
    """Say why there is no hint (the trace and the debug log); None."""
    line = f"image hint: none ({why}); the host ranking decides"
    debug(line)
    note(line)
    return None
