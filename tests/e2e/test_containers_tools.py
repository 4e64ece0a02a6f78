"""skopeo and podman (containers/image): credHelpers in an auth file, or via DOCKER_CONFIG only."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Callable

import pytest

from .rsgdb import add_registry, create_database, registry_rows
from .sandbox import Sandbox, output

pytestmark = pytest.mark.e2e

REFUSED = re.compile(r"unauthorized|authentication required|invalid username/password", re.I)
MODES = ("authfile", "docker-config")


def _wire(sandbox: Sandbox, mode: str) -> list[str]:
    """Write the wiring for `mode`; returns the auth-file options the tools then need."""
    sandbox.use_cred_helpers()
    if mode == "authfile":
        return ["--authfile", str(sandbox.authfile)]
    sandbox.authfile.unlink()
    return []  # containers/image reads $DOCKER_CONFIG/config.json when no auth.json exists


def _row(sandbox: Sandbox) -> None:
    """The registry's row in ReadyStackGo's shape, with alice's credentials."""
    create_database(sandbox.db)
    add_registry(sandbox.db, "local", sandbox.registry.url, "alice", "s3cret-a", [])


def _skopeo(sandbox: Sandbox, *args: str, stdin: str | None = None) -> str:
    """Run skopeo in the sandbox; returns the combined output (first line `rc=N`)."""
    return output(sandbox.run(["skopeo", *args], stdin=stdin, timeout=60))


def _ok(proc_text: str) -> bool:
    """Whether a combined output came from a successful process."""
    return proc_text.startswith("rc=0\n")


def _image(sandbox: Sandbox, repo: str = "team/app") -> str:
    """A `docker://` reference to the registry."""
    return f"docker://{sandbox.registry.host}/{repo}:1"


@pytest.mark.parametrize("mode", MODES)
def test_skopeo_inspect_and_copy_use_helper(sandbox: Sandbox, mode: str) -> None:
    """Scenario 5: skopeo inspect and copy authenticate through credHelpers."""
    auth = _wire(sandbox, mode)
    _row(sandbox)
    mark = sandbox.registry.log_mark()
    inspect = _skopeo(sandbox, "inspect", "--tls-verify=false", *auth, _image(sandbox))
    assert _ok(inspect), inspect
    copy = _skopeo(
        sandbox,
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        *auth,
        _image(sandbox),
        _image(sandbox, f"team/copy-{uuid.uuid4().hex[:8]}"),
    )
    assert _ok(copy), copy
    assert sandbox.registry.users_seen(mark) == {"alice"}


@pytest.mark.parametrize("mode", MODES)
def test_skopeo_inspect_refused_without_row(sandbox: Sandbox, mode: str) -> None:
    """Scenario 5, negative: with an empty table skopeo is anonymous and refused."""
    auth = _wire(sandbox, mode)
    create_database(sandbox.db)
    mark = sandbox.registry.log_mark()
    inspect = _skopeo(sandbox, "inspect", "--tls-verify=false", *auth, _image(sandbox))
    assert not _ok(inspect) and REFUSED.search(inspect), inspect
    assert sandbox.registry.users_seen(mark) == set()


def test_skopeo_login_and_logout_go_through_helper(sandbox: Sandbox) -> None:
    """Scenario 5: `skopeo login` stores a row, `skopeo logout` erases it."""
    auth = _wire(sandbox, "authfile")
    host = sandbox.registry.host
    login = _login(_skopeo, sandbox, auth, "s3cret-a")
    assert _ok(login), login
    rows = registry_rows(sandbox.db)
    assert [(r["Username"], r["Password"]) for r in rows] == [("alice", "s3cret-a")]
    # the auth file keeps only the credHelpers wiring: no secret in it
    assert json.loads(sandbox.authfile.read_text()).get("auths", {}) == {}
    inspect = _skopeo(sandbox, "inspect", "--tls-verify=false", *auth, _image(sandbox))
    assert _ok(inspect), inspect

    logout = _skopeo(sandbox, "logout", *auth, host)
    assert _ok(logout), logout
    assert registry_rows(sandbox.db) == []
    assert sandbox.get(host) is None
    inspect = _skopeo(sandbox, "inspect", "--tls-verify=false", *auth, _image(sandbox))
    assert not _ok(inspect) and REFUSED.search(inspect), inspect


