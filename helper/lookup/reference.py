"""Docker image references parsed like distribution/reference's ParseNormalizedNamed."""

from __future__ import annotations

from readystack.store.errors import Internal


class InvalidReference(Internal, ValueError):
    """An image reference that Docker's reference grammar rejects."""

    # Beside the grammar, as BadJSON is beside its parser: a lookup by host never loads this
    # module, so it never builds the class (tests/test_structure.py allows Internal ones).


# The grammar of distribution/reference (regexp.go) checked with str methods instead of `re`:
# importing and compiling `re` costs a lookup more than the rest of it, every piece below is
# linear in its input, and every class is ASCII only, as Go's are.
_LOWER_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_ALNUM = _LOWER_ALNUM | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LETTERS = _ALNUM - frozenset("0123456789")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")
_LOWER_HEX = frozenset("0123456789abcdef")
_WORD = _ALNUM | {"_"}
_TAG_CHARS = _WORD | {".", "-"}


def _is_component(text: str) -> bool:
    """``[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*``."""
    if not text or text[0] not in _LOWER_ALNUM or text[-1] not in _LOWER_ALNUM:
        return False
    i, end = 0, len(text)
    while i < end:
        j = i
        while j < end and text[j] in _LOWER_ALNUM:
            j += 1
        if j == end:
            return True
        k = j
        while k < end and text[k] not in _LOWER_ALNUM:
            k += 1
        separator = text[j:k]
        if separator not in (".", "_", "__") and separator.strip("-"):
            return False
        i = k
    return True


def _is_label(text: str) -> bool:
    """``[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?``."""
    return (
        bool(text)
        and text[0] in _ALNUM
        and text[-1] in _ALNUM
        and all(ch in _ALNUM or ch == "-" for ch in text)
    )


def _is_domain(text: str) -> bool:
    """host[:port], host being DNS labels or a bracketed IPv6 address."""
    if text.startswith("["):
        close = text.find("]")
        inner, rest = text[1:close], text[close + 1 :]
        if close < 0 or not inner or not all(ch in _HEX or ch == ":" for ch in inner):
            return False
    else:
        host, colon, port = text.partition(":")
        rest = colon + port
        if not all(_is_label(label) for label in host.split(".")):
            return False
    return not rest or (rest[0] == ":" and len(rest) > 1 and all(c in _DIGITS for c in rest[1:]))


def _is_tag(text: str) -> bool:
    """A tag: a word character, then up to 127 word characters, dots or dashes (ASCII)."""
    return 0 < len(text) <= 128 and text[0] in _WORD and all(ch in _TAG_CHARS for ch in text)


def _is_digest(text: str) -> bool:
    """``[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}``."""
    algorithm, colon, encoded = text.partition(":")
    if not colon or len(encoded) < 32 or not all(ch in _HEX for ch in encoded):
        return False
    for part in algorithm.replace("-", ".").replace("_", ".").replace("+", ".").split("."):
        if not part or part[0] not in _LETTERS or not all(ch in _ALNUM for ch in part):
            return False
    return True


def _is_lower_components(text: str, separators: str) -> bool:
    """``[a-z0-9]+(?:[<separators>][a-z0-9]+)*``, go-digest's algorithm grammar."""
    for sep in separators[1:]:
        text = text.replace(sep, separators[0])
    parts = text.split(separators[0])
    return all(part and all(ch in _LOWER_ALNUM for ch in part) for part in parts)


def _match_name(text: str) -> tuple[str, str | None, str | None] | None:
    """``path [":" tag] ["@" digest]`` as (path, tag, digest), or None."""
    name_tag, at, digest = text.partition("@")
    if at and not _is_digest(digest):
        return None
    path, colon, tag = name_tag.partition(":")
    if colon and not _is_tag(tag):
        return None
    if not all(_is_component(part) for part in path.split("/")):
        return None
    return path, (tag if colon else None), (digest if at else None)


