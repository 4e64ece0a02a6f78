"""The protocol's read verbs, get and list, over raw input, returning the text for stdout.

store and erase, which keep and forget `docker login`s, are in logins.py: a lookup never loads
them.
"""

from __future__ import annotations

from readystack.store import conventions, errors, paths
from readystack.store.diag import debug, warn

from . import protocol
from . import target as targets

TYPE_CHECKING = False  # collections.abc serves annotations only: a lookup never imports it
if TYPE_CHECKING:
    from collections.abc import Mapping


def get(data: bytes, environ: Mapping[str, str]) -> str:
    """``get``: the credentials for a server or repository, or NotFound."""
    from .resolver import resolve

    server = protocol.server_text(data)
    try:
        target = targets.parse(server)
    except errors.TargetError as exc:
        debug(f"get: {exc}")
        raise errors.NotFound() from None
    db_path, how = paths.database_path(environ)
    debug(f"get: {target.describe()}; database {db_path} ({how})")
    answer = resolve(target, environ, db_path, docker_argv=lambda: _docker_argv(environ))
    if answer is None:
        debug("get: not found")
        raise errors.NotFound()
    debug(f"get: answered from {answer.source} for user {answer.username!r}")
    return protocol.encode_credentials(server, answer.username, answer.secret)


def _docker_argv(environ: Mapping[str, str]) -> list[str] | str | None:
    # Imported only when the host's rows could answer differently by repository.
    from .hint import docker_argv

    return docker_argv(environ)


def list_(environ: Mapping[str, str]) -> str:
    """``list``: {server: username} for every host with credentials in the table."""
    from .resolver import list_entries

    db_path, _ = paths.database_path(environ)
    try:
        entries = list_entries(db_path)
    except (errors.DatabaseError, OSError) as exc:
        # An erroring list breaks `docker run --use-api-socket` and legacy builds: answer empty.
        where = conventions.shown(db_path)
        warn(f"skipping the Registries table in {where}: {getattr(exc, 'strerror', None) or exc}")
        entries = {}
    return protocol.encode_list(entries)
