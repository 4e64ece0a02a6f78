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
from readystack.store.errors import SecretStoreError

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


def test_put_then_get_reads_the_secret_back_bound_to_the_host() -> None:
    label = secrets.put(MemoryKeyring(), "ROW-1", "r.io", "s3cret")
    assert label == MEMORY
    assert secrets.get(label, "ROW-1", "r.io") == ("s3cret", True)
    # A backend without attributes: the host is part of the key.
    assert MemoryKeyring.store == {(secrets.SERVICE, "ROW-1@r.io"): "s3cret"}


def test_get_of_a_missing_entry_is_none() -> None:
    assert secrets.get(MEMORY, "ROW-1", "r.io") == (None, False)


def test_an_entry_for_another_host_is_not_read() -> None:
    secrets.put(MemoryKeyring(), "ROW-1", "r.io", "s3cret")
    assert secrets.get(MEMORY, "ROW-1", "evil.example") == (None, False)


def test_an_unbound_entry_answers_and_rebind_binds_it() -> None:
    MemoryKeyring.store[secrets.SERVICE, "ROW-1"] = "old"  # as an earlier version wrote it
    assert secrets.get(MEMORY, "ROW-1", "r.io") == ("old", False)
    assert secrets.rebind(MEMORY, "ROW-1", "r.io", "r.io") is True
    assert MemoryKeyring.store == {(secrets.SERVICE, "ROW-1@r.io"): "old"}
    assert secrets.rebind(MEMORY, "ROW-1", "r.io", "r.io") is False
    assert secrets.rebind(MEMORY, "ROW-1", "r.io", "q.io") is True
    assert MemoryKeyring.store == {(secrets.SERVICE, "ROW-1@q.io"): "old"}


def test_rebind_of_a_missing_entry_is_an_error() -> None:
    with pytest.raises(SecretStoreError, match="missing"):
        secrets.rebind(MEMORY, "ROW-1", "r.io", "q.io")


def test_put_fails_when_the_keyring_does_not_keep_the_secret() -> None:
    with pytest.raises(SecretStoreError, match="did not keep the secret"):
        secrets.put(ForgetfulKeyring(), "ROW-1", "r.io", "s3cret")


def test_a_keyring_error_becomes_a_secret_store_error_without_the_secret() -> None:
    with pytest.raises(SecretStoreError) as caught:
        secrets.put(LockedKeyring(), "ROW-1", "r.io", "s3cret")
    message = str(caught.value)
    # The cause in words, never the exception's class name.
    assert message.startswith("the Secret Service's default collection is locked")
    assert "KeyringLocked" not in message
    assert "READYSTACK_SECRETS=database" in message
    assert "s3cret" not in message


def test_get_through_a_locked_keyring_is_a_secret_store_error() -> None:
    # Reading a secret back: only that keyring has it, so no advice to switch stores.
    with pytest.raises(SecretStoreError, match="^the keyring is locked; the secret is only in"):
        secrets.get(secrets.KEYRING_PREFIX + path_of(LockedKeyring), "ROW-1", "r.io")


def test_delete_removes_the_entry_and_a_missing_entry_is_fine() -> None:
    secrets.put(MemoryKeyring(), "ROW-1", "r.io", "s3cret")
    MemoryKeyring.store[secrets.SERVICE, "ROW-1"] = "old"
    secrets.delete(MEMORY, "ROW-1", "r.io")
    assert MemoryKeyring.store == {}
    secrets.delete(MEMORY, "ROW-1", "r.io")


def test_delete_through_a_locked_keyring_is_a_secret_store_error() -> None:
    with pytest.raises(SecretStoreError, match="^the keyring is locked; the secret is only in"):
        secrets.delete(secrets.KEYRING_PREFIX + path_of(UndeletableKeyring), "ROW-1", "r.io")


def test_forget_warns_on_one_stderr_line_instead_of_failing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    secrets.forget(secrets.KEYRING_PREFIX + path_of(UndeletableKeyring), "ROW-1", "r.io")
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "could not delete the old keyring entry" in err


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("keyring.backends.null.Keyring", "not one of keyring's own backends"),
        ("keyring.backends.fail.Keyring", "not one of keyring's own backends"),
        (path_of(PlaintextMemoryKeyring), "cannot keep secrets safely"),
    ],
)
def test_backends_that_lose_or_expose_secrets_are_refused(name: str, why: str) -> None:
    with pytest.raises(SecretStoreError, match=why):
        secrets.backend_for(secrets.KEYRING_PREFIX + name)


@pytest.mark.parametrize(
    "label",
    [
        "keyring:this.X",
        "keyring:os.abort",
        "keyring:signal.pause",
        "keyring:builtins.breakpoint",
        "keyring:keyring.backends.chainer.ChainerBackend",
        "keyring:no.such.Backend",
        "keyring:",
        "database",
    ],
)
def test_a_label_outside_the_allow_list_is_refused_without_importing_anything(
    label: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    def no_import(name: str, *args: object) -> None:
        raise AssertionError(f"imported {name}")

    monkeypatch.setattr(importlib, "import_module", no_import)
    with pytest.raises(SecretStoreError, match="not one of keyring's own backends"):
        secrets.backend_for(label)


def test_the_allow_list_names_only_classes_of_keyring_itself() -> None:
    real = {
        n: w for n, w in secrets.ALLOWED_BACKENDS.items() if not n.startswith("keyringcontract")
    }
    assert real and all(module.startswith("keyring.backends.") for module, _ in real.values())
    assert all(name == f"{module}.{cls}" for name, (module, cls) in real.items())


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