def _podman(sandbox: Sandbox, *args: str, stdin: str | None = None) -> str:
    """Run podman with sandboxed storage; returns the combined output."""
    proc: subprocess.CompletedProcess[str] = sandbox.podman(*args, stdin=stdin)
    return output(proc)


@pytest.mark.parametrize("mode", MODES)
def test_podman_pull_and_push_use_helper(sandbox: Sandbox, mode: str) -> None:
    """Scenario 5: podman pull and push authenticate through credHelpers."""
    auth = _wire(sandbox, mode)
    _row(sandbox)
    host = sandbox.registry.host
    mark = sandbox.registry.log_mark()
    pull = _podman(sandbox, "pull", "-q", "--tls-verify=false", *auth, f"{host}/team/app:1")
    assert _ok(pull), pull
    target = f"{host}/team/podman-{uuid.uuid4().hex[:8]}:1"
    tag = _podman(sandbox, "tag", f"{host}/team/app:1", target)
    assert _ok(tag), tag
    push = _podman(sandbox, "push", "-q", "--tls-verify=false", *auth, target)
    assert _ok(push), push
    assert sandbox.registry.users_seen(mark) == {"alice"}


@pytest.mark.parametrize("mode", MODES)
def test_podman_pull_refused_without_row(sandbox: Sandbox, mode: str) -> None:
    """Scenario 5, negative: with an empty table podman's pull is refused."""
    auth = _wire(sandbox, mode)
    create_database(sandbox.db)
    pull = _podman(
        sandbox, "pull", "-q", "--tls-verify=false", *auth, f"{sandbox.registry.host}/team/app:1"
    )
    assert not _ok(pull) and REFUSED.search(pull), pull


def test_podman_login_and_logout_go_through_helper(sandbox: Sandbox) -> None:
    """Scenario 5: `podman login` stores a row, `podman logout` erases it."""
    auth = _wire(sandbox, "authfile")
    host = sandbox.registry.host
    login = _login(_podman, sandbox, auth, "s3cret-a")
    assert _ok(login), login
    assert [r["Username"] for r in registry_rows(sandbox.db)] == ["alice"]
    pull = _podman(sandbox, "pull", "-q", "--tls-verify=false", *auth, f"{host}/team/app:1")
    assert _ok(pull), pull

    logout = _podman(sandbox, "logout", *auth, host)
    assert _ok(logout), logout
    assert registry_rows(sandbox.db) == []
    pull = _podman(sandbox, "pull", "-q", "--tls-verify=false", *auth, f"{host}/team/app:1")
    assert not _ok(pull) and REFUSED.search(pull), pull


def _login(run: Callable[..., str], sandbox: Sandbox, auth: list[str], password: str) -> str:
    """`skopeo login` / `podman login` as alice with the password on stdin."""
    args = ("login", "--tls-verify=false", *auth, "-u", "alice", "--password-stdin")
    return run(sandbox, *args, sandbox.registry.host, stdin=f"{password}\n")


@pytest.mark.parametrize("tool", ["skopeo", "podman"])
def test_login_wrong_password_stores_nothing(sandbox: Sandbox, tool: str) -> None:
    """Scenario 5, negative: a refused `skopeo login` / `podman login` stores no row."""
    run = _skopeo if tool == "skopeo" else _podman
    auth = _wire(sandbox, "authfile")
    login = _login(run, sandbox, auth, "wrong")
    assert not _ok(login) and REFUSED.search(login), login
    assert registry_rows(sandbox.db) == []
