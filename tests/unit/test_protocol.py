"""Docker's credential-helper wire format: messages, input reading, JSON in and out."""

from __future__ import annotations

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readystack.helper.lookup import protocol
from readystack.store import conventions
from readystack.store.errors import HelperError, NotFound


def test_messages_are_docker_helpers_texts_byte_for_byte() -> None:
    assert protocol.NOT_FOUND == "credentials not found in native keychain"
    assert protocol.MISSING_SERVER_URL == "no credentials server URL"
    assert protocol.MISSING_USERNAME == "no credentials username"
    assert protocol.USAGE == "Usage: docker-credential-readystack <store|get|erase|list|version>"
    assert str(NotFound()) == protocol.NOT_FOUND
    assert issubclass(NotFound, HelperError)
    assert conventions.TOKEN_USERNAME == "<token>"


# ---- server_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"ghcr.io", "ghcr.io"),
        (b"ghcr.io\n", "ghcr.io"),
        (b"ghcr.io\r\n", "ghcr.io"),
        (b"  ghcr.io \t\n", "ghcr.io"),
        (b"ghcr\n.io\n", "ghcr.io"),
        (b"https://index.docker.io/v1/\r\n", "https://index.docker.io/v1/"),
        (b"\nghcr.io", "ghcr.io"),
        ("h\u00e9.io\n".encode(), "h\u00e9.io"),
    ],
)
def test_server_text_joins_lines_and_trims_white_space(data: bytes, expected: str) -> None:
    assert protocol.server_text(data) == expected


@pytest.mark.parametrize("data", [b"", b"\n", b"\r\n", b"   \t ", b"\n\n\n"])
def test_server_text_empty(data: bytes) -> None:
    with pytest.raises(HelperError) as info:
        protocol.server_text(data)
    assert not isinstance(info.value, NotFound)
    assert str(info.value) == protocol.MISSING_SERVER_URL


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe", b"ghcr.io\xc3", b"x" * (protocol.MAX_INPUT + 1)],
    ids=["bom", "cut", "big"],
)
def test_server_text_not_found(data: bytes) -> None:
    with pytest.raises(NotFound):
        protocol.server_text(data)


def test_server_text_at_the_limit() -> None:
    assert len(protocol.server_text(b"x" * protocol.MAX_INPUT)) == protocol.MAX_INPUT


def test_read_input_caps() -> None:
    assert protocol.read_input(io.BytesIO(b"y" * (protocol.MAX_INPUT + 10))) == b"y" * (
        protocol.MAX_INPUT + 1
    )
    assert protocol.read_input(io.BytesIO(b"")) == b""


# ---- parse_store --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b'{"ServerURL":"ghcr.io","Username":"u","Secret":"s"}',
        b'{"ServerURL":"ghcr.io","Username":"u","Secret":"s"}\n',
        b'  {\n  "ServerURL" : "ghcr.io",\n  "Username" : "u",\n  "Secret" : "s"\n}\n',
        b'{"serverurl":"ghcr.io","USERNAME":"u","secret":"s"}',
        b'{"Secret":"s","Username":"u","ServerURL":"ghcr.io","Extra":1}',
        b'{"ServerURL":"ghcr.io","Username":"u","Secret":"s"} trailing junk',
        b'{"ServerURL":"ghcr.io","Username":"u","Secret":"s"}{"again":1}',
        b'{"ServerURL":" ghcr.io ","Username":"u","Secret":"s"}',
        b'{"ServerURL":"ghcr.io","Username":"\\u0075","Secret":"\\u0073"}',
    ],
)
def test_parse_store_variants(data: bytes) -> None:
    assert protocol.parse_store(data) == ("ghcr.io", "u", "s")


def test_parse_store_exact_key_wins() -> None:
    data = b'{"ServerURL":"a.io","serverurl":"b.io","Username":"u","Secret":"s"}'
    assert protocol.parse_store(data)[0] == "a.io"


