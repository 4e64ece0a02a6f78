"""Registry host names: parsing server URLs, Docker Hub's aliases and the keys clients use."""

from __future__ import annotations

# Docker Hub answers under several names; every one of them means this one host.
HUB = "docker.io"
HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
# The key the docker CLI, docker-py and BuildKit send and store for Docker Hub.
HUB_SERVER_URL = "https://index.docker.io/v1/"
# Docker Hub's OAuth keys: stored, found and erased verbatim, never by host.
OAUTH_KEYS = frozenset(
    {"https://index.docker.io/v1/access-token", "https://index.docker.io/v1/refresh-token"}
)

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")
_HEX_COLON = frozenset("0123456789abcdef:.")


class HostError(ValueError):
    """The text does not name a registry host."""


def canonical(host: str) -> str:
    """Lower-case a host[:port] and fold Docker Hub's aliases into ``docker.io``."""
    host = host.lower()
    return HUB if host in HUB_ALIASES else host


def is_hub(host: str) -> bool:
    """True when ``host`` (already canonical) is Docker Hub."""
    return host == HUB


def server_key(host: str) -> str:
    """The server string Docker sends for ``host``: the v1 URL for Docker Hub, else the host."""
    return HUB_SERVER_URL if host == HUB else host


def check_host(hostport: str) -> str:
    """Validate ``host[:port]`` (DNS name, IPv4 or bracketed IPv6) and return it canonical."""
    host, port = _split_port(hostport)
    if port is not None and not (port.isdigit() and port.isascii() and 0 < len(port) <= 5):
        raise HostError(f"invalid port in {hostport!r}")
    if host.startswith("["):
        inner = host[1:-1].lower() if host.endswith("]") else ""
        if not inner or not set(inner) <= _HEX_COLON or ":" not in inner:
            raise HostError(f"invalid IPv6 address in {hostport!r}")
    else:
        lowered = host.lower()
        if not lowered or not set(lowered) <= _HOST_CHARS:
            raise HostError(f"invalid host name {hostport!r}")
        for label in lowered.split("."):
            if not label or label[0] == "-" or label[-1] == "-":
                raise HostError(f"invalid host name {hostport!r}")
    return canonical(hostport)


def _split_port(hostport: str) -> tuple[str, str | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            return hostport, None
        rest = hostport[end + 1 :]
        if not rest:
            return hostport, None
        if rest[0] != ":":
            raise HostError(f"invalid host {hostport!r}")
        return hostport[: end + 1], rest[1:]
    if hostport.count(":") > 1:
        raise HostError(f"unbracketed IPv6 address {hostport!r}")
    host, sep, port = hostport.partition(":")
    return host, (port if sep else None)


def is_plain(text: str) -> bool:
    """No backslash, white space or control character (C0, DEL, C1) anywhere in ``text``."""
    return text.isprintable() and "\\" not in text and not any(ch.isspace() for ch in text)


def host_of_url(url: str) -> str:
    """The canonical ``host[:port]`` of a server URL, as Docker's ConvertToHostname reads it.

    A scheme (``http``/``https`` only), path, query and fragment are dropped; text without a
    scheme is read up to its first ``/``. Raises HostError, also for
    user information, a backslash, white space or a control character anywhere: WHATWG URL
    parsers read ``https://evil.com\\@ghcr.io`` as the host evil.com, Go's url.Parse rejects it,
    so no reading of such a string can be trusted to name the host we would answer for.
    """
    text = url.strip()
    if not is_plain(text):
        raise HostError("a backslash, white space or a control character in the server string")
    scheme, sep, rest = text.partition("://")
    if sep:
        if scheme.lower() not in ("http", "https"):
            raise HostError(f"unsupported scheme {scheme!r}")
    else:
        rest = text[2:] if text.startswith("//") else text
    for stop in "/?#":
        rest = rest.split(stop, 1)[0]
    if "@" in rest:
        raise HostError("the server string carries user information")
    if sep and rest.count(":") > 1 and not rest.startswith("["):
        # An unbracketed IPv6 literal in a URL, which ConvertToHostname also accepts.
        rest = f"[{rest}]"
    if not rest:
        raise HostError("no hostname in URL")
    return check_host(rest)
