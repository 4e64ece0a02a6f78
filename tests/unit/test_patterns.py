"""Image patterns: `*`/`**`, literal characters, hosts, validity and specificity."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readystack.helper.lookup.patterns import (
    MAX_PATTERN_LENGTH,
    MAX_WILDCARDS,
    Pattern,
    PatternError,
    compile_pattern,
)

HUB = "docker.io"
GHCR = "ghcr.io"
BOUNDED = settings(max_examples=100, deadline=None)


def matches(pattern: str, path: str, host: str = GHCR) -> bool:
    return compile_pattern(pattern, host).matches(path)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("myorg/**", "myorg/app", True),
        ("myorg/**", "myorg/team/app", True),
        ("myorg/**", "myorg", False),
        ("myorg/**", "myorgx/app", False),
        ("myorg/*", "myorg/app", True),
        ("myorg/*", "myorg/team/app", False),
        ("myorg/*", "myorg/", True),  # `*` may match nothing
        ("*/app", "team/app", True),
        ("*/app", "a/b/app", False),
        ("**/app", "a/b/app", True),
        ("**", "a", True),
        ("**", "a/b/c", True),
        ("*", "a/b", False),
        ("*", "a", True),
        ("team/app-*", "team/app-1", True),
        ("team/app-*", "team/app", False),
        ("a/**/z", "a/b/c/z", True),
        ("a/**/z", "a/z", False),
        ("a/*/z", "a/b/z", True),
        ("a/*/z", "a/b/c/z", False),
        ("myorg/app", "myorg/app", True),
        ("myorg/app", "myorg/app/x", False),
        ("myorg/app", "xmyorg/app", False),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "ac", False),
    ],
)
def test_star_and_globstar(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


@pytest.mark.parametrize(
    ("pattern", "path"),
    [("MyOrg/**", "myorg/app"), ("TEAM/APP", "team/app"), ("GHCR.IO/Acme/*", "acme/api")],
)
def test_patterns_match_case_insensitively(pattern: str, path: str) -> None:
    assert matches(pattern, path)


@pytest.mark.parametrize("meta", ["[", "]", "(", ")", "+", "?", ".", "$", "^", "{", "}", "|", "\\"])
def test_regex_metacharacters_are_literal(meta: str) -> None:
    # In the second segment, so that `.` and `:` do not make the first one a host.
    pattern = compile_pattern(f"x/a{meta}b/*", GHCR)
    assert pattern.matches(f"x/a{meta}b/y")
    assert not pattern.matches("x/azb/y")
    assert not pattern.matches("x/ab/y")


@pytest.mark.parametrize(
    ("pattern", "not_path"),
    [("x/a.b", "x/axb"), ("a+", "aa"), ("a?", "a"), ("[ab]", "a"), ("a{2}", "aa"), ("(a|b)", "a")],
)
def test_regex_syntax_never_interpreted(pattern: str, not_path: str) -> None:
    assert not matches(pattern, not_path)
    assert matches(pattern, pattern)


@pytest.mark.parametrize(
    ("pattern", "host", "path"),
    [
        ("ghcr.io/**", GHCR, "**"),
        ("ghcr.io/acme/api", GHCR, "acme/api"),
        ("localhost:5000/team/*", "localhost:5000", "team/*"),
        ("localhost/team/*", "localhost", "team/*"),
        ("[::1]:5000/a", "[::1]:5000", "a"),
        ("127.0.0.1:5000/a/*", "127.0.0.1:5000", "a/*"),
        ("docker.io/nginx", HUB, "library/nginx"),
        ("index.docker.io/x/y", HUB, "x/y"),
        ("registry-1.docker.io/x/*", HUB, "x/*"),
    ],
)
def test_host_prefixed_patterns(pattern: str, host: str, path: str) -> None:
    assert compile_pattern(pattern, host).path == path


@pytest.mark.parametrize(
    ("pattern", "host"),
    [
        ("quay.io/**", "registry.example.com"),
        ("ghcr.io/**", "localhost:5000"),
        ("localhost:5001/a", "localhost:5000"),
        ("localhost/a", "localhost:5000"),
        ("*.example.com/**", "x.example.com"),
        ("ghcr.*/**", GHCR),
        ("local*:5000/a", "localhost:5000"),
        ("docker.io/**", GHCR),
        ("a//b", GHCR),
        ("a/", GHCR),
        ("a/b/", GHCR),
        ("ghcr.io/", GHCR),
        ("", GHCR),
        ("   ", GHCR),
        ("a b", GHCR),
        ("a\tb", GHCR),
        ("a\x00b", GHCR),
        ("bad_host.io:x/a", "bad_host.io"),
    ],
)
def test_malformed_patterns_are_refused(pattern: str, host: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern, host)


def test_leading_slash_is_an_empty_segment() -> None:
    with pytest.raises(PatternError):
        compile_pattern("/a", GHCR)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("nginx", "library/nginx", True),
        ("nginx", "nginx", False),
        ("library/nginx", "library/nginx", True),
        ("ngin*", "library/nginx", True),
        ("**", "library/nginx", True),
        ("mycompany/*", "mycompany/app", True),
    ],
)
def test_hub_official_images(pattern: str, path: str, expected: bool) -> None:
    assert compile_pattern(pattern, HUB).matches(path) is expected


def test_one_segment_is_not_library_off_hub() -> None:
    assert compile_pattern("nginx", GHCR).path == "nginx"


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ("nginx:1.25", "library/nginx"),
        ("acme/api:latest", "acme/api"),
        ("acme/api@sha256:" + "a" * 64, "acme/api"),
        ("acme/api:1.0@sha256:" + "b" * 64, "acme/api"),
        ("ghcr.io/acme/*:v1", "acme/*"),
    ],
)
def test_tags_and_digests_stripped(pattern: str, path: str) -> None:
    host = HUB if pattern.startswith("nginx") else GHCR
    assert compile_pattern(pattern, host).path == path


def test_whitespace_around_pattern_is_trimmed() -> None:
    assert compile_pattern("  acme/*  ", GHCR).path == "acme/*"


def _key(pattern: str) -> tuple:
    return compile_pattern(pattern, GHCR).key


@pytest.mark.parametrize(
    ("more", "less"),
    [
        ("acme/api", "acme/*"),  # no wildcard at all
        ("acme/api", "**"),
        ("a/b", "a/b*"),
        ("a/b/*", "a/*/c"),  # more leading literal segments
        ("a/*", "*/bcdefgh"),
        ("a/*", "a/**"),  # no `**`
        ("a/b*", "a/**"),
        ("team/app-*", "team/*"),  # more literal characters
        ("a/bc*", "a/b*"),
        ("acme/**", "**"),
        ("a/b*cd", "a/b*c*"),  # literal characters decide between different wildcard counts
    ],
)
def test_the_more_specific_pattern_ranks_higher(more: str, less: str) -> None:
    assert _key(more) > _key(less)


def test_specificity_sort_is_total_order() -> None:
    texts = ["**", "a/**", "a/*", "a/b*", "a/bc*", "a/b/*", "a/bc"]
    ranked = sorted(texts, key=_key, reverse=True)
    assert ranked == ["a/bc", "a/b/*", "a/bc*", "a/b*", "a/*", "a/**", "**"]


def test_host_wide_flag() -> None:
    assert compile_pattern("**", GHCR).host_wide
    assert compile_pattern("ghcr.io/**", GHCR).host_wide
    assert not compile_pattern("acme/**", GHCR).host_wide
    assert not compile_pattern("*", GHCR).host_wide


def test_pattern_keeps_its_text() -> None:
    pattern = compile_pattern("GHCR.io/Acme/*", GHCR)
    assert isinstance(pattern, Pattern)
    assert pattern.text == "GHCR.io/Acme/*"
    assert "GHCR.io/Acme/*" in repr(pattern)


# ---- properties --------------------------------------------------------------------------

_SEGMENT = st.text(alphabet="abcxyz019._-", min_size=1, max_size=8)
# The first segment has no `.` (nor `:`), so it is never read as a host.
_FIRST = st.text(alphabet="abcxyz019_-", min_size=1, max_size=8)
_PATH = st.builds(
    lambda first, rest: "/".join([first, *rest]), _FIRST, st.lists(_SEGMENT, max_size=4)
)


@BOUNDED
@given(st.text(max_size=60), st.sampled_from([GHCR, HUB, "localhost:5000", "[::1]:5000"]))
def test_compile_raises_only_pattern_error(text: str, host: str) -> None:
    try:
        compile_pattern(text, host)
    except PatternError:
        pass


@BOUNDED
@given(st.sampled_from(["**", "a/*", "*/*", "a/**/b", "x*y", "acme/api", "*"]), st.text())
def test_matches_never_raises(pattern: str, text: str) -> None:
    assert compile_pattern(pattern, GHCR).matches(text) in (True, False)


@BOUNDED
@given(_PATH)
def test_wildcard_free_pattern_matches_exactly_itself(path: str) -> None:
    pattern = compile_pattern(path, "registry.example.com")
    assert pattern.matches(pattern.path)
    assert pattern.path == path
    assert not pattern.matches(path + "x")
    assert not pattern.matches(path + "/x")
    assert not pattern.matches("x" + path)


@BOUNDED
@given(st.text(max_size=80))
def test_globstar_matches_everything(text: str) -> None:
    assert compile_pattern("**", GHCR).matches(text)
    assert compile_pattern("ghcr.io/**", GHCR).matches(text)


@BOUNDED
@given(_PATH, _PATH)
def test_prefix_globstar_matches_every_sub_path(prefix: str, rest: str) -> None:
    pattern = compile_pattern(prefix + "/**", GHCR)
    assert pattern.matches(f"{prefix}/{rest}")
    assert not pattern.matches(prefix)


@BOUNDED
@given(st.lists(_SEGMENT, min_size=2, max_size=5))
def test_star_never_crosses_slash(segments: list[str]) -> None:
    assert not compile_pattern("*", GHCR).matches("/".join(segments))


def _reference_regex(path: str) -> re.Pattern[str]:
    """ReadyStackGo's reading, as a regular expression: `**` any text, `*` any but `/`."""
    out = []
    for i, piece in enumerate(path.split("**")):
        if i:
            out.append(".*")
        out.append("[^/]*".join(re.escape(part) for part in piece.split("*")))
    return re.compile("".join(out), re.DOTALL)


