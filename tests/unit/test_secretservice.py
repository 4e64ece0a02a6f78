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
        secretservice.read(secrets.SERVICE, "ROW-1", _never)


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
