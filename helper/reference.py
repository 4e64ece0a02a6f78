"""Docker image references parsed like distribution/reference's ParseNormalizedNamed."""

from __future__ import annotations

import re

# The grammar of distribution/reference (regexp.go), spelled with ASCII classes only: Go's \w and
# [[:xdigit:]] are ASCII, Python's \w is not. Matches are always full (re.fullmatch), because
# Python's $ also matches before a trailing newline and Go's does not. The possessive quantifiers
# and atomic groups only drop backtracking that can never reach a match (each piece must be
# followed by a character it cannot end with), so language and captures stay Go's while huge
# inputs are matched in linear time.
_COMPONENT = r"[a-z0-9]++(?:(?:[._]|__|-++)[a-z0-9]++)*+"
_LABEL = r"(?>[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)"
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*+|\[[a-fA-F0-9:]++\])"
_TAG = r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}+"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*+(?:[-_+.][A-Za-z][A-Za-z0-9]*+)*+:[0-9a-fA-F]{32,}+"

# reference := [domain "/"] path [":" tag] ["@" digest]; groups: domain, path, tag, digest.
_REFERENCE = re.compile(
    rf"(?:({_HOST}(?::[0-9]++)?+)/)?({_COMPONENT}(?:/{_COMPONENT})*+)(?::({_TAG}))?(?:@({_DIGEST}))?"
)
_IDENTIFIER = re.compile(r"[a-f0-9]{64}")
# go-digest's DigestRegexp, algorithm part: tells an unsupported algorithm from a malformed one.
_DIGEST_ALGORITHM = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*")
_LOWER_HEX = re.compile(r"[a-f0-9]+")

_DEFAULT_DOMAIN = "docker.io"
_LEGACY_DEFAULT_DOMAIN = "index.docker.io"
_OFFICIAL_REPO_PREFIX = "library/"
_NAME_TOTAL_LENGTH_MAX = 255
# go-digest's registered algorithms and the length of their hex encoding.
_DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_SHOWN_MAX = 256


class ReferenceError(ValueError):
    """An image reference that Docker's reference grammar rejects."""


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
        if _DIGEST_ALGORITHM.fullmatch(algorithm) is None:
            raise ReferenceError("invalid checksum digest format")
        raise ReferenceError("unsupported digest algorithm")
    if len(encoded) != size:
        raise ReferenceError("invalid checksum digest length")
    if _LOWER_HEX.fullmatch(encoded) is None:
        raise ReferenceError("invalid checksum digest format")


def parse_normalized(text: str) -> tuple[str, str]:
    """Parse ``text`` like distribution's ParseNormalizedNamed; return (domain, path), tag and digest dropped."""  # noqa: E501
    if not isinstance(text, str):
        raise ReferenceError("invalid reference format")
    if _IDENTIFIER.fullmatch(text) is not None:
        raise ReferenceError(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = _split_docker_domain(text)
    remote = remainder.partition(":")[0]
    if remote.lower() != remote:
        raise ReferenceError(
            f"invalid reference format: repository name ({_shown(remote)}) must be lowercase"
        )
    candidate = f"{domain}/{remainder}"
    match = _REFERENCE.fullmatch(candidate)
    if match is None:
        lowered = candidate.lower()
        if lowered != candidate and _REFERENCE.fullmatch(lowered) is not None:
            raise ReferenceError("invalid reference format: repository name must be lowercase")
        raise ReferenceError("invalid reference format")
    found_domain, path, _tag, digest = match.groups()
    if found_domain is None:
        # distribution would return a name with an empty domain here (for example
        # "a_b.com/c": the first part is a valid path component but no valid host).
        raise ReferenceError(
            f"invalid reference format: registry host ({_shown(domain)}) is not valid"
        )
    if len(path) > _NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError(
            f"repository name must not be more than {_NAME_TOTAL_LENGTH_MAX} characters"
        )
    if digest is not None:
        _validate_digest(digest)
    return found_domain, path