@BOUNDED
@given(st.text(alphabet="ab/*.", max_size=12), st.text(alphabet="ab/.", max_size=12))
def test_matcher_agrees_with_regex_reference(path: str, text: str) -> None:
    expected = _reference_regex(path).fullmatch(text) is not None
    assert Pattern(path, path).matches(text) is expected


def test_star_never_crosses_a_slash_before_a_literal() -> None:
    assert matches("acme*api", "acme-api")
    assert not matches("acme*api", "acme/api")


def test_a_bare_star_on_docker_hub_means_the_official_images() -> None:
    pattern = compile_pattern("*", HUB)
    assert pattern.matches("library/nginx")
    assert not pattern.matches("acme/app")
    assert not pattern.host_wide


def test_a_bare_globstar_on_docker_hub_stays_host_wide() -> None:
    pattern = compile_pattern("**", HUB)
    assert pattern.host_wide
    assert pattern.matches("acme/app") and pattern.matches("library/nginx")


@pytest.mark.parametrize("pattern", ["acme/:1.0", "acme/@sha256:" + "a" * 64, "ghcr.io/:v1"])
def test_a_last_segment_that_is_only_a_tag_or_digest_is_refused(pattern: str) -> None:
    with pytest.raises(PatternError):
        compile_pattern(pattern, GHCR)