@pytest.mark.parametrize(
    "data",
    [
        b'{"ServerURL":"ghcr.io","Username":"u","Secret":""}',
        b'{"ServerURL":"ghcr.io","Username":"u"}',
        b'{"ServerURL":"ghcr.io","Username":"u","Secret":null}',
    ],
)
def test_parse_store_empty_secret_ok(data: bytes) -> None:
    assert protocol.parse_store(data) == ("ghcr.io", "u", "")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"ServerURL":"ghcr.io","Secret":"s"}', protocol.MISSING_USERNAME),
        (b'{"ServerURL":"ghcr.io","Username":"","Secret":"s"}', protocol.MISSING_USERNAME),
        (b'{"ServerURL":"ghcr.io","Username":null,"Secret":"s"}', protocol.MISSING_USERNAME),
        (b'{"Username":"u","Secret":"s"}', protocol.MISSING_SERVER_URL),
        (b'{"ServerURL":"  ","Username":"u","Secret":"s"}', protocol.MISSING_SERVER_URL),
        (b"{}", protocol.MISSING_SERVER_URL),
    ],
)
def test_parse_store_missing_fields(data: bytes, message: str) -> None:
    with pytest.raises(HelperError) as info:
        protocol.parse_store(data)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"not json",
        b'{"ServerURL":"ghcr.io",',
        b"[]",
        b'"string"',
        b"42",
        b"null",
        b'{"ServerURL":1,"Username":"u","Secret":"s"}',
        b'{"ServerURL":"ghcr.io","Username":["u"],"Secret":"s"}',
        b'{"ServerURL":"ghcr.io","Username":"u","Secret":{"a":1}}',
        b'{"ServerURL":"ghcr.io","Username":true,"Secret":"s"}',
        b"\xff\xfe{}",
        b"{" + b" " * protocol.MAX_INPUT + b"}",
    ],
)
def test_parse_store_invalid(data: bytes) -> None:
    with pytest.raises(HelperError) as info:
        protocol.parse_store(data)
    assert not isinstance(info.value, NotFound)


def test_parse_store_error_never_echoes_secret() -> None:
    with pytest.raises(HelperError) as info:
        protocol.parse_store(b'{"ServerURL":"ghcr.io","Username":"u","Secret":"hunter2"')
    assert "hunter2" not in str(info.value)


# ---- encoding --------------------------------------------------------------------------------

TRICKY = [
    "",
    'quo"te',
    "back\\slash",
    "\\u0041",
    "tab\tnew\nline\rcr",
    "\x00\x01\x1f\x7f",
    "\u2028\u2029",
    "h\u00e9llo \u4e16\u754c \U0001f600",
    "\ud800",
    "a\udfffb",
    "</script>",
    "<token>",
]


