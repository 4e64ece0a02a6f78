"""Which registries dockerd lets fall back to plain HTTP (moby's isSecureIndex)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from readystack.helper.online import insecure


@pytest.fixture(autouse=True)
def resolver(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DNS in unit tests: localhost is loopback, every other name fails to resolve."""

    def getaddrinfo(host: str, *_: object, **__: object) -> list:
        if host == "localhost":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
        raise socket.gaierror("not resolved in tests")

    monkeypatch.setattr(insecure.socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    daemon = tmp_path / "daemon.json"
    daemon.write_text(
        json.dumps(
            {"insecure-registries": ["http://reg.lan:5000", "10.1.0.0/16", "https://other.lan", 7]}
        )
    )
    return {"READYSTACK_DAEMON_JSON": str(daemon)}


@pytest.mark.parametrize(
    ("host", "why"),
    [
        ("127.0.0.1:5000", "127.0.0.1 is a loopback address"),
        ("127.8.9.10", "127.8.9.10 is a loopback address"),
        ("[::1]:5000", "::1 is a loopback address"),
        ("localhost:5000", "is a loopback address"),
        ("reg.lan:5000", "reg.lan:5000 is in insecure-registries of"),
        ("other.lan", "other.lan is in insecure-registries of"),
        ("10.1.2.3:443", "10.1.2.3 is in 10.1.0.0/16 of insecure-registries in"),
    ],
)
def test_hosts_dockerd_treats_as_insecure(environ: dict[str, str], host: str, why: str) -> None:
    assert why in (insecure.plain_http_reason(host, environ) or "")


@pytest.mark.parametrize(
    "host", ["ghcr.io", "reg.lan", "reg.lan:5001", "10.2.0.1", "docker.io", "192.0.2.7:5000"]
)
def test_every_other_host_is_https_only(environ: dict[str, str], host: str) -> None:
    assert insecure.plain_http_reason(host, environ) is None


@pytest.mark.parametrize("content", ["", "{", "[]", '{"insecure-registries": "reg.lan"}'])
def test_a_missing_or_broken_daemon_json_adds_nothing(tmp_path: Path, content: str) -> None:
    path = tmp_path / "daemon.json"
    path.write_text(content)
    assert insecure.insecure_entries(str(path)) == ([], set())
    assert insecure.insecure_entries(str(tmp_path / "missing.json")) == ([], set())
    assert insecure.plain_http_reason("reg.lan", {"READYSTACK_DAEMON_JSON": str(path)}) is None
