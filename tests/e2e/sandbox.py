"""A per-test sandbox: private HOME, DOCKER_CONFIG, database, auth file, PATH and env."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .dockerd import Dockerd
from .registry import Registry
from .tools import require_tool

HELPER_NAME = "docker-credential-readystack"
NOT_FOUND = "credentials not found in native keychain"
# inherited variables that would leak the developer's own setup into a test
_DROPPED_PREFIXES = (
    "READYSTACK_",
    "DOCKER_",
    "XDG_",
    "DBUS_",
    "CONTAINERS_",
    "COMPOSE_",
    "KEYRING_",
    "PYTHON_KEYRING_",
)
_DROPPED = {"REGISTRY_AUTH_FILE", "BUILDKIT_PROGRESS", "SSH_AUTH_SOCK", "GNOME_KEYRING_CONTROL"}


def output(proc: subprocess.CompletedProcess[str]) -> str:
    """Both streams of a finished process, for assertion messages and substring checks."""
    return f"rc={proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


class Sandbox:
    """One test's private world: HOME, DOCKER_CONFIG, database, auth file, PATH and env."""

    def __init__(self, root: Path, helper_bin: Path, registry: Registry) -> None:
        """Create the directories and the environment passed to every subprocess."""
        self.root = root
        self.registry = registry
        self.helper_path = helper_bin / HELPER_NAME
        self.home = root / "home"
        self.docker_config = root / "docker"
        self.bin_dir = root / "bin"  # per-test extras, ahead of the shared helper dir
        self.db = root / "data" / "readystack.db"
        self.authfile = root / "containers-auth.json"
        runtime = root / "run"
        for directory in (self.home, self.docker_config, self.bin_dir, self.db.parent, runtime):
            directory.mkdir(parents=True)
        runtime.chmod(0o700)
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in _DROPPED and not key.startswith(_DROPPED_PREFIXES)
        }
        env.update(
            HOME=str(self.home),
            DOCKER_CONFIG=str(self.docker_config),
            READYSTACK_DB=str(self.db),
            XDG_DATA_HOME=str(root / "xdg-data"),
            XDG_CONFIG_HOME=str(root / "xdg-config"),
            XDG_RUNTIME_DIR=str(runtime),
            DOCKER_HOST="unix:///nonexistent",  # no daemon unless the test asks for one
            PATH=os.pathsep.join([str(self.bin_dir), str(helper_bin), os.environ.get("PATH", "")]),
        )
        self.env = env

    def use_daemon(self, dockerd: Dockerd) -> None:
        """Point the docker CLI (and docker-py, compose) at the private dockerd."""
        self.env["DOCKER_HOST"] = dockerd.host

    def write_docker_config(self, config: dict[str, object]) -> Path:
        """Write `$DOCKER_CONFIG/config.json`."""
        path = self.docker_config / "config.json"
        path.write_text(json.dumps(config, indent=1) + "\n")
        return path

    def docker_config_json(self) -> dict[str, object]:
        """Read back `$DOCKER_CONFIG/config.json` (the CLI rewrites it on login)."""
        return json.loads((self.docker_config / "config.json").read_text())

    def use_cred_helpers(self) -> None:
        """Route the registry to our helper with `credHelpers` (docker config and auth file)."""
        config = {"credHelpers": {self.registry.host: "readystack"}}
        self.write_docker_config(config)
        self.authfile.write_text(json.dumps(config) + "\n")

    def use_creds_store(self) -> None:
        """Route every registry to our helper with `credsStore` in the docker config."""
        self.write_docker_config({"credsStore": "readystack"})

    def spy_on_helper(self, *names: str) -> Path:
        """Shadow `docker-credential-NAME` with wrappers logging `NAME VERB DELEGATED` per call."""
        # each wrapper appends one line to the returned log, then execs the real helper
        log = self.root / "helper-calls.log"
        real = shlex.quote(str(self.helper_path.resolve()))
        for name in names or ("readystack",):
            wrapper = self.bin_dir / f"docker-credential-{name}"
            wrapper.write_text(
                "#!/bin/sh\n"
                f'printf \'%s %s %s\\n\' {name} "$1" "${{READYSTACK_DELEGATED:-0}}" '
                f">> {shlex.quote(str(log))}\n"
                f'exec {real} "$@"\n'
            )
            wrapper.chmod(0o755)
        return log

    def spy_helper(self) -> Path:
        """`docker-credential-spy`: logs each server a client asks about, answers not-found."""
        log = self.root / "asked.log"
        spy = self.bin_dir / "docker-credential-spy"
        spy.write_text(
            "#!/bin/sh\nread -r server\n"
            f"printf '%s\\n' \"$server\" >> '{log}'\n"
            "echo 'credentials not found in native keychain'; exit 1\n"
        )
        spy.chmod(0o755)
        return log

    @staticmethod
    def calls(log: Path) -> list[tuple[str, str, str]]:
        """The (name, verb, delegated) lines a spy log holds."""
        found: list[tuple[str, str, str]] = []
        for line in log.read_text().splitlines() if log.exists() else []:
            name, verb, delegated = line.split(" ", 2)
            found.append((name, verb, delegated))
        return found

    def run(
        self,
        args: Sequence[str],
        *,
        stdin: str | None = None,
        timeout: float = 90.0,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run a client in the sandbox env; a missing program skips (fails under CI=true)."""
        run_env = {**self.env, **(env or {})}
        exe = shutil.which(args[0], path=run_env["PATH"])
        if exe is None:
            require_tool(args[0])  # skips or fails with the apt hint
            raise AssertionError(f"{args[0]} not found on the sandbox PATH")
        return subprocess.run(
            [exe, *args[1:]],
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            env=run_env,
            cwd=cwd or self.root,
        )

    def helper(
        self, verb: str, stdin: str = "", *, timeout: float = 30.0
    ) -> subprocess.CompletedProcess[str]:
        """Call the helper the way clients do: `docker-credential-readystack VERB` with stdin."""
        return self.run([HELPER_NAME, verb], stdin=stdin, timeout=timeout)

    def get(self, target: str) -> dict[str, str] | None:
        """`get` a target: the decoded answer, or None for the exact not-found reply."""
        proc = self.helper("get", target)
        if proc.returncode == 1 and proc.stdout.rstrip("\n") == NOT_FOUND:
            return None
        assert proc.returncode == 0, output(proc)
        answer: dict[str, str] = json.loads(proc.stdout)
        return answer

    def podman(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run podman with storage, run root and tmp dir inside the sandbox."""
        base = self.root / "podman"
        flags = [
            *("--root", str(base / "root"), "--runroot", str(base / "run")),
            *("--tmpdir", str(base / "tmp")),
            *("--storage-driver", "vfs", "--cgroup-manager", "cgroupfs"),
            *("--events-backend", "none"),
        ]
        return self.run(["podman", *flags, *args], stdin=stdin, timeout=120)