def test_only_the_last_segment_loses_its_tag() -> None:
    pattern = compile_pattern("a/b:c/d:1.0", GHCR)
    assert pattern.matches("a/b:c/d")
    assert not pattern.matches("a/b/d")
    assert not pattern.matches("a/b:c/d:1.0")


def test_only_the_last_segment_loses_its_digest() -> None:
    pattern = compile_pattern("a/b@x/d@sha256:" + "a" * 64, GHCR)
    assert pattern.matches("a/b@x/d")
    assert not pattern.matches("a/b/d")


def test_a_bracketed_first_segment_without_a_colon_is_no_host() -> None:
    with pytest.raises(PatternError):
        compile_pattern("[ab]/x", GHCR)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("   ", "empty pattern"),
        ("a\tb", "pattern 'a\\tb' contains white space"),
        ("a\x00b", "pattern 'a\\x00b' contains white space"),
        ("a//b", "pattern 'a//b' has an empty path segment"),
        ("acme/:1.0", "pattern 'acme/:1.0' has an empty path segment"),
        ("quay.io/acme/*", "pattern 'quay.io/acme/*' names host quay.io, not the registry's host"),
        ("ghcr*.io/acme", "pattern 'ghcr*.io/acme' has a wildcard in its host part"),
        ("bad_host.io:x/a", "pattern 'bad_host.io:x/a': invalid"),
    ],
)
def test_a_refused_pattern_says_why(pattern: str, reason: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern, GHCR)
    assert str(caught.value).startswith(reason)


