"""Through a real dockerd: pull, push, login and the legacy build use ReadyStackGo's rows."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from .rsgdb import add_registry, create_database, registry_rows
from .sandbox import Sandbox, output

pytestmark = pytest.mark.e2e

REFUSED = re.compile(r"unauthorized|authentication required|no basic auth credentials", re.I)
WIRINGS = ("credHelpers", "credsStore")


def _wire(sandbox: Sandbox, wiring: str) -> None:
    """Route the registry to the helper with `credHelpers` or with `credsStore`."""
    if wiring == "credHelpers":
        sandbox.use_cred_helpers()
    else:
        sandbox.use_creds_store()


def _readystackgo_row(sandbox: Sandbox, password: str, *, readystackgo: bool = False) -> None:
    """One admin row as ReadyStackGo writes it: http URL with scheme, patterns as JSON."""
    create_database(sandbox.db, readystackgo=readystackgo)
    add_registry(
        sandbox.db,
        "Local registry",
        sandbox.registry.url,
        "alice",
        password,
        ["team/*", "team-a/**"],
    )


def _unique(repo: str) -> str:
    """A repository name no other test uses (the registry is shared by the session)."""
    return f"{repo}-{uuid.uuid4().hex[:8]}"


def _pull_push(sandbox: Sandbox) -> tuple[str, str]:
    """`docker pull` the seeded image, tag it into a fresh repository, `docker push` it."""
    host = sandbox.registry.host
    pull = sandbox.run(["docker", "pull", f"{host}/team/app:1"])
    target = f"{host}/{_unique('team/pushed')}:1"
    tag = sandbox.run(["docker", "tag", f"{host}/team/app:1", target])
    push = sandbox.run(["docker", "push", target]) if tag.returncode == 0 else tag
    return output(pull), output(push)


@pytest.mark.parametrize("wiring", WIRINGS)
def test_dockerd_pull_push_login_use_readystackgo_row(daemon_sandbox: Sandbox, wiring: str) -> None:
    """Scenarios 3/4: dockerd pulls, pushes and logs in with a row written by raw SQL."""
    sandbox = daemon_sandbox
    _wire(sandbox, wiring)
    _readystackgo_row(sandbox, "s3cret-a")
    mark = sandbox.registry.log_mark()

    pull, push = _pull_push(sandbox)
    assert pull.startswith("rc=0"), pull
    assert push.startswith("rc=0"), push
    # no -u: the CLI asks the helper (`get`), the daemon checks it (/auth), the CLI `store`s it
    login = sandbox.run(["docker", "login", sandbox.registry.host])
    assert login.returncode == 0, output(login)
    assert "Login Succeeded" in login.stdout
    assert sandbox.registry.users_seen(mark) == {"alice"}
    admin = [row for row in registry_rows(sandbox.db) if row["Name"] == "Local registry"]
    assert [(r["Username"], r["Password"]) for r in admin] == [("alice", "s3cret-a")]


@pytest.mark.parametrize("wiring", WIRINGS)
def test_dockerd_refused_with_wrong_row_password(daemon_sandbox: Sandbox, wiring: str) -> None:
    """Scenarios 3/4, negative: a row with a wrong password gets pull and push refused."""
    sandbox = daemon_sandbox
    _wire(sandbox, wiring)
    _readystackgo_row(sandbox, "not-the-password")
    mark = sandbox.registry.log_mark()

    pull, push = _pull_push(sandbox)
    assert not pull.startswith("rc=0") and REFUSED.search(pull), pull
    assert not push.startswith("rc=0") and REFUSED.search(push), push
    assert sandbox.registry.users_seen(mark) == set()


@pytest.mark.parametrize("wiring", WIRINGS)
def test_dockerd_readystackgo_database_pulls_but_refuses_login(
    daemon_sandbox: Sandbox, wiring: str
) -> None:
    """Scenario 3: with __EFMigrationsHistory pulls work; `docker login` shows our refusal."""
    sandbox = daemon_sandbox
    _wire(sandbox, wiring)
    _readystackgo_row(sandbox, "s3cret-a", readystackgo=True)
    before = registry_rows(sandbox.db)
    mark = sandbox.registry.log_mark()

    pull = sandbox.run(["docker", "pull", f"{sandbox.registry.host}/team/app:1"])
    assert pull.returncode == 0, output(pull)
    assert sandbox.registry.users_seen(mark) == {"alice"}

    login = sandbox.run(
        ["docker", "login", "-u", "bob", "--password-stdin", sandbox.registry.host],
        stdin="s3cret-b\n",
    )
    assert login.returncode != 0, output(login)
    assert "ReadyStackGo" in output(login)
    assert "error storing credentials" in output(login)
    logout = sandbox.run(["docker", "logout", sandbox.registry.host])
    assert logout.returncode == 0, output(logout)  # the CLI ignores erase failures
    assert registry_rows(sandbox.db) == before  # neither login nor logout changed the table


def _build_context(sandbox: Sandbox, repo: str) -> Path:
    """A legacy-builder context: FROM the private image, COPY one file (no RUN: no shell)."""
    context = sandbox.root / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {sandbox.registry.host}/{repo}:1\nCOPY note.txt /note.txt\n"
    )
    (context / "note.txt").write_text("built by the readystack e2e suite\n")
    return context


def _legacy_build(sandbox: Sandbox) -> tuple[str, set[str]]:
    """`DOCKER_BUILDKIT=0 docker build --pull` FROM a fresh private image: (output, users seen)."""
    repo = _unique("team/base")
    sandbox.registry.seed(repo, "1")
    context = _build_context(sandbox, repo)
    mark = sandbox.registry.log_mark()
    proc = sandbox.run(
        ["docker", "build", "--pull", "-t", f"local/{_unique('built')}:1", str(context)],
        env={"DOCKER_BUILDKIT": "0"},
        timeout=120,
    )
    return output(proc), sandbox.registry.users_seen(mark)


def test_legacy_build_from_private_image_with_creds_store(daemon_sandbox: Sandbox) -> None:
    """Scenario 4: the legacy builder (`list`, then `get` per key) pulls FROM a private image."""
    sandbox = daemon_sandbox
    sandbox.use_creds_store()
    _readystackgo_row(sandbox, "s3cret-a")
    log = sandbox.spy_on_helper()
    text, users = _legacy_build(sandbox)
    assert text.startswith("rc=0"), text
    assert "Successfully built" in text
    assert users == {"alice"}
    verbs = [verb for _, verb, _ in sandbox.calls(log)]
    assert verbs[:1] == ["list"] and "get" in verbs, verbs


def test_legacy_build_refused_without_credentials(daemon_sandbox: Sandbox) -> None:
    """Scenario 4, negative: with no row the private FROM image cannot be pulled."""
    sandbox = daemon_sandbox
    sandbox.use_creds_store()
    create_database(sandbox.db)
    text, users = _legacy_build(sandbox)
    assert not text.startswith("rc=0") and REFUSED.search(text), text
    assert users == set()


def _compose_pull(sandbox: Sandbox) -> str:
    """`docker-compose pull` (Debian's v1) of a project whose only service is private."""
    project = sandbox.root / "compose"
    project.mkdir()
    (project / "docker-compose.yml").write_text(
        f"version: '2.4'\nservices:\n  app:\n    image: {sandbox.registry.host}/team/app:1\n"
    )
    proc = sandbox.run(
        ["docker-compose", "--no-ansi", "-p", _unique("rse2e"), "pull"], cwd=project, timeout=120
    )
    return output(proc)


def test_compose_pull_private_image(daemon_sandbox: Sandbox) -> None:
    """Scenario 7: docker-compose v1 pulls a private image with the helper's credentials."""
    sandbox = daemon_sandbox
    sandbox.use_cred_helpers()
    _readystackgo_row(sandbox, "s3cret-a")
    mark = sandbox.registry.log_mark()
    text = _compose_pull(sandbox)
    assert text.startswith("rc=0"), text
    assert sandbox.registry.users_seen(mark) == {"alice"}


def test_compose_pull_refused_without_credentials(daemon_sandbox: Sandbox) -> None:
    """Scenario 7, negative: without a row docker-compose's pull is refused."""
    sandbox = daemon_sandbox
    sandbox.use_cred_helpers()
    mark = sandbox.registry.log_mark()
    text = _compose_pull(sandbox)
    assert not text.startswith("rc=0") and REFUSED.search(text), text
    assert sandbox.registry.users_seen(mark) == set()
