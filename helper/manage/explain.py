"""resolve and explain: what `get TARGET` answers, and the whole trace of why."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from readystack.store import conventions, hosts
from readystack.store.conventions import NAME, Answer
from readystack.store.diag import mask, printable
from readystack.store.errors import DatabaseError, TargetError
from readystack.store.verberrors import AdminError

from ..lookup import protocol
from ..lookup import target as targets
from ..lookup.resolver import Trace, repository_matters, resolve
from .adminlib import db_path, table_opener

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..lookup.resolver import ArgvSource, Opener


def _say(line: str) -> None:
    """Print one line, escaped as `registry list` escapes what rows and servers say."""
    print(printable(line))


def _target(text: str) -> targets.Target:
    try:
        return targets.parse(text.strip(), bare_name_is_image=True)
    except TargetError as exc:
        raise AdminError(
            f"{text!r} is neither a registry server nor an image reference: {exc}"
        ) from None


def resolve_(ns: argparse.Namespace) -> int:
    """resolve: what `get TARGET` would answer."""
    target = _target(ns.target)
    if target.note:
        sys.stderr.write(f"{NAME}: {target.note}\n")
    path, how = db_path(ns)
    answer = resolve(target, ns.environ, path, open_db=table_opener(path, how))
    if answer is None:
        _say(protocol.NOT_FOUND)
        return 1
    secret = answer.secret if ns.show_secret else mask(answer.secret)
    sys.stdout.write(protocol.encode_credentials(ns.target.strip(), answer.username, secret))
    sys.stderr.write(f"{NAME}: answered by {printable(answer.source)}\n")
    return 0


def explain(ns: argparse.Namespace) -> int:
    """explain: the whole trace of a resolution, secrets masked."""
    if ns.compose is not None:
        if ns.target is not None or ns.online:
            raise AdminError("explain --compose takes a PATH only, no TARGET or --online")
        from .composeview import explain_compose

        return explain_compose(ns)
    if ns.target is None:
        raise AdminError("explain needs a TARGET (or --compose [PATH])")
    target = _target(ns.target)
    path, how = db_path(ns)
    opener = table_opener(path, how)
    _say(f"explain {ns.target.strip()!r}")
    _say(f"database: {conventions.shown(path)} ({how})")
    url_note = _url_note(ns.target.strip(), target)
    if url_note:
        _say(url_note)
    if target.kind == targets.REPOSITORY:
        _say("image-aware clients (crane-style tools, the kubelet) ask for the repository:")
    answer = _traced(target, ns.environ, path, open_db=opener)
    if target.kind == targets.REPOSITORY:
        _docker_view(ns.target.strip(), target, ns.environ, path, answer, opener)
    elif target.kind == targets.SERVER and _repository_matters(target, path, opener):
        _say(
            "clients: only the host was asked, as buildx, docker-py, compose v1 and a command "
            "without an image send it; crane-style tools, the kubelet, and through the image "
            "hint the docker CLI, skopeo, podman, buildah and compose v2 route by repository: "
            "run `explain IMAGE` (or `explain --compose`) to see theirs"
        )
    if not ns.online:
        return 0
    from .diagnose import diagnose

    pullable, lines = diagnose(
        ns.target.strip(), target, answer, path, ns.environ, ns.timeout, open_db=opener
    )
    for line in lines:
        _say(line)
    return 0 if pullable else 1


def _url_note(text: str, target: targets.Target) -> str | None:
    """For a URL with a path: it is read as a server, and how to ask about the repository."""
    if target.kind != targets.SERVER or "://" not in text:
        return None
    path = text.split("://", 1)[1].partition("/")[2].strip("/")
    if not path or path in ("v1", "v2"):
        return None
    return (
        f"note: a URL is read as a server, as Docker reads a login URL: only {target.host} "
        f"counts and /{printable(path)} is not read; to ask about that repository, run "
        f"`{NAME} explain {target.host}/{printable(path)}`"
    )


def _traced(
    target: targets.Target,
    environ: Mapping[str, str],
    path: str,
    docker_argv: ArgvSource | None = None,
    *,
    open_db: Opener,
) -> Answer | None:
    """Resolve ``target``, print its trace and result; return the answer."""
    trace = Trace()
    answer = resolve(target, environ, path, trace, docker_argv=docker_argv, open_db=open_db)
    for line in trace.lines:
        _say(f"  {line}")
    _say(f"result: {_said(answer)}")
    return answer


def _said(answer: Answer | None) -> str:
    if answer is None:
        return f"not found; `get` answers {protocol.NOT_FOUND!r} and the client pulls anonymously"
    return f"username {answer.username!r}, secret {mask(answer.secret)}, from {answer.source}"


def _docker_view(
    image: str,
    target: targets.Target,
    environ: Mapping[str, str],
    path: str,
    image_aware: Answer | None,
    open_db: Opener,
) -> None:
    """What `docker pull IMAGE` gets: the CLI sends only the host; the hint reads its argv."""
    from ..lookup.hint import turned_off_by

    server = targets.parse(hosts.server_key(target.host))
    argv = ["docker", "pull", image]
    off = turned_off_by(environ)
    how = f"the image hint is turned off by {off}" if off else "the image hint reads its argv"
    _say(f"`docker pull {image}` sends only {server.raw!r}; {how}:")
    hinted = _traced(
        server,
        environ,
        path,
        lambda: f"turned off by {off}" if off else _linux_only(argv),
        open_db=open_db,
    )
    host_only = resolve(server, environ, path, open_db=open_db)
    aware, docker, plain = (_who(a) for a in (image_aware, hinted, host_only))
    if aware == docker == plain:
        _say(f"clients: every client gets {aware}")
        return
    docker_cli = f"`docker pull|push|run {image}`"
    if aware == docker:
        routed = f"crane-style tools, the kubelet and {docker_cli} (the image hint) get {aware}"
    else:
        routed = f"crane-style tools and the kubelet get {aware}; {docker_cli} gets {docker}"
    _say(
        f"clients: {routed}; skopeo, podman and buildah naming it do as the docker CLI, and "
        "compose v2 when its project's images agree (`explain --compose`); buildx, docker-py "
        f"and compose v1 send only the host and get {plain} (the host ranking)"
    )


def _linux_only(argv: list[str]) -> list[str] | None:
    # As `get` would: the hint exists only where /proc shows the parent's command line.
    return argv if sys.platform.startswith("linux") else None


def _who(answer: Answer | None) -> str:
    return "nothing (not found)" if answer is None else answer.source


def _repository_matters(target: targets.Target, path: str, open_db: Opener) -> bool:
    """Whether the host's rows could answer a repository otherwise than the host alone."""
    try:
        db = open_db(path)
        if db is None:
            return False
        try:
            return repository_matters(db.rows_for_host(target.host))
        finally:
            db.close()
    except (DatabaseError, OSError):
        return False  # resolve() above already said why the table is unusable
