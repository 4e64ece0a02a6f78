"""A private Secret Service (gnome-keyring on its own D-Bus session) and Docker's Go helper on it.

Shared by every benchmark section that compares against Debian's Go
`docker-credential-secretservice` (golang-docker-credential-helpers), the helper Docker points
Linux desktop users to: `start()` gives a running, unlocked keyring with the Go helper's entry
stored, and `KeyringPeer.go_get()` the command that reads it back. It is what
/work/shared/reference/real-clients.md ("A keyring peer") does with dbus-run-session, with the
bus address chosen here so that the processes can be stopped by their PIDs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .timing import Cmd

GO_HELPER = "docker-credential-secretservice"
# The entry the Go helper keeps, and the one our rows name: the same host, user and secret.
HOST = "keyring.example.com"
USER = "keyring-user"
SECRET = "keyring-s3cret"
TOOLS = ("dbus-daemon", "dbus-send", "gnome-keyring-daemon")


class KeyringPeer:
    """A running dbus-daemon + unlocked gnome-keyring; ``env`` reaches it."""

    def __init__(self, workdir: str, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.address = f"unix:path={os.path.join(workdir, 'bus')}"
        home = os.path.join(workdir, "home")
        os.makedirs(home, exist_ok=True)
        runtime = os.path.join(workdir, "run")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        self.env = {
            **env,
            "HOME": home,
            "XDG_RUNTIME_DIR": runtime,
            "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
            "DBUS_SESSION_BUS_ADDRESS": self.address,
        }
        self.go = shutil.which(GO_HELPER) or ""
        self._procs: list[subprocess.Popen[bytes]] = []

    def start(self, timeout: float = 15.0) -> None:
        """Start the bus, then the keyring unlocked with a throwaway password; wait for both."""
        tools = {t: shutil.which(t) or t for t in TOOLS}
        bus = os.path.join(self.workdir, "bus")
        log = open(os.path.join(self.workdir, "keyring.log"), "ab")  # noqa: SIM115
        with log:
            self._procs.append(
                subprocess.Popen(
                    [tools["dbus-daemon"], "--session", "--nofork", "--nopidfile"]
                    + [f"--address={self.address}"],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=self.env,
                )
            )
            deadline = time.monotonic() + timeout
            while not os.path.exists(bus):
                if time.monotonic() > deadline:
                    raise RuntimeError("dbus-daemon did not create its socket")
                time.sleep(0.02)
            keyring = subprocess.Popen(
                [tools["gnome-keyring-daemon"], "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )
            self._procs.append(keyring)
            assert keyring.stdin is not None
            keyring.stdin.write(b"readystack-bench-keyring")
            keyring.stdin.close()
        probe = [tools["dbus-send"], "--session", "--print-reply", "--dest=org.freedesktop.DBus"]
        probe += ["/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner"]
        probe += ["string:org.freedesktop.secrets"]
        while time.monotonic() < deadline:
            out = subprocess.run(probe, capture_output=True, text=True, env=self.env, timeout=10)
            if "boolean true" in out.stdout:
                return
            time.sleep(0.05)
        raise RuntimeError("gnome-keyring did not register org.freedesktop.secrets")

    def stop(self) -> None:
        """Stop the keyring, then the bus, each by its PID."""
        while self._procs:
            proc = self._procs.pop()
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def store_go_entry(self) -> None:
        """Let the Go helper store its entry (raises when it cannot)."""
        payload = f'{{"ServerURL":"{HOST}","Username":"{USER}","Secret":"{SECRET}"}}'
        subprocess.run(
            [self.go, "store"], input=payload, text=True, env=self.env, check=True, timeout=30
        )

    def go_get(self, stdin: str) -> Cmd:
        """The Go helper's `get` of the stored entry; ``stdin`` is a file holding the host."""
        return Cmd(
            "go-keyring-get",
            f"Go {GO_HELPER} get",
            [self.go, "get"],
            self.env,
            stdin=stdin,
            expect=f'"{USER}"',
            kind="go",
        )


def available() -> str:
    """Why the peer cannot run here ("" when it can)."""
    missing = [t for t in (*TOOLS, GO_HELPER) if shutil.which(t) is None]
    return f"missing {', '.join(missing)}" if missing else ""


@contextmanager
def started(workdir: str, env: dict[str, str]) -> Iterator[KeyringPeer]:
    """A started peer with the Go helper's entry stored; stopped on the way out."""
    peer = KeyringPeer(workdir, env)
    try:
        peer.start()
        peer.store_go_entry()
        yield peer
    finally:
        peer.stop()
