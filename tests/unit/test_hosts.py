"""Registry hosts: canonical names, Docker Hub's aliases, server URLs (ConvertToHostname)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readystack.store import hosts
from readystack.store.errors import HostError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("registry.hub.docker.com", "docker.io"),
        ("INDEX.DOCKER.IO", "docker.io"),
        ("GHCR.io", "ghcr.io"),
        ("docker.io:443", "docker.io:443"),  # no default-port folding
        ("hub.docker.com", "hub.docker.com"),
    ],
)
def test_canonical_lowercases_and_folds_hub_aliases(raw: str, expected: str) -> None:
    assert hosts.canonical(raw) == expected


def test_is_hub_and_server_key() -> None:
    assert hosts.is_hub("docker.io")
    assert not hosts.is_hub("index.docker.io")  # callers pass canonical hosts
    assert hosts.server_key("docker.io") == "https://index.docker.io/v1/"
    assert hosts.server_key("ghcr.io") == "ghcr.io"
    assert hosts.server_key("localhost:5000") == "localhost:5000"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ghcr.io", "ghcr.io"),
        ("localhost", "localhost"),
        ("localhost:5000", "localhost:5000"),
        ("my_registry", "my_registry"),
        ("10.0.0.1:5000", "10.0.0.1:5000"),
        ("[::1]", "[::1]"),
        ("[::1]:5000", "[::1]:5000"),
        ("[FE80::1]:5000", "[fe80::1]:5000"),
        ("a-b.c-d.io", "a-b.c-d.io"),
        ("x:1", "x:1"),
        ("x:65535", "x:65535"),
        # What docker/cli's ConvertToHostname sends for `https://[::1]` (Go's url.Hostname()).
        ("::1", "[::1]"),
        ("FC00::1:5000", "[fc00::1:5000]"),
        ("a" * 63 + "." + "b" * 63, "a" * 63 + "." + "b" * 63),
        (".".join(["a" * 63] * 3) + "." + "b" * 61, ".".join(["a" * 63] * 3) + "." + "b" * 61),
    ],
)
def test_a_valid_host_comes_back_canonical(raw: str, expected: str) -> None:
    assert hosts.check_host(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "a b",
        "a/b",
        "-a.io",
        "a-.io",
        "a..io",
        ".a.io",
        "a.io.",
        "x:",
        "x:port",
        "x:123456",
        "x:-1",
        "x:\u0661",  # a non-ASCII digit
        "[::1",
        "::g",
        "a" * 64 + ".io",  # a DNS label has at most 63 characters
        ".".join(["a" * 63] * 4),  # a DNS name has at most 253
        "a" * 70_000,
        "[]",
        "[::1]5000",
        "[g::1]",
        "[::1g]",  # the last character inside the brackets is checked too
        "[ab]",  # hex digits but no colon: no IPv6 address
        "[]:5000",
        "x.io:",  # an empty port
        "[::1]:",
        "[1.2.3.4]",
        "h\u00e9.io",
        "a@b.io",
    ],
)
def test_an_invalid_host_is_refused(raw: str) -> None:
    with pytest.raises(HostError):
        hosts.check_host(raw)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://r.io/v2/", "r.io"),
        ("http://r.io:5000", "r.io:5000"),
        ("r.io/ns/img", "r.io"),
        ("https://index.docker.io/v1/", "docker.io"),
        ("  https://r.io  ", "r.io"),
        ("//r.io/x", "r.io"),
        ("https://r.io?q#f", "r.io"),
        ("http://[::1]:5000/v2/", "[::1]:5000"),
        ("http://::1", "[::1]"),  # unbracketed IPv6 in a URL, as ConvertToHostname
        ("HTTP://R.IO", "r.io"),
        ("localhost:5000", "localhost:5000"),
    ],
)
def test_a_server_url_keeps_only_its_host_and_port(url: str, expected: str) -> None:
    assert hosts.host_of_url(url) == expected


def test_an_overlong_host_is_refused_without_echoing_it() -> None:
    with pytest.raises(HostError) as caught:
        hosts.check_host("a" * 70_000)
    assert str(caught.value) == "invalid host name: 70000 characters, DNS allows 253"


@pytest.mark.parametrize(
    "url", ["", "https://", "ftp://r.io", "ssh://r.io", "https:///x", "https://u@", "/x", "?x"]
)
def test_host_of_url_invalid(url: str) -> None:
    with pytest.raises(HostError):
        hosts.host_of_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://u:p@r.io:5000/x",
        "https://u:p@w@r.io",
        "https://evil.com\\@ghcr.io",
        "evil.com\\@ghcr.io",
        "https://ghcr.io\\x",
        "https://ghcr .io",
        "https://ghcr.io\tx",
        "https://ghcr.io/\x1b[31m",
        "https://ghcr.io\x85x",
    ],
)
def test_host_of_url_refuses_userinfo_backslash_space_and_control(url: str) -> None:
    with pytest.raises(HostError):
        hosts.host_of_url(url)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60))
def test_host_of_url_raises_only_host_error(text: str) -> None:
    try:
        host = hosts.host_of_url(text)
    except HostError:
        return
    assert host == host.lower()
    assert hosts.check_host(host) == host  # canonical output is a fixed point


@pytest.mark.parametrize(
    "raw",
    [
        "[abcd:ef01:2345:6789::1.2.3.4]",  # every character an IPv6 literal may hold
        "a-b_c.defghijklmnopqrstuvwxyz0123456789.io",  # every character a host name may hold
        "[::1]:5",  # a one-digit port
    ],
)
def test_a_host_using_the_edges_of_the_grammar_is_accepted(raw: str) -> None:
    assert hosts.check_host(raw) == raw


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[::1]]:5000", "invalid host '[::1]]:5000'"),
        ("a:1:2", "invalid IPv6 address in '[a:1:2]'"),
        ("x:port", "invalid port in 'x:port'"),
        ("[zz]", "invalid IPv6 address in '[zz]'"),
        ("bad host.io", "invalid host name 'bad host.io'"),
        ("-a.io", "invalid host name '-a.io'"),
    ],
)
def test_an_invalid_host_says_why(raw: str, message: str) -> None:
    with pytest.raises(HostError) as caught:
        hosts.check_host(raw)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("url", "message"),
    [("ftp://r.io", "unsupported scheme 'ftp'"), ("https://", "no hostname in URL")],
)
def test_an_unusable_server_url_says_why(url: str, message: str) -> None:
    with pytest.raises(HostError) as caught:
        hosts.host_of_url(url)
    assert str(caught.value) == message


def test_only_the_first_scheme_separator_counts() -> None:
    assert hosts.host_of_url("https://r.io/v2/?next=http://other.io") == "r.io"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "registry-1.docker.io"),
        ("https://Registry.Hub.Docker.com/v2/", "registry.hub.docker.com"),
        ("GHCR.io", "ghcr.io"),
    ],
)
def test_login_host_keeps_hub_aliases_the_cli_does_not_fold(url: str, expected: str) -> None:
    assert hosts.login_host(url) == expected


LONGEST = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 253 characters, DNS's limit


def test_the_longest_dns_name_with_the_longest_port_is_accepted() -> None:
    assert hosts.check_host(f"{LONGEST}:65535") == f"{LONGEST}:65535"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a" * 254 + ":65535", "invalid host name: 260 characters, DNS allows 253"),
        ("a" * 254, "invalid host name: 254 characters, DNS allows 253"),
        ("a" * 64 + ".io", f"invalid host name '{'a' * 64}.io': a label has 64 characters, "),
    ],
)
def test_a_name_longer_than_dns_allows_says_how_long(raw: str, message: str) -> None:
    with pytest.raises(HostError) as caught:
        hosts.check_host(raw)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://u:p@r.io:5000/x", "the server string carries user information"),
        (
            "https://ghcr.io/a\\b",
            "a backslash, white space or a control character in the server string",
        ),
    ],
)
def test_a_server_url_with_userinfo_or_a_backslash_says_why(url: str, message: str) -> None:
    with pytest.raises(HostError) as caught:
        hosts.host_of_url(url)
    assert str(caught.value) == message
