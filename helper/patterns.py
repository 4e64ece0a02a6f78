"""Image patterns: ReadyStackGo's globs (`*`, `**`), the host they apply to, and specificity."""

from __future__ import annotations

from readystack.store import hosts

STAR = "*"  # any characters except "/"
GLOBSTAR = "**"  # any characters, "/" included


class PatternError(ValueError):
    """A pattern that can never be used: it names another host, or is malformed."""


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
        except hosts.HostError as exc:
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
    # ~45 µs each per process; this walks the set of reachable positions, token by token.
    positions = {0}
    end = len(text)
    for token in tokens:
        if not positions:
            return False
        if token == GLOBSTAR:
            positions = set(range(min(positions), end + 1))
        elif token == STAR:
            spread: set[int] = set()
            for start in positions:
                stop = text.find("/", start)
                spread.update(range(start, (end if stop < 0 else stop) + 1))
            positions = spread
        else:
            size = len(token)
            positions = {p + size for p in positions if text.startswith(token, p)}
    return end in positions
