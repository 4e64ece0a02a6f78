"""Shared fixtures for the unit tests: ReadyStackGo-shaped databases built with raw SQL."""

from __future__ import annotations

import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring.core
import pytest
from keyringcontract import (
    ForgetfulKeyring,
    LockedKeyring,
    MemoryKeyring,
    PlaintextMemoryKeyring,
    UndeletableKeyring,
    path_of,
)
from readystack.store import paths, secrets
from readystackgo import DDL, create_readystackgo_database

ORGANIZATIONS = """
CREATE TABLE "Organizations" ("Id" TEXT NOT NULL PRIMARY KEY, "Name" TEXT NOT NULL);
"""
SIDE = (
    'CREATE TABLE IF NOT EXISTS "ReadyStackHelper" ("RegistryId" TEXT NOT NULL PRIMARY KEY, '
    '"Origin" TEXT NOT NULL, "SecretStore" TEXT NOT NULL)'
)
ORG = "0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9"
ROOT_CONFIG_EXISTS = os.path.exists(paths.ROOT_DOCKER_CONFIG)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")  # test files: no fsync, keeps the suite fast
    return conn


class RsgDb:
    """A ReadyStackGo-shaped database file written with raw SQL (uppercase GUIDs, JSON arrays)."""

    def __init__(
        self,
        path: Path,
        *,
        readystackgo: bool = False,
        organizations: list[str] | None = None,
    ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if readystackgo:  # as EF Core creates it: WAL mode, migrations history, Organizations
            create_readystackgo_database(path, organization=ORG)
            return
        script = DDL
        if organizations is not None:
            script += ORGANIZATIONS
        conn = _connect(path)
        conn.executescript(script)
        for i, org in enumerate(organizations or []):
            conn.execute('INSERT INTO "Organizations" VALUES (?, ?)', (org, f"org{i}"))
        conn.commit()
        conn.close()

    def add(
        self,
        name: str,
        url: str,
        username: str | None = "",
        password: str | None = "",
        patterns: list[str] | str | None = None,
        *,
        default: bool = False,
        login: bool = False,
        org: str = ORG,
        secret_store: str = "database",
    ) -> str:
        """INSERT one row; username/password default to ``name.lower()`` and ``pw-<name>``."""
        row_id = str(uuid.uuid4()).upper()
        if username == "":
            username = name.lower()
        if password == "":
            password = f"pw-{name}"
        if patterns is None:
            patterns = []
        text = patterns if isinstance(patterns, str) else json.dumps(patterns)
        conn = _connect(self.path)
        conn.execute(
            'INSERT INTO "Registries" VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, 1)',
            (
                row_id,
                org,
                name,
                url,
                username,
                password,
                int(default),
                "2025-01-02 03:04:05.1234567",
                text,
            ),
        )
        if login or secret_store != "database":
            conn.execute(SIDE)
            conn.execute(
                'INSERT INTO "ReadyStackHelper" VALUES (?, ?, ?)',
                (row_id, "login" if login else "admin", secret_store),
            )
        conn.commit()
        conn.close()
        return row_id

    def count(self) -> int:
        conn = sqlite3.connect(self.path)
        try:
            return conn.execute('SELECT count(*) FROM "Registries"').fetchone()[0]
        finally:
            conn.close()


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """An environment of our own: a private HOME and database path, no Docker settings."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "READYSTACK_DB": str(tmp_path / "data" / "registries.db"),
    }


@pytest.fixture
def rsg(environ: dict[str, str]) -> RsgDb:
    """An empty ReadyStackGo-shaped database (no EF history) at the environ's READYSTACK_DB."""
    return RsgDb(Path(environ["READYSTACK_DB"]))


@pytest.fixture(scope="session")
def make_rsg() -> type[RsgDb]:
    """The RsgDb class, for tests that build a database of a particular shape."""
    return RsgDb


@pytest.fixture
def no_root_config() -> None:
    """Skip when /root/.docker/config.json exists: it is always a fallback candidate."""
    if ROOT_CONFIG_EXISTS:
        pytest.skip(f"{paths.ROOT_DOCKER_CONFIG} exists and would answer as a fallback")


FAKE_KEYRINGS = (
    MemoryKeyring,
    ForgetfulKeyring,
    LockedKeyring,
    UndeletableKeyring,
    PlaintextMemoryKeyring,
)


@pytest.fixture(autouse=True)
def allow_fake_keyrings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let rows name the in-memory fakes, for this test only.

    The product loads only keyring's own backends, from a fixed table; the unit tests add their
    fakes to that table the way a row would name them, so that the fakes stand in for a real one.
    """
    for fake in FAKE_KEYRINGS:
        monkeypatch.setitem(
            secrets.ALLOWED_BACKENDS, path_of(fake), (fake.__module__, fake.__qualname__)
        )


@pytest.fixture
def use_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[type], None]]:
    """A function that makes keyring use a given backend class for the rest of this test."""

    def choose(cls: type) -> None:
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", path_of(cls))
        # keyring keeps the backend it chose for the whole process: forget it (monkeypatch puts
        # it back afterwards), so that keyring chooses again from PYTHON_KEYRING_BACKEND.
        monkeypatch.setattr(keyring.core, "_keyring_backend", None)

    MemoryKeyring.store.clear()
    yield choose
    MemoryKeyring.store.clear()


@pytest.fixture
def runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private XDG_RUNTIME_DIR; the path of the helper's runtime folder in it (not made yet)."""
    base = tmp_path / "run"
    base.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    return base / "readystack"
