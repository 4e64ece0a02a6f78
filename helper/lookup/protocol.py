"""Docker's credential-helper wire format: input reading, JSON output and the fixed messages."""

from __future__ import annotations

from readystack.store.conventions import (
    MISSING_SERVER_URL,
    MISSING_USERNAME,
    NAME,
    NOT_FOUND,  # noqa: F401 - cli and the tests read the protocol's texts here
    get_ci,
)
from readystack.store.errors import HelperError, NotFound

# The protocol's verbs, in the order the help lists them; `get` and `list` only read.
VERBS = ("get", "store", "erase", "list")
READ_ONLY = ("get", "list")
# The verb that prints the version, then its two flags.
VERSION = ("version", "-v", "--version")
# docker-credential-helpers' text (credentials.go) byte for byte, in its own order of the verbs.
USAGE = f"Usage: {NAME} <store|get|erase|list|version>"
# The protocol defines no limit; a credential is never this large, and reading less keeps a
# runaway client from making the helper allocate without bound.
MAX_INPUT = 1 << 20


def read_input(stream: object) -> bytes:
    """Read stdin up to the cap (one byte more, so that oversize input can be told apart)."""
    read = getattr(stream, "read")  # noqa: B009 - a binary stream, or a test double
    return read(MAX_INPUT + 1) or b""


def server_text(data: bytes) -> str:
    """The server a ``get``/``erase`` names: lines joined, white space trimmed (as Go's Scanner)."""
    if len(data) > MAX_INPUT:
        raise NotFound()  # nothing this large was ever stored
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotFound() from None
    text = "".join(text.splitlines()).strip()
    if not text:
        raise HelperError(MISSING_SERVER_URL)
    return text


def parse_store(data: bytes) -> tuple[str, str, str]:
    """Decode a ``store`` payload into (server, username, secret), validated as Docker does."""
    if len(data) > MAX_INPUT:
        raise HelperError(f"credentials payload is larger than {MAX_INPUT} bytes")
    if not data.strip():
        raise HelperError(MISSING_SERVER_URL)  # empty input, as for get and erase
    from readystack.store.jsonread import BadJSON, read_json  # only `store` reads JSON

    try:
        text = data.decode("utf-8").lstrip()
    except UnicodeDecodeError:
        raise HelperError("invalid credentials payload: not UTF-8") from None
    try:
        # Like Go's json.Decoder, read the first JSON value and ignore what follows it.
        payload = read_json(text, first=True)
    except BadJSON as exc:
        # The decoder's message names a position, never the document's text.
        raise HelperError(f"invalid credentials payload: {exc}") from None
    if not isinstance(payload, dict):
        raise HelperError("invalid credentials payload: expected a JSON object")
    fields = {}
    for name in ("ServerURL", "Username", "Secret"):
        value = get_ci(payload, name)  # Go's decoder ignores case
        if value is not None and not isinstance(value, str):
            raise HelperError(f"invalid credentials payload: {name} must be a string")
        fields[name] = value or ""
    server = fields["ServerURL"].strip()
    if not server:
        raise HelperError(MISSING_SERVER_URL)
    if not fields["Username"]:
        raise HelperError(MISSING_USERNAME)
    return server, fields["Username"], fields["Secret"]


def encode_credentials(server_url: str, username: str, secret: str) -> str:
    """The ``get`` answer: exactly Docker's keys, one line, newline-terminated."""
    return (
        f'{{"ServerURL":{quote(server_url)},"Username":{quote(username)},'
        f'"Secret":{quote(secret)}}}\n'
    )


def encode_list(entries: dict[str, str]) -> str:
    """The ``list`` answer: a JSON object of server to username."""
    body = ",".join(f"{quote(k)}:{quote(v)}" for k, v in entries.items())
    return "{" + body + "}\n"


# JSON string escaping by hand: importing json costs ~7 ms on every lookup (it pulls in re).
_ESCAPES = {i: f"\\u{i:04x}" for i in range(32)}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", 8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f"})
_ESCAPES[13] = "\\r"


def quote(value: str) -> str:
    """A JSON string literal for ``value``; each lone surrogate becomes U+FFFD, as in Go."""
    text = value.translate(_ESCAPES)
    try:
        text.encode("utf-8")  # valid text, the normal case, costs only this check
    except UnicodeEncodeError:
        # A lone surrogate is no character. Written as an escape, two in a row ("\ud800\udc00")
        # would read back as U+10000, a different secret. Go's encoder (encoding/json encode.go,
        # encodeState.string), which Docker's helpers use, writes \ufffd for each invalid code
        # point instead; so do we.
        text = "".join("\\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch for ch in text)
    return f'"{text}"'
