"""Fixtures for tests that run the installed executable as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HELPER = "docker-credential-readystack"
Run = Callable[..., subprocess.CompletedProcess[bytes]]


def helper_path() -> Path:
    """READYSTACK_HELPER_EXE (the PyInstaller binary), else the console script beside python."""
    configured = os.environ.get("READYSTACK_HELPER_EXE")
    path = Path(configured) if configured else Path(sys.executable).parent / HELPER
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is not an executable: install the project first (see README)")
    return path


@pytest.fixture(scope="session")
def exe() -> Path:
    """The helper executable under test."""
    return helper_path()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment where every path the helper reads points into tmp_path."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("READYSTACK_", "DOCKER", "PYTHON_KEYRING")) and k != "DataPath"
    }
    home = tmp_path / "home"
    home.mkdir()
    clean.update(
        HOME=str(home),
        XDG_DATA_HOME=str(tmp_path / "data"),
        DOCKER_CONFIG=str(tmp_path / "docker"),
        READYSTACK_DB=str(tmp_path / "registries.db"),
    )
    return clean


@pytest.fixture
def run(exe: Path, env: dict[str, str]) -> Run:
    """Run the helper with one or more arguments and bytes on stdin; returns the process."""

    def _run(*args: str, stdin: bytes = b"", timeout: float = 30, **extra: str):
        merged = {**env, **extra}
        return subprocess.run(
            [str(exe), *args], input=stdin, capture_output=True, env=merged, timeout=timeout
        )

    return _run
