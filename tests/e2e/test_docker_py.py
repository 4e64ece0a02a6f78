"""docker-py: the credentials `Store` API, and a high-level pull through dockerd."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from .dockerd import Dockerd
from .rsgdb import add_registry, create_database, registry_rows
from .sandbox import Sandbox
from .tools import unavailable

pytestmark = pytest.mark.e2e


@pytest.fixture
def docker_py(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """docker-py, with this process's PATH and DOCKER_CONFIG pointing into the sandbox."""
    # docker-py finds helpers with shutil.which and reads config.json from os.environ
    try:
        import docker
    except ImportError:
        unavailable("docker-py not installed: pip install docker (the `test` extra)")
    monkeypatch.setenv("PATH", sandbox.env["PATH"])
    monkeypatch.setenv("DOCKER_CONFIG", sandbox.env["DOCKER_CONFIG"])
    return docker


def test_docker_py_store_get_store_list_erase(sandbox: Sandbox, docker_py: ModuleType) -> None:
    """Scenario 6: `Store('readystack')` round-trips store, get, list and erase."""
    store = docker_py.credentials.Store("readystack", environment=sandbox.env)
    host = sandbox.registry.host
    store.store(server=host, username="alice", secret="s3cret-a")
    answer = store.get(host)
    assert (answer["Username"], answer["Secret"]) == ("alice", "s3cret-a")
    listed = store.list()
    assert list(listed.values()) == ["alice"], listed
    key = next(iter(listed))
    assert store.get(key)["Username"] == "alice"  # list keys are valid `get` arguments
    assert [r["Username"] for r in registry_rows(sandbox.db)] == ["alice"]

    store.erase(host)
    with pytest.raises(docker_py.credentials.errors.CredentialsNotFound):
        store.get(host)
    assert store.list() == {}
    assert registry_rows(sandbox.db) == []


def test_docker_py_store_get_unknown_is_not_found(sandbox: Sandbox, docker_py: ModuleType) -> None:
    """Scenario 6, negative: an unknown server raises CredentialsNotFound, not StoreError."""
    store = docker_py.credentials.Store("readystack", environment=sandbox.env)
    store.store(server=sandbox.registry.host, username="alice", secret="s3cret-a")
    with pytest.raises(docker_py.credentials.errors.CredentialsNotFound):
        store.get("other.example.com")
    with pytest.raises(docker_py.credentials.errors.CredentialsNotFound):
        store.get("127.0.0.1:1")
    assert store.list() != {}


def _client(sandbox: Sandbox, dockerd: Dockerd, docker_py: ModuleType) -> Any:
    """A docker-py client on the private dockerd, running helpers with the sandbox env."""
    sandbox.use_cred_helpers()
    return docker_py.DockerClient(base_url=dockerd.host, credstore_env=sandbox.env, timeout=60)


def test_docker_py_pull_through_dockerd(
    sandbox: Sandbox, dockerd: Dockerd, docker_py: ModuleType
) -> None:
    """Scenario 6: `images.pull` through dockerd sends the helper's credentials."""
    client = _client(sandbox, dockerd, docker_py)
    create_database(sandbox.db)
    add_registry(sandbox.db, "local", sandbox.registry.url, "alice", "s3cret-a", ["team/*"])
    mark = sandbox.registry.log_mark()
    try:
        image = client.images.pull(f"{sandbox.registry.host}/team/app", tag="1")
    finally:
        client.close()
    assert f"{sandbox.registry.host}/team/app:1" in image.tags
    assert sandbox.registry.users_seen(mark) == {"alice"}


def test_docker_py_pull_refused_without_row(
    sandbox: Sandbox, dockerd: Dockerd, docker_py: ModuleType
) -> None:
    """Scenario 6, negative: with an empty table dockerd refuses docker-py's pull."""
    client = _client(sandbox, dockerd, docker_py)
    create_database(sandbox.db)
    try:
        with pytest.raises(docker_py.errors.APIError, match="(?i)unauthorized|no basic auth"):
            client.images.pull(f"{sandbox.registry.host}/team/app", tag="1")
    finally:
        client.close()
