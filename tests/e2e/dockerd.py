"""A private `dockerd` (vfs, no iptables, no bridge) on its own unix socket."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .tools import stop_process


def _ping(sock_path: str) -> bool:
    """Ask the Engine API `/_ping` over the unix socket; True when it answers OK."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            sock.connect(sock_path)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            answer = sock.recv(4096)
    except OSError:
        return False
    return answer.startswith(b"HTTP/1.") and b" 200 " in answer.split(b"\r\n", 1)[0]


class Dockerd:
    """One dockerd process with its data, exec root and socket under a short temp dir."""

    def __init__(self, binary: str) -> None:
        """Prepare a daemon; its paths stay short because unix socket paths must be < 108 bytes."""
        self.binary = binary
        self.workdir = Path(tempfile.mkdtemp(prefix="rsd", dir="/tmp"))
        self.socket_path = self.workdir / "d.sock"
        self.log_path = self.workdir / "dockerd.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        """The value for `DOCKER_HOST` / docker-py's `base_url`."""
        return f"unix://{self.socket_path}"

    def start(self, timeout: float = 60.0) -> None:
        """Start the daemon and wait until `/_ping` answers."""
        config = self.workdir / "daemon.json"
        config.write_text("{}\n")
        args = [
            self.binary,
            "--config-file",
            str(config),
            "--storage-driver=vfs",
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            f"--host={self.host}",
            f"--data-root={self.workdir / 'root'}",
            f"--exec-root={self.workdir / 'x'}",
            f"--pidfile={self.workdir / 'dockerd.pid'}",
        ]
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.workdir),
        }
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break
            if _ping(str(self.socket_path)):
                return
            time.sleep(0.1)
        log_tail = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"dockerd did not become ready:\n{log_tail}")

    def _containerd_pid(self) -> int | None:
        """PID of the containerd this daemon started (it runs in its own process group)."""
        try:
            pid = int((self.workdir / "x" / "containerd" / "containerd.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(self.workdir).encode() in cmdline else None

    def stop(self) -> None:
        """SIGTERM, wait up to 20 s, SIGKILL; kill a containerd it left behind; remove its files."""
        if self._proc is not None:
            containerd = self._containerd_pid()
            stop_process(self._proc, grace=20.0)
            self._proc = None
            if containerd is not None and self._containerd_pid() == containerd:
                os.kill(containerd, signal.SIGKILL)
        shutil.rmtree(self.workdir, ignore_errors=True)
