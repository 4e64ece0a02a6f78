"""Targets: what `get`/`store`/`erase` were asked about (DESIGN.md, "Targets")."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readystack.helper.lookup import target as targets
from readystack.helper.lookup.target import OAUTH, REPOSITORY, SERVER, Target
from readystack.store.errors import TargetError

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        # with a scheme: only host[:port] counts
        ("https://index.docker.io/v1/", "docker.io"),
        ("http://r.io:5000/v2/", "r.io:5000"),
        ("https://ghcr.io", "ghcr.io"),
        ("https://ghcr.io/", "ghcr.io"),
        ("https://ghcr.io/v2/acme/api", "ghcr.io"),
        ("HTTPS://GHCR.IO/V2/", "ghcr.io"),
        ("https://r.io?x=1", "r.io"),
        ("https://r.io#frag", "r.io"),
        ("http://127.0.0.1:5000", "127.0.0.1:5000"),
        ("https://[::1]:5000/v2/", "[::1]:5000"),
        ("https://[::1]", "[::1]"),
        ("https://registry-1.docker.io/v2/", "docker.io"),
        # no `/`: always a server, even a bare name
        ("ghcr.io", "ghcr.io"),
        ("GHCR.IO", "ghcr.io"),
        ("Registry.Example.COM:8443", "registry.example.com:8443"),
        ("localhost", "localhost"),
        ("localhost:5000", "localhost:5000"),
        ("127.0.0.1", "127.0.0.1"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("[::1]:5000", "[::1]:5000"),
        ("[2001:db8::1]", "[2001:db8::1]"),
        ("[2001:DB8::1]:443", "[2001:db8::1]:443"),
        ("myregistry", "myregistry"),
        ("nginx", "nginx"),
        ("my_registry", "my_registry"),
        # Docker Hub under every name
        ("docker.io", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("registry.hub.docker.com", "docker.io"),
        ("REGISTRY-1.DOCKER.IO", "docker.io"),
        ("Docker.IO", "docker.io"),
        # a server URL without its scheme, ending in `/`
        ("ghcr.io/", "ghcr.io"),
        ("localhost:5000/v2/", "localhost:5000"),
        ("localhost/", "localhost"),
        # scheme-relative: a server, even with a path
        ("//ghcr.io", "ghcr.io"),
        ("//ghcr.io/v2/acme", "ghcr.io"),
    ],
)
def test_a_host_or_server_url_reads_as_a_server(raw: str, host: str) -> None:
    parsed = targets.parse(raw)
    assert (parsed.kind, parsed.host, parsed.path) == (SERVER, host, "")
    assert parsed.raw == raw


@pytest.mark.parametrize(
    "raw",
    [
        "https://user:pw@r.io:443/x",
        "https://user@r.io",
        "https://evil.com\\@ghcr.io",
        "evil.com\\@ghcr.io/x",
        "ghcr.io\\",
        "ghcr.io\x1b",
        "ghcr.io\x00",
        "ghcr io",
        "ghcr.io/team/\u200bapp",
    ],
)
def test_userinfo_backslash_space_and_control_are_refused(raw: str) -> None:
    with pytest.raises(TargetError):
        targets.parse(raw)


@pytest.mark.parametrize(
    "raw", ["https://index.docker.io/v1/access-token", "https://index.docker.io/v1/refresh-token"]
)
def test_oauth_keys_are_verbatim(raw: str) -> None:
    parsed = targets.parse(raw)
    assert (parsed.kind, parsed.host, parsed.raw) == (OAUTH, "docker.io", raw)
    assert "verbatim" in parsed.describe()


@pytest.mark.parametrize(
    "raw", ["https://index.docker.io/v1/ACCESS-TOKEN", "https://index.docker.io/v1/access-token/"]
)
def test_near_oauth_keys_are_plain_servers(raw: str) -> None:
    assert targets.parse(raw).kind == SERVER


@pytest.mark.parametrize(
    ("raw", "host", "path"),
    [
        ("mycompany/app", "docker.io", "mycompany/app"),
        ("library/nginx", "docker.io", "library/nginx"),
        ("docker.io/nginx", "docker.io", "library/nginx"),
        ("docker.io/library/nginx", "docker.io", "library/nginx"),
        ("index.docker.io/fooo/bar", "docker.io", "fooo/bar"),
        ("registry-1.docker.io/a/b", "docker.io", "a/b"),
        ("other/library", "docker.io", "other/library"),
        ("library/foo/bar", "docker.io", "library/foo/bar"),
        ("test_com/foo", "docker.io", "test_com/foo"),
        ("a/b:tag", "docker.io", "a/b"),
        (f"ghcr.io/acme/api:1.0@{DIGEST}", "ghcr.io", "acme/api"),
        (f"ghcr.io/acme/api@{DIGEST}", "ghcr.io", "acme/api"),
        ("ghcr.io/acme/api:Latest", "ghcr.io", "acme/api"),
        ("ghcr.io/acme/api/sub", "ghcr.io", "acme/api/sub"),
        ("localhost/fooo/bar", "localhost", "fooo/bar"),
        ("localhost:5000/team/app", "localhost:5000", "team/app"),
        ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase"),
        ("example.com:8000/privatebasee", "example.com:8000", "privatebasee"),
        ("test-com:8080/foo", "test-com:8080", "foo"),
        ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
        ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo"),
        ("GHCR.IO/acme/api", "ghcr.io", "acme/api"),
        # an uppercase first component is a domain (distribution's rule), compared lower-case
        ("LOCALDOMAIN/fooo", "localdomain", "fooo"),
        ("Foo/bar", "foo", "bar"),
    ],
)
def test_an_image_reference_reads_as_a_repository(raw: str, host: str, path: str) -> None:
    parsed = targets.parse(raw)
    assert (parsed.kind, parsed.host, parsed.path) == (REPOSITORY, host, path)
    assert path in parsed.describe()


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "a b",
        "mycompany/App",
        "ghcr.io/Acme/api",
        "docker/Docker",
        "docker.io/docker/Docker",
        "docker///docker",
        "-docker/x",
        "dock..er/docker",
        "____/____",
        "fc00::1:5000/debian",
        "[fe80::1%eth0]:5000/repo",
        "a/b@sha256:123",
        "a/b@sha256:" + "g" * 64,
        "ftp://x.io",
        "https://",
        "https:///v2/",
        "r.io:abc",
        "r.io:",
        "bad host.io",
        "-lead.io",
        "trail-.io",
        "a..b.io",
        "[::1",
        "[zz::1]:5000",
        "[::1]x",
        "ghcr.io/acme/api:",
        "ghcr.io:/acme",  # an empty port
        "[]:5000/foo",  # empty IPv6 brackets
        "[g::1]:5000/foo",  # the first character inside the brackets is checked
        "[::1g]:5000/foo",  # and the last one
        "[ab]/",  # a bracketed first segment without a colon is no host
        "example.com/" + "a" * 256,
        "ghcr.io/acme/" + "\u00e9",
    ],
)
def test_malformed_input_is_a_target_error(raw: str) -> None:
    with pytest.raises(TargetError):
        targets.parse(raw)


def test_longest_valid_path() -> None:
    assert targets.parse("example.com/" + "a" * 255).path == "a" * 255


@pytest.mark.parametrize(
    ("raw", "host", "path"),
    [
        ("nginx", "docker.io", "library/nginx"),
        ("myregistry", "docker.io", "library/myregistry"),
        ("nginx:1.25", "docker.io", "library/nginx"),
    ],
)
def test_bare_name_as_image(raw: str, host: str, path: str) -> None:
    parsed = targets.parse(raw, bare_name_is_image=True)
    assert (parsed.kind, parsed.host, parsed.path) == (REPOSITORY, host, path)
    assert parsed.note and "image" in parsed.note


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("localhost:5000", "localhost:5000"),
        ("localhost", "localhost"),
        ("ghcr.io", "ghcr.io"),
        ("[::1]:5000", "[::1]:5000"),
        ("127.0.0.1", "127.0.0.1"),
        ("https://index.docker.io/v1/", "docker.io"),
    ],
)
def test_bare_host_stays_a_server_for_people(raw: str, host: str) -> None:
    parsed = targets.parse(raw, bare_name_is_image=True)
    assert (parsed.kind, parsed.host, parsed.note) == (SERVER, host, "")


def test_repository_reading_has_no_note() -> None:
    assert targets.parse("mycompany/app", bare_name_is_image=True).note == ""


def test_describe_and_repr() -> None:
    assert targets.parse("ghcr.io").describe() == "server ghcr.io"
    assert targets.parse("ghcr.io/acme/api").describe() == "repository acme/api on host ghcr.io"
    assert "ghcr.io" in repr(targets.parse("ghcr.io"))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80), st.booleans())
def test_arbitrary_text_is_target_or_target_error(raw: str, as_image: bool) -> None:
    try:
        parsed = targets.parse(raw, bare_name_is_image=as_image)
    except TargetError:
        return
    assert isinstance(parsed, Target)
    assert parsed.kind in (SERVER, REPOSITORY, OAUTH)
    assert parsed.host == parsed.host.lower()


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="abcdefgh/.:-_@[]0123456789ABC", max_size=40))
def test_reference_like_text_is_target_or_target_error(raw: str) -> None:
    try:
        parsed = targets.parse(raw)
    except TargetError:
        return
    assert parsed.kind != REPOSITORY or parsed.path


def test_an_invalid_image_says_what_docker_says() -> None:
    with pytest.raises(TargetError) as caught:
        targets.parse("ghcr.io/Acme/api")
    assert "must be lowercase" in str(caught.value)


@pytest.mark.parametrize("raw", ["GHCR.IO/acme/api:1.0", "ghcr.io", "https://ghcr.io/v2/"])
def test_a_target_keeps_the_question_as_asked(raw: str) -> None:
    assert targets.parse(raw).raw == raw


def test_a_bare_name_read_as_an_image_carries_a_note_saying_so() -> None:
    assert targets.parse("nginx", bare_name_is_image=True).note == (
        "read 'nginx' as a Docker Hub image (get reads a name without '/' as a registry host)"
    )


def test_a_server_error_says_what_is_wrong_with_the_server() -> None:
    with pytest.raises(TargetError, match="^unsupported scheme 'ftp'$"):
        targets.parse("ftp://x.io")


def test_only_the_first_segment_of_a_trailing_slash_question_can_make_it_a_server() -> None:
    with pytest.raises(TargetError):
        targets.parse("acme/ghcr.io/")


def test_a_backslash_in_a_question_says_why() -> None:
    with pytest.raises(TargetError) as caught:
        targets.parse("ghcr.io/team\\app")
    assert str(caught.value) == "a backslash, white space or a control character in the question"
