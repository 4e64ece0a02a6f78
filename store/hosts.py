"""Registry host names: parsing server URLs, Docker Hub's aliases and the keys clients use."""

from __future__ import annotations

from .errors import HostError

# Docker Hub answers under several names; every one of them means this one host.
HUB = "docker.io"
HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
# What the docker CLI itself means by Docker Hub when it logs in (its IndexServer, and the hosts
# its registry package folds into it). A login typed as another alias is kept under that name,
# as docker-credential-helpers' stores key it: they never fold aliases.
HUB_LOGIN_NAMES = frozenset({"docker.io", "index.docker.io"})
# The key the docker CLI, docker-py and BuildKit send and store for Docker Hub.
HUB_SERVER_URL = "https://index.docker.io/v1/"
# Docker Hub's OAuth keys: stored, found and erased verbatim, never by host.
OAUTH_KEYS = frozenset(
    {"https://index.docker.io/v1/access-token", "https://index.docker.io/v1/refresh-token"}
)

_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")
_HEX_COLON = frozenset("0123456789abcdef:.")
# DNS limits (RFC 1035 section 2.3.4): a name has at most 253 characters, a label at most 63.
# Checked before any SQL sees the name: a longer one can name no registry.
MAX_HOST, MAX_LABEL = 253, 63


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
    """Validate ``host[:port]`` (DNS name, IPv4 or IPv6) and return it canonical.

    An unbracketed IPv6 literal without a port (``::1``) is that host, bracketed: docker/cli's
    ConvertToHostname returns Go's ``url.Hostname()``, which drops the brackets when the URL
    has no port, so `docker login https://[::1]` sends the helper ``::1``.
    """
    if len(hostport) > MAX_HOST + 6:  # 6: ":65535"; never echo a name this long
        raise HostError(f"invalid host name: {len(hostport)} characters, DNS allows {MAX_HOST}")
    if hostport.count(":") > 1 and not hostport.startswith("["):
        hostport = f"[{hostport}]"
    host, port = _split_port(hostport)
    if port is not None and not (port.isdigit() and port.isascii() and 0 < len(port) <= 5):
        raise HostError(f"invalid port in {hostport!r}")
    if host.startswith("["):
        inner = host[1:-1].lower() if host.endswith("]") else ""
        if not inner or not set(inner) <= _HEX_COLON or not _is_ipv6(inner):
            raise HostError(f"invalid IPv6 address in {hostport!r}")
    else:
        lowered = host.lower()
        if len(lowered) > MAX_HOST:
            raise HostError(f"invalid host name: {len(lowered)} characters, DNS allows {MAX_HOST}")
        if not lowered or not set(lowered) <= _HOST_CHARS:
            raise HostError(f"invalid host name {hostport!r}")
        for label in lowered.split("."):
            if not label or label[0] == "-" or label[-1] == "-":
                raise HostError(f"invalid host name {hostport!r}")
            if len(label) > MAX_LABEL:
                raise HostError(
                    f"invalid host name {hostport!r}: a label has {len(label)} characters, "
                    f"DNS allows {MAX_LABEL}"
                )
    return canonical(hostport)


def _is_ipv6(text: str) -> bool:
    import ipaddress  # only for IPv6 literals, which a lookup rarely sees

    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


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
    return _plain(url, check_host(_hostport(url)))


def _plain(url: str, host: str) -> str:
    # After check_host, so that a bad host is named as such; this catches the rest of the text.
    if not is_plain(url.strip()):
        raise HostError("a backslash, white space or a control character in the server string")
    return host


def login_host(url: str) -> str:
    """The host a login to ``url`` is kept under: canonical, but ``registry-1.docker.io``… stay."""
    host = host_of_url(url)
    if is_hub(host):
        typed = _hostport(url).lower()
        if typed in HUB_ALIASES and typed not in HUB_LOGIN_NAMES:
            return typed
    return host


def _hostport(url: str) -> str:
    text = url.strip()
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
    if not rest:
        raise HostError("no hostname in URL")
    return rest
