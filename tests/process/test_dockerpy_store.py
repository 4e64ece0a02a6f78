"""docker-py's credential-store client, a real client of the protocol, against the executable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

credentials = pytest.importorskip("docker.credentials", reason="docker-py: pip install '.[test]'")


@pytest.fixture
def store(exe: Path, env: dict[str, str], tmp_path: Path) -> credentials.Store:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "docker-credential-readystack").symlink_to(exe)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    old_path = os.environ["PATH"]
    os.environ["PATH"] = env["PATH"]  # Store() finds the program with shutil.which at creation
    try:
        return credentials.Store("readystack", environment=env)
    finally:
        os.environ["PATH"] = old_path


def test_dockerpy_store_get_list_erase(store: credentials.Store) -> None:
    with pytest.raises(credentials.CredentialsNotFound):
        store.get("registry.example.com:5000")
    store.store("registry.example.com:5000", "alice", "s3cret")
    assert store.get("registry.example.com:5000") == {
        "ServerURL": "registry.example.com:5000",
        "Username": "alice",
        "Secret": "s3cret",
    }
    assert store.list() == {"registry.example.com:5000": "alice"}
    store.erase("registry.example.com:5000")
    with pytest.raises(credentials.CredentialsNotFound):
        store.get("registry.example.com:5000")
    assert store.list() == {}


def test_dockerpy_hub_aliases_and_tokens(store: credentials.Store) -> None:
    store.store("https://index.docker.io/v1/", "<token>", "idtok")
    for server in ("https://index.docker.io/v1/", "docker.io", "index.docker.io"):
        assert store.get(server)["Secret"] == "idtok"
    assert store.list() == {"https://index.docker.io/v1/": "<token>"}


def test_dockerpy_store_error_is_a_store_error(store: credentials.Store) -> None:
    with pytest.raises(credentials.StoreError) as info:
        store.store("", "u", "p")
    assert "no credentials server URL" in str(info.value)
