"""Names and texts fixed by Docker's conventions, shared by the protocol and the config files."""

from __future__ import annotations

from collections.abc import Mapping

# The executable: the prefix of every diagnostic, and what Docker runs for SELF.
NAME = "docker-credential-readystack"
# What credHelpers / credsStore say when they mean this helper.
SELF = "readystack"
# The texts clients match on, byte for byte (docker-credential-helpers' credentials/error.go).
NOT_FOUND = "credentials not found in native keychain"
MISSING_SERVER_URL = "no credentials server URL"
MISSING_USERNAME = "no credentials username"
# The username that marks an identity token (docker/cli's credentials.tokenUsername).
TOKEN_USERNAME = "<token>"


class Answer:
    """Credentials that answer a question, and the source that gave them."""

    __slots__ = ("username", "secret", "source")

    def __init__(self, username: str, secret: str, source: str) -> None:
        self.username = username
        self.secret = secret
        self.source = source

    def __repr__(self) -> str:
        return f"Answer(username={self.username!r}, source={self.source!r})"  # never the secret


def get_ci(data: object, key: str) -> object:
    """``data[key]`` with the exact spelling first, then any case (Go's JSON and .NET's keys)."""
    if not isinstance(data, Mapping):
        return None
    if key in data:
        return data[key]
    lowered = key.lower()
    for k, v in data.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return None
