"""The image hint with the real docker CLI and dockerd: one host, two accounts, by repository."""

from __future__ import annotations

import sys
import uuid

import pytest

from .rsgdb import add_registry, create_database
from .sandbox import Sandbox, output

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the hint reads /proc"),
]


def _company_and_default(sandbox: Sandbox) -> None:
    """ReadyStackGo's example on the local registry: `team/*` is alice's, the default is bob's."""
    create_database(sandbox.db)
    url = sandbox.registry.url
    add_registry(sandbox.db, "Company", url, "alice", "s3cret-a", ["team/*"])
    add_registry(sandbox.db, "Default", url, "bob", "s3cret-b", [], is_default=True)
    sandbox.use_cred_helpers()


def _users(sandbox: Sandbox, since: int) -> set[str]:
    requests = sandbox.registry.authorized(since)
    assert requests, "the registry authenticated no request"
    return {user for user, _ in requests}


def _fresh(sandbox: Sandbox, repo: str) -> str:
    """A tag of ``repo`` that no daemon holds yet, so that `docker run` has to pull it."""
    tag = uuid.uuid4().hex[:10]
    sandbox.registry.seed(repo, tag)
    return f"{sandbox.registry.host}/{repo}:{tag}"


@pytest.mark.parametrize(("repo", "user"), [("team/app", "alice"), ("other/app", "bob")])
def test_docker_pull_authenticates_as_the_repositorys_row(
    daemon_sandbox: Sandbox, repo: str, user: str
) -> None:
    sandbox = daemon_sandbox
    _company_and_default(sandbox)
    image = _fresh(sandbox, repo)
    mark = sandbox.registry.log_mark()
    pull = sandbox.run(["docker", "pull", image])
    assert pull.returncode == 0, output(pull)
    assert _users(sandbox, mark) == {user}, sandbox.registry.authorized(mark)


@pytest.mark.parametrize(("repo", "user"), [("team/app", "alice"), ("other/app", "bob")])
def test_docker_push_authenticates_as_the_repositorys_row(
    daemon_sandbox: Sandbox, repo: str, user: str
) -> None:
    sandbox = daemon_sandbox
    _company_and_default(sandbox)
    source = _fresh(sandbox, "team/app")
    assert sandbox.run(["docker", "pull", source]).returncode == 0
    target = f"{sandbox.registry.host}/{repo}-{uuid.uuid4().hex[:8]}:1"
    assert sandbox.run(["docker", "tag", source, target]).returncode == 0
    mark = sandbox.registry.log_mark()
    push = sandbox.run(["docker", "push", target])
    assert push.returncode == 0, output(push)
    assert _users(sandbox, mark) == {user}, sandbox.registry.authorized(mark)


@pytest.mark.parametrize(("repo", "user"), [("team/app", "alice"), ("other/app", "bob")])
def test_docker_run_pulls_as_the_repositorys_row(
    daemon_sandbox: Sandbox, repo: str, user: str
) -> None:
    sandbox = daemon_sandbox
    _company_and_default(sandbox)
    image = _fresh(sandbox, repo)
    mark = sandbox.registry.log_mark()
    # The image holds no program, so the container itself cannot start: only the pull counts.
    run = sandbox.run(["docker", "run", "--rm", "--network", "none", "-e", "A=1", image])
    assert "Unable to find image" in run.stderr, output(run)
    assert sandbox.run(["docker", "image", "inspect", image]).returncode == 0, output(run)
    assert _users(sandbox, mark) == {user}, sandbox.registry.authorized(mark)


@pytest.mark.parametrize("repo", ["team/app", "other/app"])
def test_image_hint_zero_gives_the_host_ranking(daemon_sandbox: Sandbox, repo: str) -> None:
    sandbox = daemon_sandbox
    _company_and_default(sandbox)
    image = _fresh(sandbox, repo)
    mark = sandbox.registry.log_mark()
    pull = sandbox.run(["docker", "pull", image], env={"READYSTACK_IMAGE_HINT": "0"})
    assert pull.returncode == 0, output(pull)
    assert _users(sandbox, mark) == {"bob"}, sandbox.registry.authorized(mark)


def test_manifest_inspect_asks_as_the_repositorys_row(sandbox: Sandbox) -> None:
    # No daemon involved: the CLI itself talks to the registry.
    _company_and_default(sandbox)
    image = _fresh(sandbox, "team/app")
    mark = sandbox.registry.log_mark()
    inspect = sandbox.run(["docker", "manifest", "inspect", "--insecure", image])
    assert inspect.returncode == 0, output(inspect)
    assert _users(sandbox, mark) == {"alice"}, sandbox.registry.authorized(mark)


# Command lines whose candidate images each name their own host, so the host the real CLI asks
# its helper about shows which word the CLI took for the image. No daemon is needed: pull, push
# and manifest inspect ask for credentials before they reach the daemon or the registry.
CLI_LINES = [
    ["pull", "--platform", "127.0.0.1:1/a", "127.0.0.1:2/b"],
    ["pull", "-q", "127.0.0.1:3/c"],
    ["pull", "127.0.0.1:4/d", "-a"],
    ["pull", "--all-tags=false", "127.0.0.1:5/e"],
    ["pull", "-qa", "127.0.0.1:6/f"],
    ["pull", "--", "127.0.0.1:7/g"],
    ["-l", "debug", "pull", "127.0.0.1:8/h"],
    ["-D", "--tlsverify=false", "pull", "127.0.0.1:9/i"],
    ["-H", "unix:///nonexistent", "pull", "127.0.0.1:10/j"],
    ["--config", "{config}", "pull", "127.0.0.1:11/k"],
    ["-c", "default", "pull", "127.0.0.1:12/l"],
    ["--context=default", "image", "pull", "--platform=linux/amd64", "127.0.0.1:13/m"],
    ["push", "127.0.0.1:14/n"],
    ["image", "push", "-q", "127.0.0.1:15/o"],
    ["manifest", "inspect", "--insecure", "127.0.0.1:16/p"],
    ["manifest", "inspect", "-v", "127.0.0.1:17/q"],
]


def test_the_parser_reads_the_image_the_real_cli_reads(sandbox: Sandbox) -> None:
    from readystack.helper.lookup.dockerargv import image_operand

    log = sandbox.spy_helper()
    sandbox.write_docker_config({"credsStore": "spy"})
    for line in CLI_LINES:
        args = [word.format(config=sandbox.docker_config) for word in line]
        log.unlink(missing_ok=True)
        proc = sandbox.run(["docker", *args], timeout=60)
        asked = set(log.read_text().split()) if log.exists() else set()
        image = image_operand(["docker", *args])
        assert image is not None, args
        assert asked == {image.split("/", 1)[0]}, (args, output(proc))
