"""The fast Secret Service read's own decisions, without a bus: when it leaves a read to keyring."""

from __future__ import annotations

import os
import socket

import pytest
from readystack.store import secrets, secretservice
from readystack.store.secrets import SecretStoreError

LABEL = secrets.KEYRING_PREFIX + "keyring.backends.SecretService.Keyring"


def _never(attributes: object) -> bool:
    raise AssertionError("no item should have been seen")


@pytest.mark.parametrize(
    "name",
    ["KEYRING_PROPERTY_PREFERRED_COLLECTION", "KEYRING_PROPERTY_SCHEME", "X_KEYRING_PROPERTY_Y"],
)
def test_a_keyring_property_in_the_environment_leaves_the_read_to_keyring(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # keyring's set_properties_from_env matches the mark anywhere in the name.
    monkeypatch.setenv(name, "/org/freedesktop/secrets/collection/other")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
    with pytest.raises(secretservice.NotServed):
        secretservice.read(secrets._query("ROW-1"), _never)


def test_a_bus_run_by_this_user_is_trusted() -> None:
    one, two = socket.socketpair(socket.AF_UNIX)
    with one, two:
        secretservice._check_peer(one)  # no exception: the peer is this process


def test_a_bus_run_by_another_user_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = socket.socketpair(socket.AF_UNIX)
    monkeypatch.setattr(os, "getuid", lambda: 4242)
    with one, two, pytest.raises(secretservice.NotServed):
        secretservice._check_peer(one)


def test_only_a_unix_socket_is_trusted() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        pytest.raises(secretservice.NotServed),
    ):
        secretservice._check_peer(tcp)


def test_a_secret_service_that_stops_answering_ends_in_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def hang(*args: object) -> None:
        raise TimeoutError

    monkeypatch.setattr(secretservice, "read", hang)
    with pytest.raises(SecretStoreError, match=r"^no Secret Service answers on D-Bus \(no reply"):
        secrets.get(LABEL, "ROW-1", "r.io")


def test_only_secret_service_rows_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(secretservice, "read", lambda *a: calls.append(a))
    with pytest.raises(SecretStoreError):
        secrets.get(secrets.KEYRING_PREFIX + "keyring.backends.kwallet.DBusKeyring", "R", "r.io")
    assert calls == []


class _FakeBus:
    """A unix socket server that answers each connection with ``reply`` bytes (or nothing)."""

    def __init__(self, path: str, reply: bytes | None) -> None:
        import threading

        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(1)
        self.reply = reply
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.server.accept()
        with conn:
            conn.recv(65536)
            if self.reply is not None:
                conn.sendall(self.reply)
                if self.reply == b"":
                    return  # closes at once
            self.done.wait(10)

    def close(self) -> None:
        self.done.set()
        self.thread.join(10)
        self.server.close()


@pytest.mark.parametrize(
    "reply",
    [b"", b"REJECTED EXTERNAL\r\n", b"OK 0123456789abcdef\r\n" + b"\xff" * 64],
    ids=["closed", "rejected", "garbage"],
)
def test_a_bus_that_misbehaves_leaves_the_read_to_keyring(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, reply: bytes
) -> None:
    path = os.path.join(str(tmp_path), "bus")
    fake = _FakeBus(path, reply)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={path}")
    try:
        with pytest.raises(secretservice.NotServed):
            secretservice.read(secrets._query("ROW-1"), _never)
    finally:
        fake.close()


def test_a_bus_that_never_answers_ends_in_a_timeout(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = os.path.join(str(tmp_path), "bus")
    fake = _FakeBus(path, None)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={path}")
    monkeypatch.setattr(secretservice, "REPLY_TIMEOUT", 0.2)
    try:
        with pytest.raises(TimeoutError):
            secretservice.read(secrets._query("ROW-1"), _never)
    finally:
        fake.close()