def test_repr_names_the_pattern_as_written() -> None:
    assert repr(compile_pattern("Acme/*", GHCR)) == "Pattern('Acme/*')"


@pytest.mark.parametrize(
    ("pattern", "path"), [("acme/app:v1:x", "acme/app"), ("acme/app@a@b", "acme/app")]
)
def test_the_tag_starts_at_the_first_colon_and_the_digest_at_the_first_at(
    pattern: str, path: str
) -> None:
    assert matches(pattern, path)


def test_a_star_between_literals_never_reuses_matched_characters() -> None:
    assert not matches("ab*b", "ab")
    assert matches("ab*b", "abb")


def test_a_star_never_crosses_a_leading_slash() -> None:
    assert not matches("*x", "/x")
    assert matches("*x", "x")


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # A literal found at several places: each place stays a start for what follows.
        ("*a*", "banana", True),
        ("*a**", "banana", True),
        ("**o*o", "foo/bar/xoxo", True),
        ("**-*-api", "a-b/c-d-api", True),
        # A `*` goes on from every segment reached, not only the last one.
        ("**web*/web", "webapp/web", True),
        # A `*` never moves back before the text already matched.
        ("acme*acme", "acme", False),
    ],
)
def test_wildcards_keep_every_reachable_position(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


def test_pattern_of_the_maximum_length_is_accepted() -> None:
    pattern = "a/" + "b" * (MAX_PATTERN_LENGTH - 2)
    assert matches(pattern, pattern)


def test_longer_pattern_is_refused_naming_its_first_40_characters() -> None:
    pattern = "a" * 40 + "b" * MAX_PATTERN_LENGTH
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern, GHCR)
    assert str(caught.value) == (
        f"pattern {'a' * 40!r}… is longer than {MAX_PATTERN_LENGTH} characters"
    )


def test_pattern_with_the_maximum_number_of_wildcards_is_accepted() -> None:
    # 16 wildcards between 17 literal pieces: only the wildcards count.
    pattern = "x*" * MAX_WILDCARDS + "x"
    assert matches(pattern, "x" * (MAX_WILDCARDS + 1))


def test_pattern_with_one_wildcard_too_many_is_refused() -> None:
    pattern = "x*" * (MAX_WILDCARDS + 1)
    with pytest.raises(PatternError) as caught:
        compile_pattern(pattern, GHCR)
    assert str(caught.value) == f"pattern {pattern!r} has more than {MAX_WILDCARDS} wildcards"
