"""Fixtures for the end-to-end suite: the helper executable, a registry, dockerd, sandboxes."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .dockerd import Dockerd
from .registry import Registry
from .sandbox import HELPER_NAME, Sandbox
from .secretservice import SecretService
from .tools import require_tool, unavailable

USERS = {"alice": "s3cret-a", "bob": "s3cret-b"}
SEEDED = ("team/app", "team-a/app", "team-b/app")


def _find_helper() -> Path:
    """READYSTACK_HELPER_EXE, else the installed console script (PATH or next to python)."""
    configured = os.environ.get("READYSTACK_HELPER_EXE")
    if configured:
        path = Path(configured)
        if not (path.is_absolute() and os.access(path, os.X_OK)):
            unavailable(f"READYSTACK_HELPER_EXE={configured} is not an absolute executable path")
        return path
    next_to_python = Path(sys.executable).parent / HELPER_NAME
    if os.access(next_to_python, os.X_OK):
        return next_to_python
    found = shutil.which(HELPER_NAME)
    if found is None:
        unavailable(
            f"{HELPER_NAME} not installed: pip install '.[test]' (or set "
            "READYSTACK_HELPER_EXE to the PyInstaller binary)"
        )
    return Path(found)


@pytest.fixture(scope="session")
def helper_exe() -> Path:
    """The helper executable under test (the frozen binary or the console script)."""
    return _find_helper()


@pytest.fixture(scope="session")
def helper_bin(helper_exe: Path) -> Iterator[Path]:
    """A directory holding only `docker-credential-readystack` -> the helper, for PATH."""
    directory = Path(tempfile.mkdtemp(prefix="rse2e-bin-"))
    (directory / HELPER_NAME).symlink_to(helper_exe)
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def registry() -> Iterator[Registry]:
    """A docker-registry with users alice and bob, seeded with team/app, team-a/app, team-b/app."""
    binary, htpasswd = require_tool("docker-registry"), require_tool("htpasswd")
    workdir = Path(tempfile.mkdtemp(prefix="rse2e-registry-"))
    server = Registry(workdir, USERS, htpasswd, binary)
    try:
        server.start()
        for repo in SEEDED:
            server.seed(repo, "1")
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def dockerd() -> Iterator[Dockerd]:
    """A private dockerd, started by the first test that needs it, stopped at the end."""
    binary = require_tool("dockerd")
    require_tool("docker")
    daemon = Dockerd(binary)
    try:
        daemon.start()
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def sandbox(helper_bin: Path, registry: Registry) -> Iterator[Sandbox]:
    """A fresh isolated environment for one test (no daemon: DOCKER_HOST is unreachable)."""
    root = Path(tempfile.mkdtemp(prefix="rse2e-"))
    try:
        yield Sandbox(root, helper_bin, registry)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def daemon_sandbox(sandbox: Sandbox, dockerd: Dockerd) -> Sandbox:
    """A sandbox whose docker CLI talks to the private dockerd."""
    sandbox.use_daemon(dockerd)
    return sandbox


@pytest.fixture
def bus(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """An unlocked gnome-keyring on a private session bus, for this process and the sandbox."""
    service = SecretService.for_sandbox(sandbox)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
    try:
        yield service
    finally:
        service.stop()
