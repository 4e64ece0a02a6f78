"""Crane-style lookups (`get host/repository`): two accounts on one host, routed by pattern."""

from __future__ import annotations

import pytest

from .rsgdb import add_registry, create_database
from .sandbox import NOT_FOUND, Sandbox, output
from .tools import free_port

pytestmark = pytest.mark.e2e


def _two_accounts(sandbox: Sandbox) -> None:
    """alice for `team-a/*`, bob for `team-b/*`, both on the registry's URL (raw SQL rows)."""
    create_database(sandbox.db)
    url = sandbox.registry.url
    add_registry(sandbox.db, "team A", url, "alice", "s3cret-a", ["team-a/*"])
    add_registry(sandbox.db, "team B", url, "bob", "s3cret-b", ["team-b/*"])


@pytest.mark.parametrize(("repo", "user"), [("team-a/app", "alice"), ("team-b/app", "bob")])
def test_repository_lookup_routes_to_pattern_account(
    sandbox: Sandbox, repo: str, user: str
) -> None:
    """Scenario 8: each repository gets its own account, and the registry accepts it."""
    _two_accounts(sandbox)
    answer = sandbox.get(f"{sandbox.registry.host}/{repo}")
    assert answer is not None and answer["Username"] == user, answer

    mark = sandbox.registry.log_mark()
    status = sandbox.registry.get_manifest(repo, "1", (answer["Username"], answer["Secret"]))
    assert status == 200
    assert sandbox.registry.authorized(mark) == [(user, f"/v2/{repo}/manifests/1")]


def test_repository_lookup_routes_both_accounts_in_one_session(sandbox: Sandbox) -> None:
    """Scenario 8: alternating lookups never mix the two accounts up."""
    _two_accounts(sandbox)
    host = sandbox.registry.host
    mark = sandbox.registry.log_mark()
    for repo in ("team-a/app", "team-b/app", "team-a/app"):
        answer = sandbox.get(f"{host}/{repo}")
        assert answer is not None, repo
        auth = (answer["Username"], answer["Secret"])
        assert sandbox.registry.get_manifest(repo, "1", auth) == 200
    assert sandbox.registry.authorized(mark) == [
        ("alice", "/v2/team-a/app/manifests/1"),
        ("bob", "/v2/team-b/app/manifests/1"),
        ("alice", "/v2/team-a/app/manifests/1"),
    ]


@pytest.mark.parametrize(
    "target", ["other.example.com", "other.example.com/team-a/app", "https://other.example.com/"]
)
def test_pattern_naming_another_host_never_answers_there(sandbox: Sandbox, target: str) -> None:
    """Scenario 8, negative: `other.example.com/**` on our registry's row never leaks there."""
    create_database(sandbox.db)
    add_registry(
        sandbox.db,
        "misrouted",
        sandbox.registry.url,
        "alice",
        "s3cret-a",
        ["other.example.com/**"],
    )
    proc = sandbox.helper("get", target)
    assert proc.returncode == 1 and proc.stdout.rstrip("\n") == NOT_FOUND, output(proc)
    assert "s3cret-a" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("suffix", ["", "/team-a/app"])
def test_row_for_another_port_never_answers(sandbox: Sandbox, suffix: str) -> None:
    """Scenario 8, negative: a row for 127.0.0.1:OTHERPORT never answers for 127.0.0.1:PORT."""
    other = free_port()
    while other == sandbox.registry.port:
        other = free_port()
    create_database(sandbox.db)
    add_registry(
        sandbox.db, "other port", f"http://127.0.0.1:{other}", "alice", "s3cret-a", ["team-a/*"]
    )
    assert sandbox.get(f"127.0.0.1:{other}{suffix}") is not None  # the row itself is valid
    proc = sandbox.helper("get", f"{sandbox.registry.host}{suffix}")
    assert proc.returncode == 1 and proc.stdout.rstrip("\n") == NOT_FOUND, output(proc)
