"""A Docker Engine API on a unix socket that answers with the containers a test describes.

Enough of the API for `configure-docker --readystackgo` through docker-py: `/_ping`, `/version`,
`/containers/json` and `/containers/{name or id}/json`, under any `/vX.Y` prefix.
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import tempfile
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

API_VERSION = "1.43"
_PREFIX = re.compile(r"^/v[0-9.]+")


def container(
    name: str,
    image: str,
    mounts: list[dict],
    env: list[str] | None = None,
    cid: str | None = None,
) -> dict:
    """The inspect answer of one container (the fields the helper reads, and docker-py's own)."""
    return {
        "Id": cid or (name.encode().hex() * 64)[:64],
        "Name": "/" + name,
        "Image": "sha256:" + "0" * 64,
        "Config": {"Image": image, "Env": env or [], "WorkingDir": "/app"},
        "Mounts": mounts,
        "State": {"Status": "running", "Running": True},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = _PREFIX.sub("", self.path.split("?", 1)[0])
        found = self.server.containers
        if path == "/_ping":
            self._send(200, b"OK", "text/plain")
        elif path == "/version":
            self._send(200, json.dumps({"ApiVersion": API_VERSION, "Version": "24.0.0"}).encode())
        elif path == "/containers/json":
            listed = [{"Id": c["Id"], "Names": [c["Name"]], "Image": c["Config"]["Image"]}
                      for c in found]  # fmt: skip
            self._send(200, json.dumps(listed).encode())
        elif path.startswith("/containers/") and path.endswith("/json"):
            wanted = path[len("/containers/") : -len("/json")]
            match = [c for c in found if wanted in (c["Name"][1:], c["Id"], c["Id"][:12])]
            if match:
                self._send(200, json.dumps(match[0]).encode())
            else:
                self._send(404, json.dumps({"message": f"No such container: {wanted}"}).encode())
        else:
            self._send(404, b'{"message": "page not found"}')

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Api-Version", API_VERSION)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    containers: list[dict]


class FakeEngine:
    """A fake Engine API; ``docker_host`` is what DOCKER_HOST should say."""

    def __init__(self, containers: list[dict]) -> None:
        self.folder = tempfile.mkdtemp(prefix="fake-engine-")
        self.socket = os.path.join(self.folder, "docker.sock")
        self.server = _Server(self.socket, _Handler)
        self.server.containers = containers
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def containers(self) -> list[dict]:
        """What the engine answers with; a test may change it between two requests."""
        return self.server.containers

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        Path(self.socket).unlink(missing_ok=True)
        os.rmdir(self.folder)

    def __enter__(self) -> FakeEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
