"""An in-memory keyring and the contract every keyring backend we use must keep.

`store/secrets.py` talks to a keyring backend through four calls: `get_password`,
`set_password`, `delete_password` (a missing entry raises `PasswordDeleteError`) and nothing else.
`KeyringContract` states that contract as tests, in the manner of keyring's own
`keyring.testing.backend.BackendBasicTests`: a test class inherits it and says which backend it
checks with `init_keyring()`. `tests/unit/test_secrets.py` runs it on `MemoryKeyring`, and
`tests/e2e/test_keyring.py` on the real Secret Service, so the fake is held to what the real
backend does.

The fakes are keyring backends named by their dotted path, the way a row records its backend
(`keyring:keyringcontract.MemoryKeyring`) and the way keyring loads one from
`PYTHON_KEYRING_BACKEND`. Every KeyringBackend subclass joins keyring's backend detection, so
each is usable only while that variable names it: no other test can end up with a fake.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterator
from typing import ClassVar

import pytest
from jaraco.classes.properties import classproperty
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError


def path_of(cls: type) -> str:
    """The dotted name keyring and our rows use for a backend class."""
    return f"{cls.__module__}.{cls.__qualname__}"


class MemoryKeyring(KeyringBackend):
    """get/set/delete_password in a dict shared by all instances (backends are made per call)."""

    store: ClassVar[dict[tuple[str, str], str]] = {}

    @classproperty
    def priority(cls) -> float:  # noqa: N805 - keyring's class property
        # Raising means "not viable" to keyring: never chosen unless named in the environment.
        if os.environ.get("PYTHON_KEYRING_BACKEND") != path_of(cls):
            raise RuntimeError(f"{path_of(cls)} is used only when PYTHON_KEYRING_BACKEND names it")
        return 1

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[service, username] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("no such entry")


class ForgetfulKeyring(MemoryKeyring):
    """Accepts every secret and keeps none (a keyring that silently drops writes)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        return None


class LockedKeyring(MemoryKeyring):
    """Every call fails the way a locked Secret Service collection does."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("collection is locked")


class UndeletableKeyring(MemoryKeyring):
    """Reads and writes, but refuses to delete (a collection locked after the read)."""

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("collection is locked")


class PlaintextMemoryKeyring(MemoryKeyring):
    """Works, but its name says it keeps secrets in plaintext: secrets.py must refuse it."""


# Characters that trip up backends: white space, punctuation, and text beyond ASCII.
DIFFICULT = string.whitespace + string.punctuation
UNICODE = "Съешь же ещё этих мягких французских булок ξεσκεπάζω 世界 \U0001f600"


class KeyringContract:
    """What secrets.py relies on from a keyring backend; subclasses define init_keyring()."""

    SERVICE = "docker-credential-readystack-contract"

    def init_keyring(self) -> object:
        raise NotImplementedError

    @pytest.fixture
    def keyring_ready(self) -> None:
        """Whatever the backend needs before it is used (a D-Bus session, say); nothing here."""

    @pytest.fixture(autouse=True)
    def _backend(self, keyring_ready: None) -> Iterator[None]:
        self.keyring = self.init_keyring()
        self.created: set[tuple[str, str]] = set()
        yield
        for service, user in self.created:
            try:
                self.keyring.delete_password(service, user)
            except PasswordDeleteError:
                pass

    def put(self, user: str, secret: str, service: str = SERVICE) -> None:
        self.keyring.set_password(service, user, secret)
        self.created.add((service, user))

    def test_a_missing_entry_reads_as_none(self) -> None:
        assert self.keyring.get_password(self.SERVICE, "nobody-here") is None

    def test_set_then_get_reads_the_secret_back(self) -> None:
        self.put("alice", "s3cret")
        assert self.keyring.get_password(self.SERVICE, "alice") == "s3cret"

    def test_a_second_set_replaces_the_first(self) -> None:
        self.put("alice", "old")
        self.put("alice", "new")
        assert self.keyring.get_password(self.SERVICE, "alice") == "new"

    def test_an_empty_secret_is_kept_as_empty_not_missing(self) -> None:
        self.put("alice", "")
        assert self.keyring.get_password(self.SERVICE, "alice") == ""

    def test_difficult_characters_survive(self) -> None:
        self.put("user " + DIFFICULT, "secret " + DIFFICULT)
        assert self.keyring.get_password(self.SERVICE, "user " + DIFFICULT) == "secret " + DIFFICULT

    def test_text_beyond_ascii_survives(self) -> None:
        self.put(UNICODE, UNICODE[::-1])
        assert self.keyring.get_password(self.SERVICE, UNICODE) == UNICODE[::-1]

    def test_delete_removes_the_entry(self) -> None:
        self.put("alice", "s3cret")
        self.keyring.delete_password(self.SERVICE, "alice")
        assert self.keyring.get_password(self.SERVICE, "alice") is None

    def test_deleting_a_missing_entry_raises_password_delete_error(self) -> None:
        with pytest.raises(PasswordDeleteError):
            self.keyring.delete_password(self.SERVICE, "nobody-here")

    def test_delete_leaves_the_other_users_entries(self) -> None:
        self.put("alice", "a")
        self.put("bob", "b")
        self.keyring.delete_password(self.SERVICE, "alice")
        assert self.keyring.get_password(self.SERVICE, "bob") == "b"

    def test_users_and_services_are_separate_entries(self) -> None:
        self.put("alice", "one")
        self.put("bob", "two")
        self.put("alice", "three", service=self.SERVICE + "-other")
        assert self.keyring.get_password(self.SERVICE, "alice") == "one"
        assert self.keyring.get_password(self.SERVICE, "bob") == "two"
        assert self.keyring.get_password(self.SERVICE + "-other", "alice") == "three"
