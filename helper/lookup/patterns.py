"""Image patterns: ReadyStackGo's globs (`*`, `**`), the host they apply to, and specificity."""

from __future__ import annotations

from readystack.store import hosts
from readystack.store.errors import HostError, PatternError

STAR = "*"  # any characters except "/"
GLOBSTAR = "**"  # any characters, "/" included
# Bounds on what a database may ask a lookup to do. Matching costs one pass per wildcard, so
# these keep the worst row (MAX_PATTERNS patterns of MAX_WILDCARDS wildcards each against a
# 255-character name) to about 40 ms of CPU. No real pattern comes near them; a longer one can
# never match, since a whole image name has at most 255 characters (distribution/reference).
MAX_WILDCARDS = 16
MAX_PATTERNS = 100
MAX_PATTERN_LENGTH = 512


class Pattern:
    """A compiled pattern: literal pieces and wildcards, matched against a repository path."""

    __slots__ = ("text", "path", "tokens", "key", "host_wide")

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.tokens = _tokens(path)
        self.host_wide = self.tokens == (GLOBSTAR,)
        segments = path.split("/")
        lead = 0
        for segment in segments:
            if "*" in segment:
                break
            lead += 1
        # Larger is more specific, compared in DESIGN.md's order: no wildcard at all; more
        # leading segments without a wildcard; no `**`; more literal characters.
        self.key = (
            "*" not in path,
            lead,
            "**" not in path,
            len(path.replace("*", "")),
        )

    def __repr__(self) -> str:
        return f"Pattern({self.text!r})"

    def matches(self, path: str) -> bool:
        """Whether the whole repository ``path`` (lower-case, no tag) matches."""
        return _match(self.tokens, path)


def compile_pattern(text: str, registry_host: str) -> Pattern:
    """Compile one stored pattern for a registry on ``registry_host`` (canonical host).

    A pattern whose first segment is a host (it has `.` or `:` or is `localhost`) applies to that
    host, which must be the registry's own; any other pattern is relative to the registry's host.
    """
    raw = text.strip().lower()
    if not raw:
        raise PatternError("empty pattern")
    if len(raw) > MAX_PATTERN_LENGTH:
        raise PatternError(f"pattern {text[:40]!r}… is longer than {MAX_PATTERN_LENGTH} characters")
    if sum(1 for token in _tokens(raw) if token in (STAR, GLOBSTAR)) > MAX_WILDCARDS:
        raise PatternError(f"pattern {text!r} has more than {MAX_WILDCARDS} wildcards")
    if any(ch.isspace() or ord(ch) < 32 for ch in raw):
        raise PatternError(f"pattern {text!r} contains white space")
    if any(not segment for segment in raw.split("/")):
        raise PatternError(f"pattern {text!r} has an empty path segment")
    path = raw
    first, slash, rest = raw.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        if "*" in first:
            raise PatternError(f"pattern {text!r} has a wildcard in its host part")
        try:
            host = hosts.check_host(first)
        except HostError as exc:
            raise PatternError(f"pattern {text!r}: {exc}") from None
        if host != registry_host:
            raise PatternError(
                f"pattern {text!r} names host {host}, not the registry's host {registry_host}"
            )
        path = rest
    # Tags and digests are ignored: `nginx:1.25` means the repository `nginx`.
    head, _, last = path.rpartition("/")
    last = last.split("@", 1)[0].split(":", 1)[0]
    path = f"{head}/{last}" if head else last
    if not path or any(not segment for segment in path.split("/")):
        raise PatternError(f"pattern {text!r} has an empty path segment")
    if hosts.is_hub(registry_host) and "/" not in path and (path == "*" or path.strip("*")):
        # On Docker Hub a one-segment name is an official image: `nginx` is `library/nginx`,
        # `ngin**` is `library/ngin**`; only `**` alone stays host-wide.
        path = "library/" + path
    return Pattern(text, path)


def _tokens(path: str) -> tuple[str, ...]:
    # Every "*" is a wildcard, so "*" and "**" can stand for themselves among the literal pieces.
    out: list[str] = []
    i = 0
    while i < len(path):
        if path[i] == "*":
            j = i
            while j < len(path) and path[j] == "*":
                j += 1
            out.append(STAR if j - i == 1 else GLOBSTAR)
            i = j
        else:
            j = path.find("*", i)
            j = len(path) if j < 0 else j
            out.append(path[i:j])
            i = j
    return tuple(out)


def _match(tokens: tuple[str, ...], text: str) -> bool:
    # Written by hand rather than with `re`: compiling one regex per stored pattern costs
    # ~45 µs each per process, and a backtracking engine is exponential on `*a*a*a…`. The set of
    # positions reachable after each token is one integer (bit q: q characters consumed), so a
    # token costs a few big-integer operations per path segment: linear in the name's length.
    reach = 1
    end = len(text)
    for token in tokens:
        if token == GLOBSTAR:
            lowest = reach & -reach
            reach = ((1 << (end + 1)) - 1) & ~(lowest - 1)
        elif token == STAR:
            spread = 0
            for segment in _segments(text):
                inside = reach & segment
                if inside:
                    spread |= segment & ~((inside & -inside) - 1)
            reach = spread
        else:
            reach = (reach & _occurrences(text, token)) << len(token)
        if not reach:
            return False
    return bool(reach >> end & 1)


def _segments(text: str) -> list[int]:
    # Positions a `*` may move between: from just after one "/" up to the next "/".
    out = []
    start = 0
    while True:
        stop = text.find("/", start)
        last = len(text) if stop < 0 else stop
        out.append(((1 << (last + 1)) - 1) & ~((1 << start) - 1))
        if stop < 0:
            return out
        start = stop + 1


def _occurrences(text: str, piece: str) -> int:
    # Where ``piece`` starts in ``text``, as bits; str.find keeps the scan in C.
    mask = 0
    at = text.find(piece)
    while at >= 0:
        mask |= 1 << at
        at = text.find(piece, at + 1)
    return mask
