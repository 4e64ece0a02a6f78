"""WWW-Authenticate parsing (RFC 7235 section 4.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from readystack.helper.online.challenge import Challenge, parse, parse_headers
from readystack.store.verberrors import ChallengeError


def test_docker_hub_bearer_challenge() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull"'
    )
    assert parse(header) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/nginx:pull",
            },
        )
    ]


def test_insufficient_scope_error_param() -> None:
    header = (
        'Bearer realm="http://127.0.0.1:1/token",service="s",'
        'scope="repository:team/app:pull",error="insufficient_scope"'
    )
    assert parse(header)[0].params["error"] == "insufficient_scope"


def test_basic_realm() -> None:
    assert parse('Basic realm="registry"') == [Challenge("basic", {"realm": "registry"})]


def test_rfc7235_example_two_challenges_in_one_field() -> None:
    header = 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'
    assert parse(header) == [
        Challenge("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}),
        Challenge("basic", {"realm": "simple"}),
    ]


def test_commas_and_equals_inside_quoted_strings_stay_in_the_value() -> None:
    header = 'Bearer realm="https://r.example/token?a=1,b=2", scope="repository:x:pull,push"'
    challenge = parse(header)[0]
    assert challenge.params == {
        "realm": "https://r.example/token?a=1,b=2",
        "scope": "repository:x:pull,push",
    }


def test_escaped_backslash_and_quote() -> None:
    assert parse(r'Basic realm="a\\b\"c"')[0].params["realm"] == 'a\\b"c'


def test_scheme_and_param_names_are_case_insensitive() -> None:
    challenge = parse('BEARER Realm="x", SERVICE=reg')[0]
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "x", "service": "reg"}


def test_whitespace_around_equals_and_commas() -> None:
    challenge = parse('Bearer realm = "x" ,  service =reg ,scope="s"')[0]
    assert challenge.params == {"realm": "x", "service": "reg", "scope": "s"}


def test_empty_list_elements_are_skipped() -> None:
    assert parse(' , Basic realm="a" ,, , Bearer realm="b",') == [
        Challenge("basic", {"realm": "a"}),
        Challenge("bearer", {"realm": "b"}),
    ]


def test_token68_challenge_then_another() -> None:
    assert parse("Negotiate abc/DEF+12==, Basic realm=x") == [
        Challenge("negotiate", token68="abc/DEF+12=="),
        Challenge("basic", {"realm": "x"}),
    ]


def test_scheme_without_parameters() -> None:
    assert parse("Basic") == [Challenge("basic")]
    assert parse("Negotiate, Basic realm=x") == [
        Challenge("negotiate"),
        Challenge("basic", {"realm": "x"}),
    ]


def test_empty_quoted_value_is_allowed() -> None:
    assert parse('Bearer realm="", service=x')[0].params == {"realm": "", "service": "x"}


def test_repeated_parameter_keeps_the_first() -> None:
    assert parse('Bearer realm="a", realm="b"')[0].params == {"realm": "a"}


def test_several_header_fields_are_one_list() -> None:
    assert parse_headers(['Basic realm="a"', 'Bearer realm="b", service="s"']) == [
        Challenge("basic", {"realm": "a"}),
        Challenge("bearer", {"realm": "b", "service": "s"}),
    ]


@pytest.mark.parametrize(
    "header",
    [
        'Bearer realm="unterminated',
        "Bearer realm=, service=x",
        'Bearer realm="a" service="b"',
        '="x"',
        'Bearer realm="a\nb"',
        "Bearer realm=a b=c",
    ],
)
def test_malformed_headers_are_refused(header: str) -> None:
    with pytest.raises(ChallengeError):
        parse(header)


_tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._", min_size=1, max_size=8)
_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=0, max_size=20
)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Basic", "Bearer", "Digest"]),
            st.dictionaries(_tokens, _values, min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_any_quoted_values_round_trip(challenges: list[tuple[str, dict[str, str]]]) -> None:
    header = ", ".join(
        f"{scheme} " + ", ".join(f"{k}={_quote(v)}" for k, v in params.items())
        for scheme, params in challenges
    )
    assert parse(header) == [Challenge(scheme, params) for scheme, params in challenges]


@pytest.mark.parametrize(
    "char", ["\x1b", "\x07", "\t", "\x00", "\x7f", "\x80", "\x9b", "\x9f"], ids=repr
)
def test_c0_and_c1_control_characters_in_a_parameter_are_refused_and_not_quoted(
    char: str,
) -> None:
    # Headers arrive as Latin-1: a C1 byte such as the one-byte CSI 0x9b is that character.
    with pytest.raises(ChallengeError) as refused:
        parse(f'Bearer realm="http://h/{char}]0;PWNED",service="x"')
    assert char not in str(refused.value) and "PWNED" not in str(refused.value)


@given(st.text(alphabet=st.characters(min_codepoint=0xA0, max_codepoint=0x2FF), max_size=10))
def test_latin1_text_beyond_c1_stays_allowed(value: str) -> None:
    assert parse(f"Bearer realm={_quote(value)}") == [Challenge("bearer", {"realm": value})]