def _as_go_sends(value: str) -> str:
    """What Go's encoder sends for ``value``: U+FFFD in place of each lone surrogate."""
    return "".join("\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in value)


@pytest.mark.parametrize("value", TRICKY)
def test_encode_credentials_round_trips(value: str) -> None:
    text = protocol.encode_credentials(value, value + "u", value + "s")
    assert text.endswith("\n") and text.count("\n") == 1
    sent = _as_go_sends(value)
    assert json.loads(text) == {"ServerURL": sent, "Username": sent + "u", "Secret": sent + "s"}
    assert list(json.loads(text)) == ["ServerURL", "Username", "Secret"]


def test_two_lone_surrogates_are_sent_as_two_replacement_characters() -> None:
    # Escaped one by one they would read back as U+10000: a different secret (seed-found case).
    text = protocol.encode_credentials("ghcr.io", "u", "\ud800\udc00")
    assert text == '{"ServerURL":"ghcr.io","Username":"u","Secret":"\\ufffd\\ufffd"}\n'
    assert json.loads(text)["Secret"] == "\ufffd\ufffd"


def test_each_lone_surrogate_becomes_one_replacement_character() -> None:
    assert protocol.quote("a\udfffb\ud800") == '"a\\ufffdb\\ufffd"'


def test_a_character_beyond_the_basic_plane_is_sent_unchanged() -> None:
    assert json.loads(protocol.quote("\U00010000")) == "\U00010000"


def test_encode_credentials_is_utf8_encodable() -> None:
    protocol.encode_credentials("s", "u", "\ud800x").encode("utf-8")


@pytest.mark.parametrize(
    "entries", [{}, {"https://index.docker.io/v1/": "u", "ghcr.io": "<token>"}, {"\ud800": '"'}]
)
def test_encode_list_round_trips(entries: dict[str, str]) -> None:
    text = protocol.encode_list(entries)
    assert text.endswith("\n")
    assert json.loads(text) == {_as_go_sends(k): _as_go_sends(v) for k, v in entries.items()}


_ANY_CHAR = st.one_of(
    st.characters(),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
    st.characters(max_codepoint=0x20),
)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=_ANY_CHAR, max_size=40), st.text(alphabet=_ANY_CHAR, max_size=40))
def test_encode_round_trip_property(username: str, secret: str) -> None:
    text = protocol.encode_credentials("ghcr.io", username, secret)
    text.encode("utf-8")
    assert json.loads(text) == {
        "ServerURL": "ghcr.io",
        "Username": _as_go_sends(username),
        "Secret": _as_go_sends(secret),
    }


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_store_payload_round_trip_property(username: str, secret: str) -> None:
    payload = json.dumps({"ServerURL": "ghcr.io", "Username": username, "Secret": secret})
    if not username:
        with pytest.raises(HelperError):
            protocol.parse_store(payload.encode())
        return
    assert protocol.parse_store(payload.encode()) == ("ghcr.io", username, secret)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=100))
def test_parse_store_raises_only_helper_error(data: bytes) -> None:
    try:
        protocol.parse_store(data)
    except HelperError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=100))
def test_server_text_raises_only_helper_error(data: bytes) -> None:
    try:
        text = protocol.server_text(data)
    except HelperError:
        return
    assert text and text == text.strip()


_VALID = b'{"ServerURL":"ghcr.io","Username":"u","Secret":"s"}'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_VALID + b" " * (protocol.MAX_INPUT + 1 - len(_VALID)), "credentials payload is larger"),
        (b'{"ServerURL":"\xff"}', "invalid credentials payload: not UTF-8"),
        (b"[" * 100_000, "invalid credentials payload: nested too deeply"),
        (b'["ghcr.io"]', "invalid credentials payload: expected a JSON object"),
        (b"{not json", "invalid credentials payload: Expecting property name"),
        (b"", "no credentials server URL"),
        (b'{"ServerURL":"g","Username":7}', "invalid credentials payload: Username must be a"),
    ],
)
def test_a_refused_store_payload_says_why(data: bytes, message: str) -> None:
    with pytest.raises(HelperError) as caught:
        protocol.parse_store(data)
    assert str(caught.value).startswith(message)


def test_a_store_payload_of_exactly_the_cap_is_read() -> None:
    data = _VALID + b" " * (protocol.MAX_INPUT - len(_VALID))
    assert protocol.parse_store(data) == ("ghcr.io", "u", "s")


def test_characters_next_to_the_surrogate_range_are_sent_unchanged() -> None:
    assert json.loads(protocol.quote("\ud7ff\ue000")) == "\ud7ff\ue000"
    assert json.loads(protocol.quote("\ud7ff\ud800\ue000")) == "\ud7ff\ufffd\ue000"


def test_the_usage_line_names_exactly_the_protocol_verbs_and_version() -> None:
    # USAGE is upstream's text byte for byte; the verb list itself is written once, in VERBS.
    listed = protocol.USAGE.split("<", 1)[1].rstrip(">").split("|")
    assert sorted(listed) == sorted((*protocol.VERBS, protocol.VERSION[0]))
    assert set(protocol.READ_ONLY) < set(protocol.VERBS)


def test_every_protocol_verb_has_its_stdin_hint() -> None:
    from readystack.helper import cli

    assert set(cli._STDIN_HINTS) == set(protocol.VERBS)
