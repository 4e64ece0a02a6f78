"""registry test's HTTP layer: proxies from the environment, certs.d, failures named for people."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
from readystack.helper.online import regcheck
from readystack.helper.online.regtransport import (
    CERTS_D_ENV,
    Transport,
    Verdict,
    failure,
    proxy_for,
    tls_context,
)
from urllib3 import exceptions as u3


@pytest.mark.parametrize(
    ("env", "url", "proxy"),
    [
        ({"HTTPS_PROXY": "http://p:3128"}, "https://ghcr.io/v2/", "http://p:3128"),
        (
            {"https_proxy": "http://low:1", "HTTPS_PROXY": "http://up:1"},
            "https://a/",
            "http://low:1",
        ),
        ({"HTTPS_PROXY": "http://p:3128"}, "http://r.local:5000/v2/", None),
        ({"HTTP_PROXY": "http://p:3128"}, "http://r.local:5000/v2/", "http://p:3128"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "ghcr.io"}, "https://ghcr.io/v2/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".acme.io"}, "https://r.acme.io/v2/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "acme.io"}, "https://ghcr.io/", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "no_proxy": "127.0.0.1"}, "https://127.0.0.1:5000/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://ghcr.io/", None),
        ({}, "https://ghcr.io/", None),
    ],
)
def test_proxy_comes_from_the_environment_unless_no_proxy_excludes_the_host(
    env: dict[str, str], url: str, proxy: str | None
) -> None:
    assert proxy_for(url, env) == proxy


def test_no_certs_d_folder_means_the_system_store_alone(tmp_path: Path) -> None:
    env = {CERTS_D_ENV: str(tmp_path)}
    context = tls_context("ghcr.io", env)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert tls_context("quay.io", env) is context  # loaded once for every such host


def test_certs_d_ca_is_added_and_a_broken_file_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "r.local:5000"
    folder.mkdir()
    (folder / "ca.crt").write_text("not a certificate\n")
    with pytest.raises(Verdict) as caught:
        tls_context("r.local:5000", {CERTS_D_ENV: str(tmp_path)})
    assert caught.value.status == "tls" and str(folder / "ca.crt") in caught.value.detail


def test_client_cert_without_its_key_is_a_tls_problem(tmp_path: Path) -> None:
    folder = tmp_path / "r.local"
    folder.mkdir()
    (folder / "client.cert").write_text("x")
    with pytest.raises(Verdict) as caught:
        tls_context("r.local", {CERTS_D_ENV: str(tmp_path)})
    assert caught.value.detail.endswith("has no client.key beside it")


def test_failures_are_named_for_people() -> None:
    gai = socket.gaierror(-2, "Name or service not known")
    resolve = u3.NameResolutionError("nowhere.invalid", None, gai)  # type: ignore[arg-type]
    assert failure(resolve, "nowhere.invalid:443", 10).detail == "cannot resolve nowhere.invalid"
    refused = u3.NewConnectionError(None, "refused")  # type: ignore[arg-type]
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    verdict = failure(refused, "127.0.0.1:1", 10)
    assert (verdict.status, verdict.detail) == (
        "unreachable",
        "cannot connect to 127.0.0.1:1: Connection refused",
    )
    slow = u3.ReadTimeoutError(None, "/v2/", "Read timed out.")  # type: ignore[arg-type]
    assert failure(slow, "r:1", 2.5).detail == "no answer from r:1 within 2.5 s"
    cert = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cert.verify_message = "certificate has expired"
    tls = u3.SSLError(cert)
    tls.__cause__ = cert
    expected = "certificate of r:443 not trusted: certificate has expired"
    assert failure(tls, "r:443", 10).detail == expected


def test_the_deadline_covers_every_request_of_a_check() -> None:
    transport = Transport("r.local", {}, 0.001)
    transport.deadline = 0  # spent
    with pytest.raises(Verdict) as caught:
        transport.request("GET", "http://r.local/v2/")
    assert caught.value.status == "unreachable"


@pytest.mark.parametrize(
    ("url", "base", "host"),
    [
        ("https://ghcr.io", "https://ghcr.io", "ghcr.io"),
        ("ghcr.io", "https://ghcr.io", "ghcr.io"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("https://index.docker.io/v1/", "https://registry-1.docker.io", "docker.io"),
        ("HTTP://R.local:5000", "http://r.local:5000", "r.local:5000"),
    ],
)
def test_the_row_url_decides_scheme_and_host(url: str, base: str, host: str) -> None:
    assert regcheck.endpoint(url) == (base, host)


def test_one_wall_clock_deadline_ends_a_check_that_never_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    release = threading.Event()

    def stuck(*_: object) -> tuple[str, str]:
        release.wait(60)  # a server dripping bytes: every read succeeds, none finishes
        return regcheck.OK, "too late"

    monkeypatch.setattr(regcheck, "_check", stuck)
    try:
        assert regcheck.check("http://h", "u", "p", None, {}, 0.2) == (
            regcheck.UNREACHABLE,
            "no answer within 0.2 s",
        )
    finally:
        release.set()


def test_a_check_that_fails_raises_in_the_callers_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> tuple[str, str]:
        raise KeyError("bug")

    monkeypatch.setattr(regcheck, "_check", broken)
    with pytest.raises(KeyError):
        regcheck.check("http://h", "u", "p", None, {}, 5)
