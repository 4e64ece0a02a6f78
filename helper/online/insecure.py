"""Which registries dockerd lets fall back to plain HTTP: loopback and `insecure-registries`.

As moby's registry package (registry/config.go): `newServiceConfig` marks 127.0.0.0/8 and ::1/128
insecure by default; `loadInsecureRegistries` reads `insecure-registries` from daemon.json, each
entry a CIDR or a `host[:port]` (an `http://` or `https://` prefix is dropped); `isSecureIndex`
asks the `host[:port]` entries first, then whether one of the host's addresses lies in a CIDR
(resolving a name as `isCIDRMatch` does); Docker Hub is always secure. For a registry that is not
secure, `lookupV2Endpoints` (registry/service_v2.go) lists https:// and then http://, and a login
tries the next endpoint after any failure but a refusal of the credentials.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Mapping

from readystack.store import hosts
from readystack.store.diag import debug
from readystack.store.jsonread import BadJSON, read_json

DAEMON_JSON = "/etc/docker/daemon.json"
# Another daemon.json for the test suite, which must not touch the system's (see the README).
DAEMON_JSON_ENV = "READYSTACK_DAEMON_JSON"
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
# A daemon.json is a few kilobytes; one bigger than this is not read.
_MAX_BYTES = 1 << 20

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def daemon_json(environ: Mapping[str, str]) -> str:
    """The daemon.json whose `insecure-registries` count."""
    return environ.get(DAEMON_JSON_ENV) or DAEMON_JSON


def insecure_entries(path: str) -> tuple[list[Network], set[str]]:
    """(CIDRs, host[:port] names) of `insecure-registries` in ``path``; none when unreadable."""
    try:
        with open(path, "rb") as f:
            data = read_json(f.read(_MAX_BYTES))
    except (OSError, BadJSON) as exc:
        if not isinstance(exc, FileNotFoundError):
            debug(f"{path} not read for insecure-registries: {type(exc).__name__}")
        return [], set()
    entries = data.get("insecure-registries") if isinstance(data, dict) else None
    networks: list[Network] = []
    names: set[str] = set()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, str):
            continue
        text = entry.strip()
        for scheme in ("http://", "https://"):
            if text.lower().startswith(scheme):
                text = text[len(scheme) :]
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            names.add(text.lower())
    return networks, names


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The host's addresses: the literal, else what the resolver says (none when it fails)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in found]


def plain_http_reason(host: str, environ: Mapping[str, str]) -> str | None:
    """Why dockerd would try plain HTTP for ``host`` (``host[:port]``), or None: https only."""
    if hosts.is_hub(host):
        return None
    path = daemon_json(environ)
    networks, names = insecure_entries(path)
    if host.lower() in names:
        return f"{host} is in insecure-registries of {path}"
    bare = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]", 1)[0]
    for address in _addresses(bare):
        if any(address in net for net in LOOPBACK):
            return f"{address} is a loopback address"
        for net in networks:
            if address in net:
                return f"{address} is in {net} of insecure-registries in {path}"
    return None
