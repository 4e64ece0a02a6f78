"""`WWW-Authenticate` challenges as RFC 7235 section 4.1 defines them (never split on commas).

    challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-param = token BWS "=" BWS ( token / quoted-string )

A header may carry several challenges, each with several parameters, and a quoted string may
hold commas, `=` and escaped quotes, so the text is read by a scanner, not by `split(",")`.
"""

from __future__ import annotations

from collections.abc import Iterable

from readystack.store.verberrors import ChallengeError

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68 = frozenset("-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OWS = " \t"


def _is_control(char: str) -> bool:
    """C0 (tab included), DEL and C1: a realm or service holding one is refused, never shown.

    Headers arrive decoded as Latin-1, so a C1 byte (0x80-0x9f, e.g. the one-byte CSI 0x9b)
    is the character of the same code.
    """
    code = ord(char)
    return code < 0x20 or 0x7F <= code <= 0x9F


class Challenge:
    """One challenge: its scheme (lower case), its parameters (names lower case) or token68."""

    __slots__ = ("scheme", "params", "token68")

    def __init__(
        self, scheme: str, params: dict[str, str] | None = None, token68: str | None = None
    ) -> None:
        self.scheme = scheme.lower()
        self.params = params or {}
        self.token68 = token68

    def __repr__(self) -> str:
        return f"Challenge({self.scheme!r}, {self.params!r}, token68={self.token68!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Challenge):
            return NotImplemented
        return (self.scheme, self.params, self.token68) == (
            other.scheme,
            other.params,
            other.token68,
        )


def parse_headers(values: Iterable[str]) -> list[Challenge]:
    """Every challenge of every `WWW-Authenticate` field, in order (fields are one list)."""
    out: list[Challenge] = []
    for value in values:
        out.extend(parse(value))
    return out


def parse(header: str) -> list[Challenge]:
    """The challenges of one `WWW-Authenticate` field value; raises ChallengeError."""
    scanner = _Scanner(header)
    challenges: list[Challenge] = []
    scanner.skip_separators()
    while not scanner.at_end():
        challenges.append(_challenge(scanner))
        scanner.skip_separators()
    return challenges


def _challenge(s: _Scanner) -> Challenge:
    scheme = s.token()
    if not scheme:
        raise ChallengeError(f"expected an auth-scheme at {s.where()}")
    challenge = Challenge(scheme)
    if s.at_end() or s.peek() == ",":
        return challenge
    if s.peek() not in _OWS:
        raise ChallengeError(f"expected a space after {scheme!r} at {s.where()}")
    s.skip(_OWS)
    if s.at_end() or s.peek() == ",":
        return challenge
    token68 = s.token68()
    if token68 is not None:
        challenge.token68 = token68
        return challenge
    _params(s, challenge)
    return challenge


def _params(s: _Scanner, challenge: Challenge) -> None:
    """auth-params up to the end or to the next challenge's scheme (a token without `=`)."""
    while True:
        start = s.pos
        name = s.token()
        s.skip(_OWS)
        if not name or s.peek() != "=":
            if not challenge.params:
                raise ChallengeError(f"expected an auth-param at {s.where()}")
            s.pos = start  # the next challenge's scheme
            return
        s.pos += 1
        s.skip(_OWS)
        if s.peek() == '"':
            value = s.quoted()
        else:
            value = s.token()
            if not value:
                raise ChallengeError(f"expected a token or a quoted string at {s.where()}")
        challenge.params.setdefault(name.lower(), value)  # a repeated name: the first counts
        s.skip(_OWS)
        if s.at_end():
            return
        if s.peek() != ",":
            raise ChallengeError(f"expected ',' at {s.where()}")
        s.skip_separators()
        if s.at_end():
            return


class _Scanner:
    """A cursor over the header text."""

    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def where(self) -> str:
        return f"offset {self.pos}"

    def skip(self, chars: str) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1

    def skip_separators(self) -> None:
        """OWS and empty list elements: `#rule` allows `a, , b`."""
        self.skip(_OWS + ",")

    def token(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _TCHAR:
            self.pos += 1
        return self.text[start : self.pos]

    def token68(self) -> str | None:
        """A token68 when one stands here alone (followed by OWS and `,` or the end)."""
        end = self.pos
        while end < len(self.text) and self.text[end] in _TOKEN68:
            end += 1
        if end == self.pos:
            return None
        while end < len(self.text) and self.text[end] == "=":
            end += 1
        after = end
        while after < len(self.text) and self.text[after] in _OWS:
            after += 1
        if after < len(self.text) and self.text[after] != ",":
            return None
        value = self.text[self.pos : end]
        self.pos = end
        return value

    def quoted(self) -> str:
        """A quoted-string, unescaped (`\\x` stands for `x`)."""
        self.pos += 1  # the opening quote
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == '"':
                self.pos += 1
                return "".join(out)
            if char == "\\":
                self.pos += 1
                if self.pos >= len(self.text):
                    break
                char = self.text[self.pos]
            if _is_control(char):
                raise ChallengeError(f"control character in a quoted string at {self.where()}")
            out.append(char)
            self.pos += 1
        raise ChallengeError("unterminated quoted string")
