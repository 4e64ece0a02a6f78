"""What a lookup was asked about: a registry server, a repository, or a Docker Hub OAuth key."""

from __future__ import annotations

from readystack.store import hosts
from readystack.store.errors import HostError, TargetError

SERVER = "server"
REPOSITORY = "repository"
OAUTH = "oauth key"


class Target:
    """A parsed question: the canonical host, and the repository path when one was given."""

    __slots__ = ("raw", "kind", "host", "path", "note")

    def __init__(self, raw: str, kind: str, host: str, path: str = "", note: str = "") -> None:
        self.raw = raw
        self.kind = kind
        self.host = host
        self.path = path
        self.note = note

    def __repr__(self) -> str:
        return f"Target({self.kind}: host={self.host!r}, path={self.path!r})"

    def describe(self) -> str:
        """How the question was read, for people."""
        if self.kind == REPOSITORY:
            return f"repository {self.path} on host {self.host}"
        if self.kind == OAUTH:
            return f"Docker Hub OAuth key {self.raw} (looked up verbatim)"
        return f"server {self.host}"


def parse(raw: str, *, bare_name_is_image: bool = False) -> Target:
    """Read ``raw`` as DESIGN.md's Targets section says.

    With a scheme, or without any ``/``, it is a server (only host[:port] counts); with a ``/``
    it is a repository, parsed by Docker's reference grammar. ``resolve``/``explain`` pass
    ``bare_name_is_image`` so that ``nginx`` means the image a person means.
    """
    if raw in hosts.OAUTH_KEYS:
        return Target(raw, OAUTH, hosts.HUB)
    if not hosts.is_plain(raw):
        raise TargetError("a backslash, white space or a control character in the question")
    try:
        if "://" in raw or raw.startswith("//"):
            return Target(raw, SERVER, hosts.host_of_url(raw))
        if "/" not in raw:
            if bare_name_is_image and not _looks_like_host(raw):
                return image(
                    raw,
                    note=f"read {raw!r} as a Docker Hub image (get reads a name "
                    "without '/' as a registry host)",
                )
            return Target(raw, SERVER, hosts.check_host(raw))
        if raw.endswith("/") and _looks_like_host(raw.split("/", 1)[0]):
            # `host/`, `host/v2/`: a server URL without its scheme, never a valid reference.
            return Target(raw, SERVER, hosts.host_of_url(raw))
    except HostError as exc:
        raise TargetError(str(exc)) from None
    return image(raw)


def image(raw: str, note: str = "") -> Target:
    """``raw`` read as an image reference (a bare name is a Docker Hub image), as a repository."""
    from .reference import InvalidReference, parse_normalized

    try:
        domain, path = parse_normalized(raw)
        host = hosts.check_host(domain)
    except (InvalidReference, HostError) as exc:
        raise TargetError(str(exc)) from None
    return Target(raw, REPOSITORY, host, path, note)


def _looks_like_host(text: str) -> bool:
    # Docker's own test: a first component with a dot, `localhost`, or an IPv6 literal.
    name = text.partition(":")[0]
    return "." in name or name.lower() == "localhost" or text.startswith("[")
