"""Tests for the distribution/reference ParseNormalizedNamed port (anchors.md section 6)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readystack.helper.lookup.reference import InvalidReference, parse_normalized

SHA256 = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"
SHA384 = "sha384:" + "0123456789abcdef" * 6
SHA512 = "sha512:" + "0123456789abcdef" * 8
HEX64 = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c"
HEX64_OTHER = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"
HUB = "docker.io"

VALID = [
    # anchors.md 6.2 rows 1-16: familiar names, Hub aliases, what counts as a domain.
    ("ubuntu", HUB, "library/ubuntu"),
    ("library/ubuntu", HUB, "library/ubuntu"),
    ("docker.io/foo", HUB, "library/foo"),
    ("index.docker.io/fooo/bar", HUB, "fooo/bar"),
    ("index.docker.io/library/ubuntu-12.04-base", HUB, "library/ubuntu-12.04-base"),
    ("library/foo/bar", HUB, "library/foo/bar"),
    ("other/library", HUB, "other/library"),
    ("localhost/fooo/bar", "localhost", "fooo/bar"),
    ("LOCALDOMAIN/fooo", "LOCALDOMAIN", "fooo"),
    ("Foo/bar", "Foo", "bar"),
    ("FOO/bar", "FOO", "bar"),
    ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "private/moonbase"),
    ("example.com:8000/privatebasee", "example.com:8000", "privatebasee"),
    ("test_com/foo", HUB, "test_com/foo"),
    ("test-com:8080/foo", "test-com:8080", "foo"),
    ("xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"),
    (f"busybox:latest@{SHA256}", HUB, "library/busybox"),
    # Row 18 read by PNN: tag and digest both dropped.
    (f"gcr.io/library/busybox:latest@{SHA256}", "gcr.io", "library/busybox"),
    # Rows 20-21: 63 hex characters is a name; 64 hex characters after a domain is a name.
    (HEX64[:-1], HUB, "library/" + HEX64[:-1]),
    (f"docker.io/{HEX64_OTHER}", HUB, "library/" + HEX64_OTHER),
    (f"example.com/{HEX64}", "example.com", HEX64),
    # Rows 22-25 read by PNN: with no "/" there is no domain, so ":5000" is a tag.
    ("test.com:5000", HUB, "library/test.com"),
    ("192.168.1.1:5000", HUB, "library/192.168.1.1"),
    ("192.168.1.1:5000/repo", "192.168.1.1:5000", "repo"),
    ("[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo"),
    ("[2001:db8::1]/repo", "[2001:db8::1]", "repo"),
    ("[::1]:5000/ns/repo@" + SHA256, "[::1]:5000", "ns/repo"),
    ("lowercase:Uppercase", HUB, "library/lowercase"),
    # Row 29: the 255-character limit counts the path only, not the domain.
    ("example.com/" + "a" * 255 + ":tag", "example.com", "a" * 255),
    ("a" * 247, HUB, "library/" + "a" * 247),
    # Row 31: a bare IPv4 address is a Hub image name, ":80" its tag.
    ("192.168.0.1", HUB, "library/192.168.0.1"),
    ("192.168.0.1:80", HUB, "library/192.168.0.1"),
    # A bare name is never a domain (a FIXME in distribution), even localhost or a host:port.
    ("localhost", HUB, "library/localhost"),
    ("localhost:5000", HUB, "library/localhost"),
    ("example.com", HUB, "library/example.com"),
    ("localhost:5000/foo/bar", "localhost:5000", "foo/bar"),
    ("registry.example.com:443/team/app:v1.2.3", "registry.example.com:443", "team/app"),
    # Domains are returned as written, except index.docker.io (any case) -> docker.io.
    ("EXAMPLE.com/foo", "EXAMPLE.com", "foo"),
    ("INDEX.Docker.IO/foo", HUB, "library/foo"),
    ("Docker.IO/foo", "Docker.IO", "library/foo"),
    ("registry-1.docker.io/foo", "registry-1.docker.io", "foo"),
    # Separators, tags and digests.
    ("a__b/c--d.e_f---g", HUB, "a__b/c--d.e_f---g"),
    ("foo/bar:" + "T" * 128, HUB, "foo/bar"),
    ("foo/bar:_v1.0-rc.1", HUB, "foo/bar"),
    (f"validname@{SHA512}", HUB, "library/validname"),
    (f"quay.io/a/b@{SHA384}", "quay.io", "a/b"),
    (f"ghcr.io/org/img:1.0@{SHA256}", "ghcr.io", "org/img"),
    ("a/b/c/d/e", HUB, "a/b/c/d/e"),
]

INVALID = [
    # Row 19: a 64-hex identifier is an image ID, not a name.
    (HEX64, "cannot specify 64-byte hexadecimal strings"),
    # Rows 26-27: uppercase in the path.
    ("Uppercase:tag", "repository name (library/Uppercase) must be lowercase"),
    ("test:5000/Uppercase/lowercase:tag", "must be lowercase"),
    ("docker/Docker", "must be lowercase"),
    ("docker.io/docker/Docker", "must be lowercase"),
    ("foo/bar@SHA256:" + "a" * 64, "must be lowercase"),
    # Row 28: malformed names.
    ("https://github.com/docker/docker", "invalid reference format"),
    ("-docker", "invalid reference format"),
    ("docker///docker", "invalid reference format"),
    ("docker/", "invalid reference format"),
    ("dock..er/docker", "invalid reference format"),
    ("____/____", "invalid reference format"),
    ("fc00::1:5000/debian", "invalid reference format"),
    ("[fc00::1]:5000", "invalid reference format"),
    # Row 24: a bracketed IPv6 address alone, or with a zone, is not a reference.
    ("[2001:db8::1]", "invalid reference format"),
    ("[2001:db8::1]:5000", "invalid reference format"),
    ("[fe80::1%eth0]:5000/repo", "invalid reference format"),
    # Row 29: the path is longer than 255 characters.
    ("domain/" + "a" * 256 + ":tag", "must not be more than 255 characters"),
    ("example.com/" + "a" * 256, "must not be more than 255 characters"),
    ("a" * 248, "must not be more than 255 characters"),
    # Row 30: digests.
    ("repo@sha256:" + "f" * 34, "invalid checksum digest length"),
    ("repo@sha256:" + "f" * 31, "invalid reference format"),
    ("repo@sha256:" + "F" * 64, "invalid checksum digest format"),
    ("repo@sha512:" + "f" * 64, "invalid checksum digest length"),
    ("repo@md5:" + "f" * 32, "unsupported digest algorithm"),
    ("repo:tag@Sha256:" + "f" * 64, "invalid checksum digest format"),
    ("repo@sha256" + "f" * 64, "invalid reference format"),
    # Tags.
    ("foo/bar:" + "t" * 129, "invalid reference format"),
    ("foo/bar:.tag", "invalid reference format"),
    ("foo/bar:", "invalid reference format"),
    # Empty, whitespace, control and non-ASCII input.
    ("", "invalid reference format"),
    (" ", "invalid reference format"),
    ("ubuntu\n", "invalid reference format"),
    (" ubuntu", "invalid reference format"),
    ("\x00", "invalid reference format"),
    ("ub\x00untu", "invalid reference format"),
    ("ubüntu", "invalid reference format"),
    ("example.com/ubüntu", "invalid reference format"),
    ("/foo", "invalid reference format"),
    ("foo//bar", "invalid reference format"),
    ("foo/.bar", "invalid reference format"),
    ("foo-/bar", "invalid reference format"),
    ("a:b:c", "invalid reference format"),
    ("foo/bar@", "invalid reference format"),
    (":tag", "invalid reference format"),
    ("example.com:port/foo", "invalid reference format"),
    ("-example.com/foo", "invalid reference format"),
    ("example-.com/foo", "invalid reference format"),
    ("[0]/0", "invalid reference format"),
    ("[::1]/", "invalid reference format"),
    ("ghcr.io:/repo", "invalid reference format"),  # an empty port
    ("[::1]:/repo", "invalid reference format"),
    ("[]:5000/foo", "invalid reference format"),  # empty IPv6 brackets
    ("[g::1]:5000/foo", "invalid reference format"),  # first character inside [...] checked
    ("[::1g]:5000/foo", "invalid reference format"),  # and the last one
    # A first part that is a valid path component but no valid host (grammar decision).
    ("a_b.com/c", "registry host (a_b.com) is not valid"),
]


@pytest.mark.parametrize(("text", "domain", "path"), VALID, ids=[v[0][:60] for v in VALID])
def test_a_valid_reference_gives_its_domain_and_path(text: str, domain: str, path: str) -> None:
    assert parse_normalized(text) == (domain, path)


@pytest.mark.parametrize(("text", "message"), INVALID, ids=[repr(v[0][:60]) for v in INVALID])
def test_an_invalid_reference_is_refused_with_dockers_message(text: str, message: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_normalized(text)
    assert message in str(caught.value)


def test_reference_error_is_value_error() -> None:
    assert issubclass(InvalidReference, ValueError)


def test_non_string_input_is_a_reference_error() -> None:
    with pytest.raises(InvalidReference):
        parse_normalized(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "a." * (1 << 19),
        "a/" * (1 << 19),
        "x/" + "a-" * (1 << 19) + "!",
        "A.b/" + "a_" * (1 << 19),
        "a:" + "1" * (1 << 20) + "x/y",
        "a@" + "a." * (1 << 19) + ":" + "0" * 40,
        "[" + ":" * (1 << 20),
        "\x00" * (1 << 20),
    ],
    ids=["dots", "slashes", "hyphens", "upper-domain", "port", "algorithm", "ipv6", "nul"],
)
def test_huge_input_is_rejected(text: str) -> None:
    # Every check is a linear scan (no regex backtracking); timing is the benchmark's business.
    with pytest.raises(InvalidReference):
        parse_normalized(text)


def test_long_domain_is_accepted() -> None:
    domain = "a." * 1000 + "com"
    assert parse_normalized(f"{domain}/x:y") == (domain, "x")


# Property-based tests.

GRAMMAR_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@[]"
_LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"

grammar_text = st.text(alphabet=GRAMMAR_ALPHABET, max_size=80)
grammar_chunks = st.lists(
    st.sampled_from(
        ["a", "b0", "Z", ".", "_", "__", "-", "/", ":", "@", "[", "]", "::1", "5000", "localhost"]
        + ["docker.io", "index.docker.io", "sha256:", HEX64, "x.com", "latest"]
    ),
    max_size=20,
).map("".join)

_alnum = st.text(alphabet=_LOWER_ALNUM, min_size=1, max_size=8)


@st.composite
def _component(draw: st.DrawFn, separators: tuple[str, ...]) -> str:
    """Draw one path component: alphanumeric runs joined by the given separators."""
    parts = [draw(_alnum)]
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(st.sampled_from(separators)))
        parts.append(draw(_alnum))
    return "".join(parts)


_ALL_SEPARATORS = (".", "_", "__", "-", "--", "---")
_ALNUM_MIXED = _LOWER_ALNUM + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_label = st.tuples(
    st.sampled_from(_ALNUM_MIXED),
    st.none() | st.tuples(st.text(_ALNUM_MIXED + "-", max_size=6), st.sampled_from(_ALNUM_MIXED)),
).map(lambda t: t[0] if t[1] is None else t[0] + t[1][0] + t[1][1])
_port = st.integers(0, 65535).map(str)
_ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
# Bracketed text needs a ":" to count as a domain ("[0]/x" is a Hub path, hence invalid).
_ipv6_part = st.text(alphabet="0123456789abcdefABCDEF:", max_size=10)
_ipv6 = st.tuples(_ipv6_part, _ipv6_part).map(lambda t: f"[{t[0]}:{t[1]}]")
_host = st.one_of(
    st.lists(_label, min_size=2, max_size=4).map(".".join),
    _ipv4,
    _ipv6,
    st.sampled_from(["localhost", "docker.io", "index.docker.io", "INDEX.docker.io", "Docker.IO"]),
)
_domain = st.one_of(
    st.tuples(_host, st.none() | _port).map(lambda t: t[0] if t[1] is None else f"{t[0]}:{t[1]}"),
    st.tuples(_label, _port).map(lambda t: f"{t[0]}:{t[1]}"),
)
_TAG_FIRST = _ALNUM_MIXED + "_"
_tag = st.tuples(
    st.sampled_from(_TAG_FIRST), st.text(_TAG_FIRST + ".-", max_size=12) | st.just("x" * 127)
).map("".join)
_digest = st.one_of(
    st.binary(min_size=32, max_size=32).map(lambda b: f"sha256:{b.hex()}"),
    st.binary(min_size=48, max_size=48).map(lambda b: f"sha384:{b.hex()}"),
    st.binary(min_size=64, max_size=64).map(lambda b: f"sha512:{b.hex()}"),
)
# Without a domain, a first component with "." (or "localhost") would be read as a domain.
_hub_first_component = _component(("_", "__", "-", "--"))
_any_component = _component(_ALL_SEPARATORS)


@st.composite
def valid_references(draw: st.DrawFn) -> tuple[str, str, str]:
    """Draw (reference, expected domain, expected path) from the reference grammar."""
    domain = draw(st.none() | _domain)
    components = [draw(_any_component if domain else _hub_first_component)]
    components += draw(st.lists(_any_component, max_size=3))
    path = "/".join(components)
    if domain is None and components[0] == "localhost" and len(components) > 1:
        domain = "localhost"
        path = "/".join(components[1:])
    text = path if domain is None else f"{domain}/{path}"
    if draw(st.booleans()):
        text += ":" + draw(_tag)
    if draw(st.booleans()):
        text += "@" + draw(_digest)
    expected_domain = HUB if domain is None or domain.lower() == "index.docker.io" else domain
    if expected_domain.lower() == HUB and "/" not in path:
        path = "library/" + path
    return text, expected_domain, path


def _check_outcome(text: str) -> tuple[str, str] | None:
    """Parse ``text``; return the result, or None for an InvalidReference."""
    try:
        result = parse_normalized(text)
    except InvalidReference as error:
        assert str(error)
        return None
    assert isinstance(result, tuple)
    assert len(result) == 2
    assert all(isinstance(part, str) and part for part in result)
    return result


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_parses_or_raises_reference_error(text: str) -> None:
    _check_outcome(text)


@settings(max_examples=200, deadline=None)
@given(st.one_of(grammar_text, grammar_chunks))
def test_grammar_text_parses_or_raises_reference_error(text: str) -> None:
    _check_outcome(text)


@settings(max_examples=150, deadline=None)
@given(st.one_of(grammar_text, grammar_chunks, valid_references().map(lambda v: v[0])))
def test_a_parsed_domain_and_path_parse_back_to_themselves(text: str) -> None:
    result = _check_outcome(text)
    if result is None:
        return
    domain, path = result
    assert domain.lower() != "index.docker.io"
    assert parse_normalized(f"{domain}/{path}") == (domain, path)


@settings(max_examples=150, deadline=None)
@given(valid_references())
def test_valid_references_from_grammar_parse(case: tuple[str, str, str]) -> None:
    text, domain, path = case
    assert parse_normalized(text) == (domain, path)


@pytest.mark.parametrize("algorithm", ["sha256+b64", "a.b", "a_b", "a-b", "x.y+z_w-v"])
def test_a_well_formed_unknown_digest_algorithm_is_unsupported_not_malformed(
    algorithm: str,
) -> None:
    with pytest.raises(InvalidReference, match="^unsupported digest algorithm$"):
        parse_normalized(f"repo:tag@{algorithm}:" + "f" * 32)


@pytest.mark.parametrize(
    ("name", "shown"),
    [("A" * 256, "A" * 256), ("A" * 257, "A" * 256 + "..."), ("A" * 5000, "A" * 256 + "...")],
)
def test_an_error_quotes_at_most_256_characters_of_the_name(name: str, shown: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_normalized(f"example.com/{name}")
    assert str(caught.value) == (
        f"invalid reference format: repository name ({shown}) must be lowercase"
    )


@pytest.mark.parametrize(
    ("digest", "message"),
    [
        ("sha256:" + "f" * 34, "invalid checksum digest length"),
        ("sha256:" + "F" * 64, "invalid checksum digest format"),
        ("md5:" + "f" * 32, "unsupported digest algorithm"),
        ("Sha256:" + "f" * 64, "invalid checksum digest format"),
    ],
)
def test_a_bad_digest_gets_go_digests_exact_message(digest: str, message: str) -> None:
    with pytest.raises(InvalidReference) as caught:
        parse_normalized(f"repo:tag@{digest}")
    assert str(caught.value) == message


@pytest.mark.parametrize("algorithm", ["a-1b", "a_1b", "a+1b", "1a", "a-", "a!b"])
def test_each_part_of_a_digest_algorithm_starts_with_a_letter(algorithm: str) -> None:
    with pytest.raises(InvalidReference, match="^invalid reference format$"):
        parse_normalized(f"repo:tag@{algorithm}:" + "f" * 32)
