"""What a registry or a row says reaches the terminal escaped, and a slow server is cut off
(issue 24, items 3 and 4), for `registry test`, `doctor --online` and `explain --online`.

The servers are raw sockets on 127.0.0.1: one answers 401 with escape sequences in its
challenge, one sends its answer one byte every 0.2 s and never ends it (urllib3's timeouts are
per read, so only a wall-clock deadline stops it).
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest
import rawdb

from .conftest import Run

TIMEOUT = "1"
# Seconds a verb may take against the dripping server before the test gives up on it; the drip
# itself would last for ever.
HANG_GUARD = 30
ESCAPES = (b"\x1b", b"\x07", b"\xc2\x9b", b"\x9b")
EVIL_NAME = "evil\x1b]0;PWNED\x07\x1b[2J"
CHALLENGES = {
    "c0": b'Bearer realm="http://h/\x1b]0;PWNED\x07\x1b[2J",service="x"',
    "c1": b'Bearer realm="https://h/\x9b2J",service="x"',
    "c1-service": b'Bearer realm="https://h/token",service="\x9b31mred"',
}


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    behaviour: bytes  # a WWW-Authenticate value, or b"drip"
    stop: threading.Event


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request's headers
        if self.server.behaviour == b"drip":
            self.wfile.write(b"HTTP/1.1 401 Unauthorized\r\nX-Drip: ")
            # One byte at a time, until the client goes away or the test ends.
            while not self.server.stop.wait(0.2):
                try:
                    self.wfile.write(b"a")
                    self.wfile.flush()
                except OSError:
                    return
            return
        self.wfile.write(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: " + self.server.behaviour
            + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )  # fmt: skip


def _serve(behaviour: bytes) -> Iterator[int]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour
    server.stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()


@pytest.fixture(params=sorted(CHALLENGES))
def escaping_port(request: pytest.FixtureRequest) -> Iterator[int]:
    yield from _serve(CHALLENGES[request.param])


@pytest.fixture
def dripping_port() -> Iterator[int]:
    yield from _serve(b"drip")


def _row(env: dict[str, str], port: int, name: str = EVIL_NAME) -> None:
    db = env["READYSTACK_DB"]
    rawdb.make(db)
    rawdb.insert(db, "A0000000-0000-0000-0000-000000000001", name, f"http://127.0.0.1:{port}")


def _verbs(port: int) -> dict[str, tuple[str, ...]]:
    return {
        "registry test": ("registry", "test", "--timeout", TIMEOUT),
        "registry test --json": ("registry", "test", "--timeout", TIMEOUT, "--json"),
        "doctor --online": ("doctor", "--online", "--timeout", TIMEOUT),
        "explain --online": ("explain", f"127.0.0.1:{port}/app", "--online", "--timeout", TIMEOUT),
    }


def _no_escape(proc: object) -> None:
    said = proc.stdout + proc.stderr  # type: ignore[attr-defined]
    for raw in ESCAPES:
        assert raw not in said, said


def test_escape_sequences_from_the_server_and_the_row_never_reach_the_terminal(
    run: Run, env: dict[str, str], escaping_port: int
) -> None:
    _row(env, escaping_port)
    for verb, args in _verbs(escaping_port).items():
        proc = run(*args)
        assert proc.returncode == 1, (verb, proc.stderr)
        _no_escape(proc)
        said = proc.stdout.decode()
        # The challenge parser refuses the control character; it names where, never what.
        assert "malformed WWW-Authenticate: control character in a quoted string" in said, verb
        if verb == "registry test --json":
            (result,) = json.loads(said)
            assert result["name"] == EVIL_NAME  # JSON escapes it, and the value stays exact
        elif verb != "explain --online":
            assert "evil\\x1b]0;PWNED\\x07\\x1b[2J" in said, (verb, said)


def test_registry_test_shows_the_row_name_as_registry_list_does(
    run: Run, env: dict[str, str], escaping_port: int
) -> None:
    _row(env, escaping_port)
    listed = run("registry", "list").stdout.decode().split("  ")[0]
    tested = run("registry", "test", "--timeout", TIMEOUT).stdout.decode().split("  ")[0]
    assert listed == tested == "evil\\x1b]0;PWNED\\x07\\x1b[2J"


@pytest.mark.parametrize("verb", sorted(_verbs(0)))
def test_a_server_that_drips_one_byte_at_a_time_is_cut_off_at_the_timeout(
    run: Run, env: dict[str, str], dripping_port: int, verb: str
) -> None:
    # The review's reproduction: `explain --online --timeout 3` took 33 s against such a server.
    _row(env, dripping_port, name="drip")
    proc = run(*_verbs(dripping_port)[verb], timeout=HANG_GUARD)
    assert proc.returncode == 1, proc.stderr
    said = proc.stdout.decode()
    assert "unreachable" in said and f"within {TIMEOUT} s" in said, said


def test_the_drip_is_real(dripping_port: int) -> None:
    """The fixture itself: bytes keep coming, and no blank line ever ends the headers."""
    with socket.create_connection(("127.0.0.1", dripping_port), timeout=HANG_GUARD) as sock:
        sock.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        while len(received.partition(b"X-Drip: ")[2]) < 3:
            chunk = sock.recv(100)
            assert chunk, received
            received += chunk
    assert received.startswith(b"HTTP/1.1 401 Unauthorized\r\nX-Drip: aaa")
