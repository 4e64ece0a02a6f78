"""Finding system tools: skip when one is missing, fail instead when CI=true."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from typing import NoReturn

import pytest

# tool -> the Debian package that ships it (the docker CLI 28 itself comes with the machine image)
APT_PACKAGES: dict[str, str] = {
    "docker-registry": "docker-registry",
    "htpasswd": "apache2-utils",
    "skopeo": "skopeo",
    "podman": "podman",
    "buildah": "buildah",
    "dockerd": "docker.io",
    "docker": "docker.io",
    "docker-compose": "docker-compose",
    "dbus-run-session": "dbus",
    "dbus-daemon": "dbus",
    "dbus-send": "dbus",
    "gnome-keyring-daemon": "gnome-keyring",
    "openssl": "openssl",
    "busybox": "busybox-static",
}


def in_ci() -> bool:
    """Tell whether missing prerequisites must fail the run instead of skipping it."""
    return os.environ.get("CI", "").strip().lower() == "true"


def unavailable(message: str) -> NoReturn:
    """Skip the current test, or fail it when running in CI."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: e2e prerequisites are mandatory)", pytrace=False)
    pytest.skip(message)


def require_tool(name: str) -> str:
    """Return a system tool's path, or skip/fail with the apt line that installs it."""
    path = shutil.which(name)
    if path is None:
        package = APT_PACKAGES.get(name, name)
        unavailable(f"{name} not installed: apt-get install -y --no-install-recommends {package}")
    return path


def free_port() -> int:
    """Pick a currently free TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """Stop a process we started: SIGTERM, wait up to `grace` seconds, then SIGKILL."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
