"""A token server and the CNCF registry that trusts it: the Bearer setup several e2e files share."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .registry import Registry
from .tokenserver import ISSUER, SERVICE, TokenServer
from .tools import require_tool


@contextmanager
def token_server(
    users: dict[str, str], grants: dict[str, list[str]], prefix: str
) -> Iterator[TokenServer]:
    """A running token server granting pull and push per user and repository prefix."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    server = TokenServer(workdir, users, grants)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def token_registry(
    tokens: TokenServer, users: dict[str, str], prefix: str, pusher: str
) -> Iterator[Registry]:
    """The CNCF registry with `auth: token`; seed() pushes with a token minted for `pusher`."""
    binary, htpasswd = require_tool("docker-registry"), require_tool("htpasswd")
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    auth = (
        f"{{token: {{realm: '{tokens.realm}', service: {SERVICE}, issuer: {ISSUER}, "
        f"rootcertbundle: '{tokens.cert_path}'}}}}"
    )
    server = Registry(workdir, users, htpasswd, binary, auth_config=auth)

    def bearer(repo: str) -> str:
        access = [{"type": "repository", "name": repo, "actions": ["pull", "push"]}]
        return "Bearer " + tokens.mint(pusher, SERVICE, access)

    server.authorization = bearer
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
