"""READYSTACK_SECRETS=keyring: `docker login` keeps the secret in a real Secret Service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .rsgdb import registry_rows, side_rows
from .sandbox import Sandbox, output
from .secretservice import SecretService
from .tools import require_tool

pytestmark = pytest.mark.e2e

TOOLS = ("dbus-daemon", "dbus-send", "gnome-keyring-daemon")


@pytest.fixture
def secret_service(sandbox: Sandbox) -> Iterator[SecretService]:
    """An unlocked gnome-keyring on a private session bus, wired into the sandbox env."""
    service = SecretService(sandbox.root, sandbox.env, {t: require_tool(t) for t in TOOLS})
    service.start()
    sandbox.env["DBUS_SESSION_BUS_ADDRESS"] = service.address
    try:
        yield service
    finally:
        service.stop()


def _login(sandbox: Sandbox) -> str:
    """Client-side `docker login` as alice with secrets routed to the keyring."""
    sandbox.env["READYSTACK_SECRETS"] = "keyring"
    sandbox.use_cred_helpers()
    proc = sandbox.run(
        ["docker", "login", "-u", "alice", "--password-stdin", sandbox.registry.host],
        stdin="s3cret-a\n",
    )
    return output(proc)


def _files_containing(sandbox: Sandbox, secret: bytes) -> list[str]:
    """Sandbox files (outside the keyring's own encrypted store) that hold the secret in clear."""
    hits = []
    for path in sandbox.root.rglob("*"):
        if path.is_file() and not path.is_socket() and "keyrings" not in path.parts:
            try:
                if secret in path.read_bytes():
                    hits.append(str(path))
            except OSError:
                continue
    return hits


def test_docker_login_keeps_secret_in_secret_service(
    sandbox: Sandbox, secret_service: SecretService
) -> None:
    """With a Secret Service, the row has no Password and `get` reads the keyring."""
    text = _login(sandbox)
    assert text.startswith("rc=0"), text
    rows = registry_rows(sandbox.db)
    assert [(r["Username"], r["Password"]) for r in rows] == [("alice", None)]
    side = side_rows(sandbox.db)
    assert str(side[str(rows[0]["Id"])]["SecretStore"]).startswith("keyring:"), side
    assert _files_containing(sandbox, b"s3cret-a") == []

    answer = sandbox.get(sandbox.registry.host)
    assert answer is not None and (answer["Username"], answer["Secret"]) == ("alice", "s3cret-a")
    mark = sandbox.registry.log_mark()
    host = sandbox.registry.host
    inspect = sandbox.run(["docker", "manifest", "inspect", "--insecure", f"{host}/team/app:1"])
    assert inspect.returncode == 0, output(inspect)
    assert sandbox.registry.users_seen(mark) == {"alice"}

    logout = sandbox.run(["docker", "logout", host])
    assert logout.returncode == 0, output(logout)
    assert registry_rows(sandbox.db) == []
    assert sandbox.get(host) is None


def test_keyring_secrets_without_secret_service_store_nothing(sandbox: Sandbox) -> None:
    """Negative: with no usable keyring, `store` fails loudly and no secret lands in clear."""
    text = _login(sandbox)
    assert not text.startswith("rc=0"), text
    assert "error storing credentials" in text
    assert all(row["Password"] is None for row in registry_rows(sandbox.db))
    assert _files_containing(sandbox, b"s3cret-a") == []
