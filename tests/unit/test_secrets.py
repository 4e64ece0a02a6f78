"""Where a secret lives: the choice of store and the keyring calls, over an in-memory keyring."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from keyringcontract import (
    ForgetfulKeyring,
    KeyringContract,
    LockedKeyring,
    MemoryKeyring,
    PlaintextMemoryKeyring,
    UndeletableKeyring,
    path_of,
)
from readystack.store import secrets
from readystack.store.secrets import SecretStoreError

MEMORY = secrets.KEYRING_PREFIX + path_of(MemoryKeyring)


class TestMemoryKeyringKeepsTheContract(KeyringContract):
    def init_keyring(self) -> object:
        return MemoryKeyring()


@pytest.fixture(autouse=True)
def empty_memory_keyring() -> None:
    MemoryKeyring.store.clear()


@pytest.mark.parametrize(
    ("value", "store"),
    [(None, "database"), ("", "database"), ("database", "database"), (" Keyring ", "keyring")],
)
def test_wanted_store_reads_readystack_secrets(value: str | None, store: str) -> None:
    environ = {} if value is None else {"READYSTACK_SECRETS": value}
    assert secrets.wanted_store(environ) == store


def test_an_unknown_secret_store_is_refused_with_its_name() -> None:
    with pytest.raises(SecretStoreError, match="'vault'"):
        secrets.wanted_store({"READYSTACK_SECRETS": "vault"})


def test_put_then_get_reads_the_secret_back() -> None:
    label = secrets.put(MemoryKeyring(), "ROW-1", "s3cret")
    assert label == MEMORY
    assert secrets.get(label, "ROW-1") == "s3cret"
    assert MemoryKeyring.store == {(secrets.SERVICE, "ROW-1"): "s3cret"}


def test_get_of_a_missing_entry_is_none() -> None:
    assert secrets.get(MEMORY, "ROW-1") is None


def test_put_fails_when_the_keyring_does_not_keep_the_secret() -> None:
    with pytest.raises(SecretStoreError, match="did not keep the secret"):
        secrets.put(ForgetfulKeyring(), "ROW-1", "s3cret")


def test_a_keyring_error_becomes_a_secret_store_error_without_the_secret() -> None:
    with pytest.raises(SecretStoreError) as caught:
        secrets.put(LockedKeyring(), "ROW-1", "s3cret")
    message = str(caught.value)
    # The cause in words, never the exception's class name.
    assert message.startswith("the Secret Service's default collection is locked")
    assert "KeyringLocked" not in message
    assert "READYSTACK_SECRETS=database" in message
    assert "s3cret" not in message


def test_get_through_a_locked_keyring_is_a_secret_store_error() -> None:
    # Reading a secret back: only that keyring has it, so no advice to switch stores.
    with pytest.raises(SecretStoreError, match="^the keyring is locked; the secret is only in"):
        secrets.get(secrets.KEYRING_PREFIX + path_of(LockedKeyring), "ROW-1")


def test_delete_removes_the_entry_and_a_missing_entry_is_fine() -> None:
    secrets.put(MemoryKeyring(), "ROW-1", "s3cret")
    secrets.delete(MEMORY, "ROW-1")
    assert secrets.get(MEMORY, "ROW-1") is None
    secrets.delete(MEMORY, "ROW-1")


def test_delete_through_a_locked_keyring_is_a_secret_store_error() -> None:
    with pytest.raises(SecretStoreError, match="^the keyring is locked; the secret is only in"):
        secrets.delete(secrets.KEYRING_PREFIX + path_of(UndeletableKeyring), "ROW-1")


def test_forget_warns_on_one_stderr_line_instead_of_failing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secrets.forget(secrets.KEYRING_PREFIX + path_of(UndeletableKeyring), "ROW-1")
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "could not delete the old keyring entry" in err


@pytest.mark.parametrize(
    "name",
    [
        "keyring.backends.null.Keyring",
        "keyring.backends.fail.Keyring",
        path_of(PlaintextMemoryKeyring),
    ],
)
def test_backends_that_lose_or_expose_secrets_are_refused(name: str) -> None:
    with pytest.raises(SecretStoreError, match="cannot keep secrets safely"):
        secrets.backend_for(secrets.KEYRING_PREFIX + name)


def test_a_backend_that_cannot_be_imported_is_named_in_the_error() -> None:
    with pytest.raises(SecretStoreError, match="no.such.Backend is not available"):
        secrets.backend_for(secrets.KEYRING_PREFIX + "no.such.Backend")


def test_write_backend_is_the_one_keyring_chooses(use_keyring: Callable[[type], None]) -> None:
    use_keyring(MemoryKeyring)
    backend = secrets.write_backend()
    assert secrets.class_path(backend) == path_of(MemoryKeyring)


@pytest.mark.parametrize(
    "refused", ["keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"]
)
def test_write_backend_refuses_a_keyring_that_keeps_nothing(
    refused: str, use_keyring: Callable[[type], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_keyring(MemoryKeyring)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", refused)
    with pytest.raises(SecretStoreError, match="cannot keep secrets safely|no usable keyring"):
        secrets.write_backend()
