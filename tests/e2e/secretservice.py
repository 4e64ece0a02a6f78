"""A private D-Bus session bus with an unlocked gnome-keyring Secret Service, for one sandbox."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from .tools import require_tool, stop_process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .sandbox import Sandbox

TOOLS = ("dbus-daemon", "dbus-send", "gnome-keyring-daemon")


def _about_secrets(method: str) -> list[str]:
    """dbus-send's arguments: the bus daemon's ``method`` on the org.freedesktop.secrets name."""
    return [
        "--session",
        "--print-reply",
        "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        f"org.freedesktop.DBus.{method}",
        "string:org.freedesktop.secrets",
    ]


class SecretService:
    """dbus-daemon + `gnome-keyring-daemon --foreground --unlock`, both stopped by PID."""

    @classmethod
    def for_sandbox(
        cls, sandbox: Sandbox, password: bytes = b"readystack-e2e-keyring"
    ) -> SecretService:
        """Started, with the sandbox's env pointed at its bus (the tools missing: skipped)."""
        service = cls(
            sandbox.root, sandbox.env, {t: require_tool(t) for t in TOOLS}, password=password
        )
        service.start()
        sandbox.env["DBUS_SESSION_BUS_ADDRESS"] = service.address
        return service

    def __init__(
        self,
        workdir: Path,
        env: dict[str, str],
        tools: dict[str, str],
        password: bytes = b"readystack-e2e-keyring",
    ) -> None:
        """Prepare the bus socket path; `env` is the sandbox env (HOME, XDG_RUNTIME_DIR).

        An empty ``password`` unlocks gnome-keyring without creating its login collection.
        """
        self.address = f"unix:path={workdir / 'bus'}"
        self.env = {**env, "DBUS_SESSION_BUS_ADDRESS": self.address}
        self._workdir = workdir
        self._tools = tools
        self._procs: list[subprocess.Popen[bytes]] = []
        self._password = password
        self.keyring: subprocess.Popen[bytes] | None = None  # gnome-keyring-daemon, once started
        self.log = workdir / "secretservice.log"  # both daemons' output

    def start(self, timeout: float = 15.0) -> None:
        """Start the bus and the keyring (unlocked with a throwaway password) and wait for it."""
        log = self.log.open("ab")
        with log:
            self._procs.append(
                subprocess.Popen(
                    [
                        self._tools["dbus-daemon"],
                        "--session",
                        "--nofork",
                        "--nopidfile",
                        f"--address={self.address}",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                )
            )
            bus = self._workdir / "bus"
            deadline = time.monotonic() + timeout
            while not bus.exists():
                if time.monotonic() >= deadline:
                    self.stop()
                    raise RuntimeError(f"dbus-daemon did not create {bus} within {timeout:g} s")
                time.sleep(0.02)  # the poll's interval
            keyring = subprocess.Popen(
                [
                    self._tools["gnome-keyring-daemon"],
                    "--foreground",
                    "--unlock",
                    "--components=secrets",
                ],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
            self._procs.append(keyring)
            self.keyring = keyring
            assert keyring.stdin is not None
            keyring.stdin.write(self._password)
            keyring.stdin.close()
        while time.monotonic() < deadline:
            probe = subprocess.run(
                [self._tools["dbus-send"], *_about_secrets("NameHasOwner")],
                capture_output=True,
                text=True,
                env=self.env,
                timeout=10,
            )
            if "boolean true" in probe.stdout:
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("gnome-keyring did not register org.freedesktop.secrets")

    def owner_pid(self) -> int:
        """The PID of the process that owns org.freedesktop.secrets on this bus, asked of it."""
        proc = subprocess.run(
            [self._tools["dbus-send"], *_about_secrets("GetConnectionUnixProcessID")],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=10,
            check=True,
        )
        return int(proc.stdout.split()[-1])

    def stop(self) -> None:
        """Stop the keyring, then the bus."""
        while self._procs:
            stop_process(self._procs.pop())
