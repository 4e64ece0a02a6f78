"""The docker CLI without a daemon: client-side login, manifest inspect/push, logout, fallback."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .rsgdb import add_registry, create_database, registry_rows, side_rows
from .sandbox import NOT_FOUND, Sandbox, output

pytestmark = pytest.mark.e2e

GUID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
EF_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7}$")


def _login(sandbox: Sandbox, password: str) -> str:
    """`docker login -u alice --password-stdin HOST` (client-side: no daemon); returns output."""
    proc = sandbox.run(
        ["docker", "login", "-u", "alice", "--password-stdin", sandbox.registry.host],
        stdin=password + "\n",
    )
    assert (proc.returncode == 0) == (password == "s3cret-a"), output(proc)
    return output(proc)


def test_docker_cli_is_version_28(sandbox: Sandbox) -> None:
    """Client-side login without a daemon needs the docker CLI 28.x shipped with the image."""
    proc = sandbox.run(["docker", "--version"], timeout=30)
    assert proc.returncode == 0, output(proc)
    version = re.search(r"Docker version (\d+)\.", proc.stdout)
    assert version is not None and version.group(1) == "28", proc.stdout


def test_docker_login_without_daemon_stores_row(sandbox: Sandbox) -> None:
    """Scenario 1: client-side `docker login` stores through the helper into the table."""
    sandbox.use_cred_helpers()
    text = _login(sandbox, "s3cret-a")
    assert "Login Succeeded" in text

    rows = registry_rows(sandbox.db)
    assert len(rows) == 1, rows
    row = rows[0]
    url = urlsplit(str(row["Url"]))
    assert url.scheme in ("http", "https") and url.netloc == sandbox.registry.host, row
    assert (row["Username"], row["Password"]) == ("alice", "s3cret-a")
    assert json.loads(str(row["ImagePatterns"])) == []
    assert GUID.match(str(row["Id"])) and GUID.match(str(row["OrganizationId"])), row
    assert EF_TIMESTAMP.match(str(row["CreatedAt"])), row
    answer = sandbox.get(sandbox.registry.host)
    assert answer is not None and (answer["Username"], answer["Secret"]) == ("alice", "s3cret-a")
    # the CLI keeps only an empty marker in config.json: the secret lives in the helper's table
    auths = sandbox.docker_config_json().get("auths", {})
    assert isinstance(auths, dict) and "auth" not in auths.get(sandbox.registry.host, {})


def test_docker_login_wrong_password_stores_nothing(sandbox: Sandbox) -> None:
    """Scenario 1, negative: a login the registry refuses never reaches `store`."""
    sandbox.use_cred_helpers()
    text = _login(sandbox, "wrong-password")
    assert "401" in text
    assert registry_rows(sandbox.db) == []
    assert sandbox.get(sandbox.registry.host) is None


def test_docker_manifest_inspect_and_push_use_stored_credentials(sandbox: Sandbox) -> None:
    """Scenario 2: manifest inspect/create/push authenticate with what `docker login` stored."""
    sandbox.use_cred_helpers()
    _login(sandbox, "s3cret-a")
    host = sandbox.registry.host
    mark = sandbox.registry.log_mark()

    inspect = sandbox.run(["docker", "manifest", "inspect", "--insecure", f"{host}/team/app:1"])
    assert inspect.returncode == 0, output(inspect)
    assert json.loads(inspect.stdout)["schemaVersion"] == 2

    listed = f"{host}/team/list-{uuid.uuid4().hex[:8]}:1"
    create = sandbox.run(
        ["docker", "manifest", "create", "--insecure", listed, f"{host}/team/app:1"]
    )
    assert create.returncode == 0, output(create)
    push = sandbox.run(["docker", "manifest", "push", "--insecure", listed])
    assert push.returncode == 0, output(push)
    assert "sha256:" in push.stdout
    assert sandbox.registry.users_seen(mark) == {"alice"}


def test_docker_manifest_refused_after_logout(sandbox: Sandbox) -> None:
    """Scenario 2, negative: after `docker logout` (helper `erase`) inspect and push are refused."""
    sandbox.use_cred_helpers()
    _login(sandbox, "s3cret-a")
    host = sandbox.registry.host
    listed = f"{host}/team/list-{uuid.uuid4().hex[:8]}:1"
    create = sandbox.run(
        ["docker", "manifest", "create", "--insecure", listed, f"{host}/team/app:1"]
    )
    assert create.returncode == 0, output(create)

    logout = sandbox.run(["docker", "logout", host])
    assert logout.returncode == 0, output(logout)
    assert registry_rows(sandbox.db) == []
    assert sandbox.get(host) is None

    mark = sandbox.registry.log_mark()
    inspect = sandbox.run(["docker", "manifest", "inspect", "--insecure", f"{host}/team/app:1"])
    assert inspect.returncode != 0, output(inspect)  # the CLI words a 401 as "no such manifest"
    push = sandbox.run(["docker", "manifest", "push", "--insecure", listed])
    assert push.returncode != 0, output(push)
    assert re.search(r"unauthorized|no basic auth credentials", output(push)), output(push)
    assert sandbox.registry.users_seen(mark) == set()


@pytest.mark.parametrize("readonly", ["", "1"])
def test_readystackgo_database_is_never_changed_by_login(sandbox: Sandbox, readonly: str) -> None:
    """A ReadyStackGo database refuses `store`; READYSTACK_READONLY=1 turns that into a no-op."""
    sandbox.use_cred_helpers()
    create_database(sandbox.db, readystackgo=True)
    add_registry(sandbox.db, "Local", sandbox.registry.url, "bob", "s3cret-b", ["team-b/*"])
    before = registry_rows(sandbox.db)
    if readonly:
        sandbox.env["READYSTACK_READONLY"] = readonly
    proc = sandbox.run(
        ["docker", "login", "-u", "alice", "--password-stdin", sandbox.registry.host],
        stdin="s3cret-a\n",
    )
    if readonly:
        assert proc.returncode == 0, output(proc)
    else:
        assert proc.returncode != 0 and "ReadyStackGo" in output(proc), output(proc)
    assert registry_rows(sandbox.db) == before
    assert side_rows(sandbox.db) == {}


# what else the DOCKER__CONFIGPATH file says besides `auths`; HOST is the registry's host
FALLBACK_VARIANTS = {
    "auths-only": "{}",
    "creds-store-readystack": '{"credsStore": "readystack"}',
    "cred-helpers-readystack": '{"credHelpers": {"HOST": "readystack"}}',
    "creds-store-alias-of-readystack": '{"credsStore": "loop"}',
}


def _fallback_file(sandbox: Sandbox, variant: str, with_auths: bool) -> None:
    """Write the DOCKER__CONFIGPATH file (ReadyStackGo's Docker:ConfigPath) and point env at it."""
    host = sandbox.registry.host
    config: dict[str, object] = json.loads(FALLBACK_VARIANTS[variant].replace("HOST", host))
    if with_auths:
        token = base64.b64encode(b"alice:s3cret-a").decode()
        config["auths"] = {host: {"auth": token}}
    path = sandbox.root / "readystackgo-docker-config.json"
    path.write_text(json.dumps(config) + "\n")
    sandbox.env["DOCKER__CONFIGPATH"] = str(path)
    sandbox.use_creds_store()


def _assert_no_recursion(sandbox: Sandbox, log: Path) -> None:
    """The helper never ran itself, and a delegate (`loop` = readystack) never delegated again."""
    calls = sandbox.calls(log)
    top = [call for call in calls if call[2] == "0"]
    nested = [call for call in calls if call[2] != "0"]
    assert top and all(name == "readystack" for name, _, _ in top), calls
    assert all(name == "loop" and delegated == "1" for name, _, delegated in nested), calls
    assert len(nested) <= len(top), calls


@pytest.mark.parametrize("variant", sorted(FALLBACK_VARIANTS))
def test_fallback_config_path_serves_manifest_inspect(sandbox: Sandbox, variant: str) -> None:
    """Scenario 9: credentials only in DOCKER__CONFIGPATH work end to end, without recursion."""
    _fallback_file(sandbox, variant, with_auths=True)
    log = sandbox.spy_on_helper("readystack", "loop")  # `loop` is readystack under another name
    host = sandbox.registry.host
    mark = sandbox.registry.log_mark()
    started = time.monotonic()
    inspect = sandbox.run(
        ["docker", "manifest", "inspect", "--insecure", f"{host}/team/app:1"], timeout=30
    )
    elapsed = time.monotonic() - started
    assert inspect.returncode == 0, output(inspect)
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert sandbox.registry.users_seen(mark) == {"alice"}
    assert registry_rows(sandbox.db) == []  # nothing was copied into the table
    _assert_no_recursion(sandbox, log)


@pytest.mark.parametrize("variant", sorted(FALLBACK_VARIANTS))
def test_fallback_without_auths_is_not_found_quickly(sandbox: Sandbox, variant: str) -> None:
    """Scenario 9, negative: a fallback file naming readystack but holding no auths never loops."""
    _fallback_file(sandbox, variant, with_auths=False)
    log = sandbox.spy_on_helper("readystack", "loop")
    host = sandbox.registry.host
    started = time.monotonic()
    proc = sandbox.helper("get", host, timeout=20)
    assert proc.returncode == 1 and proc.stdout.rstrip("\n") == NOT_FOUND, output(proc)
    mark = sandbox.registry.log_mark()
    inspect = sandbox.run(
        ["docker", "manifest", "inspect", "--insecure", f"{host}/team/app:1"], timeout=30
    )
    elapsed = time.monotonic() - started
    assert inspect.returncode != 0, output(inspect)
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert sandbox.registry.users_seen(mark) == set()
    _assert_no_recursion(sandbox, log)