def _match(text: str) -> tuple[str | None, str, str | None, str | None] | None:
    """A full match of ``[domain "/"] path [":" tag] ["@" digest]``: (domain, path, tag, digest)."""
    first, slash, rest = text.partition("/")
    if slash and _is_domain(first):
        found = _match_name(rest)
        if found is not None:
            return (first, *found)
    found = _match_name(text)
    return None if found is None else (None, *found)


_DEFAULT_DOMAIN = "docker.io"
_LEGACY_DEFAULT_DOMAIN = "index.docker.io"
_OFFICIAL_REPO_PREFIX = "library/"
_NAME_TOTAL_LENGTH_MAX = 255
# go-digest's registered algorithms and the length of their hex encoding.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_SHOWN_MAX = 256


def _shown(value: str) -> str:
    """Return ``value`` cut short enough to quote in an error message."""
    return value if len(value) <= _SHOWN_MAX else value[:_SHOWN_MAX] + "..."


def _split_docker_domain(name: str) -> tuple[str, str]:
    """Split ``name`` into (domain, remainder) like distribution's splitDockerDomain."""
    first, slash, rest = name.partition("/")
    if not slash:
        # A single element is always a Docker Hub image, even "localhost" or "example.com".
        return _DEFAULT_DOMAIN, _OFFICIAL_REPO_PREFIX + name
    if first.lower() == _LEGACY_DEFAULT_DOMAIN:
        domain, remainder = _DEFAULT_DOMAIN, rest
    elif first == "localhost" or "." in first or ":" in first or first.lower() != first:
        domain, remainder = first, rest
    else:
        domain, remainder = _DEFAULT_DOMAIN, name
    if domain.lower() == _DEFAULT_DOMAIN and "/" not in remainder:
        remainder = _OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def _validate_digest(value: str) -> None:
    """Check a digest the way go-digest's Digest.Validate does (sha256, sha384, sha512 known)."""
    algorithm, _, encoded = value.partition(":")
    size = _DIGEST_HEX_LENGTHS.get(algorithm)
    if size is None:
        if not _is_lower_components(algorithm, ".+_-"):
            raise InvalidReference("invalid checksum digest format")
        raise InvalidReference("unsupported digest algorithm")
    if len(encoded) != size:
        raise InvalidReference("invalid checksum digest length")
    if not all(ch in _LOWER_HEX for ch in encoded):
        raise InvalidReference("invalid checksum digest format")


def parse_normalized(text: str) -> tuple[str, str]:
    """Parse ``text`` like distribution's ParseNormalizedNamed; return (domain, path), tag and digest dropped."""  # noqa: E501
    domain, path, _tag, _digest = parse_image(text)
    return domain, path


def parse_image(text: str) -> tuple[str, str, str | None, str | None]:
    """Parse ``text`` like ParseNormalizedNamed; return (domain, path, tag, digest)."""
    if not isinstance(text, str):
        raise InvalidReference("invalid reference format")
    if len(text) == 64 and all(ch in _LOWER_HEX for ch in text):
        raise InvalidReference(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = _split_docker_domain(text)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        raise InvalidReference(
            f"invalid reference format: repository name ({_shown(remote)}) must be lowercase"
        )
    candidate = f"{domain}/{remainder}"
    match = _match(candidate)
    if match is None:
        lowered = candidate.lower()
        if lowered != candidate and _match(lowered) is not None:
            raise InvalidReference("invalid reference format: repository name must be lowercase")
        raise InvalidReference("invalid reference format")
    found_domain, path, tag, digest = match
    if found_domain is None:
        # distribution would return a name with an empty domain here (for example
        # "a_b.com/c": the first part is a valid path component but no valid host).
        raise InvalidReference(
            f"invalid reference format: registry host ({_shown(domain)}) is not valid"
        )
    if len(path) > _NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(
            f"repository name must not be more than {_NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest is not None:
        _validate_digest(digest)
    return found_domain, path, tag, digest
