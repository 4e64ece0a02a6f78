"""Plain-HTTP registries as dockerd allows them: loopback and daemon.json's insecure-registries."""

from __future__ import annotations

import base64
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import Run

NAME = "docker-credential-readystack"
USER, PASSWORD = "alice", "plain-http-pw"
GOOD = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def lan_address() -> str:
    """A non-loopback address of this machine (the source of its default route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: no packet is sent
        except OSError:
            pytest.skip("no non-loopback IPv4 address on this machine")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.skip("no non-loopback IPv4 address on this machine")
    return str(address)


class Registry(ThreadingHTTPServer):
    """`GET /v2/` behind Basic auth, over plain HTTP; it records what it was sent."""

    seen: list[tuple[str, str]]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        auth = self.headers.get("Authorization", "")
        self.server.seen.append((self.path, auth))  # type: ignore[attr-defined]
        if self.path != "/v2/":
            self.send_error(404)
            return
        if auth != GOOD:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def serve(address: str) -> Iterator[Registry]:
    server = Registry((address, 0), Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def lan_registry() -> Iterator[Registry]:
    """The plain-HTTP registry on a non-loopback address, which dockerd treats as secure."""
    yield from serve(lan_address())


@pytest.fixture
def loopback_registry() -> Iterator[Registry]:
    yield from serve("127.0.0.1")


def hostport(server: Registry) -> str:
    return f"{server.server_address[0]}:{server.server_address[1]}"


def add_row(run: Run, name: str, url: str) -> bytes:
    proc = run(
        "registry", "add", name, "--url", url, "--username", USER, "--password-stdin",
        stdin=PASSWORD.encode() + b"\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_registry_dockerd_treats_as_secure_never_gets_plain_http(
    run: Run, env: dict[str, str], lan_registry: Registry, tmp_path: Path
) -> None:
    env["READYSTACK_DAEMON_JSON"] = str(tmp_path / "missing-daemon.json")
    host = hostport(lan_registry)
    add_row(run, "lan", f"https://{host}")
    proc = run("registry", "test", "--json", "--timeout", "5")
    [result] = json.loads(proc.stdout)
    assert result["status"] == "tls"
    assert result["detail"] == (
        f"TLS with {host} failed: WRONG_VERSION_NUMBER (a plain-HTTP server? the URL says https://)"
    )
    assert proc.returncode == 1
    # Only the TLS handshake arrived, as garbage: no request, no credentials, over plain HTTP.
    assert all(auth == "" for _, auth in lan_registry.seen)
    assert not any(path == "/v2/" for path, _ in lan_registry.seen)


def test_insecure_registries_in_daemon_json_allow_plain_http(
    run: Run, env: dict[str, str], lan_registry: Registry, tmp_path: Path
) -> None:
    host = hostport(lan_registry)
    daemon = tmp_path / "daemon.json"
    daemon.write_text(json.dumps({"insecure-registries": [host]}))
    env["READYSTACK_DAEMON_JSON"] = str(daemon)
    add_row(run, "lan", f"https://{host}")
    proc = run("registry", "test", "--timeout", "5")
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert proc.stdout.decode().split(None, 3)[2:] == [
        "ok",
        "the registry accepted the credentials (Basic) (over plain http://: https:// failed, "
        f"and dockerd allows plain HTTP as {host} is in insecure-registries of {daemon})\n",
    ]
    assert (("/v2/", GOOD)) in lan_registry.seen
    # A CIDR entry counts too, as in moby's loadInsecureRegistries.
    address = host.rsplit(":", 1)[0]
    daemon.write_text(json.dumps({"insecure-registries": [f"{address}/32"]}))
    proc = run("registry", "test", "--timeout", "5")
    assert proc.returncode == 0
    assert f"dockerd allows plain HTTP as {address} is in {address}/32 of insecure-registries" in (
        proc.stdout.decode()
    )


def test_loopback_falls_back_and_the_status_says_which_scheme_answered(
    run: Run, env: dict[str, str], loopback_registry: Registry, tmp_path: Path
) -> None:
    env["READYSTACK_DAEMON_JSON"] = str(tmp_path / "missing-daemon.json")
    host = hostport(loopback_registry)
    # What `docker login 127.0.0.1:PORT` stores: the host with https:// in front.
    proc = run(
        "store",
        stdin=json.dumps({"ServerURL": host, "Username": USER, "Secret": PASSWORD}).encode(),
    )
    assert proc.returncode == 0, proc.stdout
    proc = run("registry", "test", "--json", "--timeout", "5")
    [result] = json.loads(proc.stdout)
    assert (result["status"], result["detail"]) == (
        "ok",
        "the registry accepted the credentials (Basic) (over plain http://: https:// failed, "
        "and dockerd allows plain HTTP as 127.0.0.1 is a loopback address)",
    )
    proc = run("doctor", "--online", "--timeout", "5")
    assert (
        f"ok       online: row '{host}' on {host}: ok: the registry accepted the credentials "
        "(Basic) (over plain http://: https:// failed, and dockerd allows plain HTTP as "
        "127.0.0.1 is a loopback address)\n"
    ) in proc.stdout.decode()


def test_a_url_without_scheme_says_https_was_chosen(run: Run) -> None:
    assert add_row(run, "local", "127.0.0.1:56785") == (
        b"added registry 'local' for 127.0.0.1:56785 (https://, as no scheme was given)\n"
    )
    assert add_row(run, "plain", "http://127.0.0.1:56786") == (
        b"added registry 'plain' for 127.0.0.1:56786\n"
    )
    proc = run("registry", "update", "plain", "--url", "127.0.0.1:56787")
    assert proc.stdout == b"updated registry 'plain' (https://, as no scheme was given)\n"
