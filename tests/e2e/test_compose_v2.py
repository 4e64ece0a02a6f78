"""docker compose v2, skopeo and podman route by pattern: one registry whose tokens grant by prefix.

Rows on one registry: Company `team/*` (alice), Default (bob), and for the split project Partner
`partner/*` (carol). The token server grants alice team/ and other/, bob only other/, carol
partner/ and other/: a pull that authenticated as the wrong account fails, and the registry's
debug log names the account of every request.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import tokenregistry
from .composev2 import find_compose_v2, project
from .dockerd import Dockerd
from .registry import Registry
from .rsgdb import add_registry, create_database
from .sandbox import Sandbox, output
from .tokenregistry import token_server
from .tokenserver import TokenServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the hint reads /proc"),
]

USERS = {"alice": "s3cret-a", "bob": "s3cret-b", "carol": "s3cret-c"}
GRANTS = {"alice": ["team", "other"], "bob": ["other"], "carol": ["partner", "other"]}
CONFIG_RUN = "image hint: running compose config"


@pytest.fixture(scope="module")
def tokens() -> Iterator[TokenServer]:
    """The token server: grants pull and push per user and repository prefix."""
    with token_server(USERS, GRANTS, "rse2e-ctokens-") as server:
        yield server


@pytest.fixture(scope="module")
def token_registry(tokens: TokenServer) -> Iterator[Registry]:
    """The CNCF registry with `auth: token`; seed() pushes with a token minted for alice."""
    with tokenregistry.token_registry(tokens, USERS, "rse2e-ctoken-", "alice") as server:
        yield server


@pytest.fixture(scope="module")
def compose_v2() -> Path:
    """The compose v2 binary, also installed where the docker CLI finds its plugins."""
    return find_compose_v2()


@pytest.fixture
def rows(helper_bin: Path, token_registry: Registry, dockerd: Dockerd) -> Iterator[Sandbox]:
    """A sandbox on the token registry and dockerd, with the Company and Default rows."""
    root = Path(tempfile.mkdtemp(prefix="rse2e-compose-"))
    try:
        sandbox = Sandbox(root, helper_bin, token_registry)
        sandbox.use_daemon(dockerd)
        create_database(sandbox.db)
        url = token_registry.url
        add_registry(sandbox.db, "Company", url, "alice", USERS["alice"], ["team/*"])
        add_registry(sandbox.db, "Default", url, "bob", USERS["bob"], [], is_default=True)
        sandbox.use_cred_helpers()
        log = root / "helper.log"
        sandbox.env["READYSTACK_LOG_FILE"] = str(log)
        yield sandbox
    finally:
        if not os.environ.get("KEEPIT"):
            shutil.rmtree(root, ignore_errors=True)


def _fresh(sandbox: Sandbox, repo: str) -> str:
    """A new tag of ``repo`` in the registry (no daemon holds it yet)."""
    tag = uuid.uuid4().hex[:10]
    sandbox.registry.seed(repo, tag)
    return f"{sandbox.registry.host}/{repo}:{tag}"


def _services(sandbox: Sandbox, **repos: str) -> dict[str, dict[str, object]]:
    return {
        name: {"image": _fresh(sandbox, repo), "command": ["sh"]} for name, repo in repos.items()
    }


def _users(sandbox: Sandbox, since: int) -> set[str]:
    seen = sandbox.registry.users_seen(since)
    assert seen, "the registry authenticated no request"
    return seen


def _config_runs(sandbox: Sandbox) -> int:
    log = sandbox.root / "helper.log"
    return log.read_text().count(CONFIG_RUN) if log.exists() else 0


def _pull(sandbox: Sandbox, args: list[str], **kwargs: object) -> set[str]:
    mark = sandbox.registry.log_mark()
    proc = sandbox.run(args, timeout=180, **kwargs)  # type: ignore[arg-type]
    assert proc.returncode == 0, output(proc)
    return _users(sandbox, mark)


def test_compose_pull_of_team_and_other_is_alice_throughout(
    rows: Sandbox, compose_v2: Path
) -> None:
    folder = rows.root / "proj"
    project(folder, _services(rows, app="team/app", db="other/db"))
    assert _pull(rows, ["docker", "compose", "pull"], cwd=folder) == {"alice"}
    assert _config_runs(rows) == 1


def test_compose_pull_with_the_hint_off_is_bob(rows: Sandbox, compose_v2: Path) -> None:
    folder = rows.root / "proj"
    project(folder, _services(rows, db="other/db", db2="other/db2"))
    users = _pull(
        rows, ["docker", "compose", "pull"], cwd=folder, env={"READYSTACK_IMAGE_HINT": "0"}
    )
    assert users == {"bob"}
    assert _config_runs(rows) == 0


def test_compose_pull_of_one_service(rows: Sandbox, compose_v2: Path) -> None:
    folder = rows.root / "proj"
    project(folder, _services(rows, app="team/app", db="other/db"))
    assert _pull(rows, ["docker", "compose", "pull", "app"], cwd=folder) == {"alice"}
    # Only the service named is pulled; other/db alone falls to the default row.
    assert _pull(rows, ["docker", "compose", "pull", "db"], cwd=folder) == {"bob"}


def test_compose_file_option_and_variable(rows: Sandbox, compose_v2: Path) -> None:
    path = project(rows.root / "elsewhere", _services(rows, app="team/app", db="other/db"), "x.yml")
    assert _pull(rows, ["docker", "compose", "-f", str(path), "pull"]) == {"alice"}
    assert _pull(rows, ["docker", "compose", "pull"], env={"COMPOSE_FILE": str(path)}) == {"alice"}


def test_compose_profiles(rows: Sandbox, compose_v2: Path) -> None:
    services = _services(rows, app="team/app", db="other/db")
    services["db"]["profiles"] = ["extra"]
    folder = rows.root / "proj"
    project(folder, services)
    assert _pull(rows, ["docker", "compose", "--profile", "extra", "pull"], cwd=folder) == {"alice"}
    env = {"COMPOSE_PROFILES": "extra"}
    assert _pull(rows, ["docker", "compose", "pull"], cwd=folder, env=env) == {"alice"}


def test_compose_up_pulls_as_alice(rows: Sandbox, compose_v2: Path) -> None:
    folder = rows.root / "proj"
    services = _services(rows, app="team/app", db="other/db")
    project(folder, services)
    mark = rows.registry.log_mark()
    # The images hold no program, so the containers cannot start: only the pulls count.
    rows.run(["docker", "compose", "up", "-d"], cwd=folder, timeout=180)
    for service in services.values():
        inspect = rows.run(["docker", "image", "inspect", str(service["image"])])
        assert inspect.returncode == 0, output(inspect)
    assert _users(rows, mark) == {"alice"}
    rows.run(["docker", "compose", "down"], cwd=folder, timeout=120)


def test_standalone_compose_v2(rows: Sandbox, compose_v2: Path) -> None:
    folder = rows.root / "proj"
    project(folder, _services(rows, app="team/app", db="other/db"))
    assert _pull(rows, [str(compose_v2), "pull"], cwd=folder) == {"alice"}


def test_a_split_project_falls_back_to_the_host_ranking(rows: Sandbox, compose_v2: Path) -> None:
    add_registry(rows.db, "Partner", rows.registry.url, "carol", USERS["carol"], ["partner/*"])
    folder = rows.root / "proj"
    project(folder, _services(rows, app="team/app", x="partner/x"))
    mark = rows.registry.log_mark()
    proc = rows.run(["docker", "compose", "pull"], cwd=folder, timeout=180)
    # The default row (bob) answers every call: neither image is his to pull.
    assert proc.returncode != 0, output(proc)
    assert rows.registry.users_seen(mark) <= {"bob"}
    explain = rows.run(["docker-credential-readystack", "explain", "--compose", str(folder)])
    assert explain.returncode == 0, output(explain)
    for word in ("Company", "Partner", "docker compose pull app", "docker compose pull x"):
        assert word in explain.stdout, output(explain)
    # Pulled on their own, each service gets its row.
    assert _pull(rows, ["docker", "compose", "pull", "app"], cwd=folder) == {"alice"}
    assert _pull(rows, ["docker", "compose", "pull", "x"], cwd=folder) == {"carol"}


def test_one_config_run_for_eight_images(rows: Sandbox, compose_v2: Path) -> None:
    repos = {f"t{i}": f"team/app{i}" for i in range(4)} | {
        f"o{i}": f"other/db{i}" for i in range(4)
    }
    folder = rows.root / "proj"
    project(folder, _services(rows, **repos))
    assert _pull(rows, ["docker", "compose", "pull"], cwd=folder) == {"alice"}
    log = (rows.root / "helper.log").read_text()
    assert log.count("image hint: the compose command names") == 8, log
    assert _config_runs(rows) == 1, log


@pytest.mark.parametrize(("repo", "user"), [("team/app", "alice"), ("other/app", "bob")])
def test_skopeo_inspect_and_copy(rows: Sandbox, repo: str, user: str) -> None:
    image = _fresh(rows, repo)
    auth = ["--authfile", str(rows.authfile)]
    mark = rows.registry.log_mark()
    inspect = rows.run(["skopeo", "inspect", "--tls-verify=false", *auth, f"docker://{image}"])
    assert inspect.returncode == 0, output(inspect)
    copy = rows.run(
        ["skopeo", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", *auth,
         f"docker://{image}", f"docker://{rows.registry.host}/{repo}-copy:{uuid.uuid4().hex[:8]}"]
    )  # fmt: skip
    assert copy.returncode == 0, output(copy)
    assert _users(rows, mark) == {user}


@pytest.mark.parametrize(("repo", "user"), [("team/app", "alice"), ("other/app", "bob")])
def test_podman_pull(rows: Sandbox, repo: str, user: str) -> None:
    image = _fresh(rows, repo)
    mark = rows.registry.log_mark()
    pull = rows.podman("pull", "--tls-verify=false", "--authfile", str(rows.authfile), image)
    assert pull.returncode == 0, output(pull)
    assert _users(rows, mark) == {user}


@pytest.mark.parametrize(("repo", "user"), [("team/app", "alice"), ("other/app", "bob")])
def test_buildah_pull(rows: Sandbox, repo: str, user: str) -> None:
    image = _fresh(rows, repo)
    base = rows.root / "buildah"
    storage = [
        "--root",
        str(base / "root"),
        "--runroot",
        str(base / "run"),
        "--storage-driver",
        "vfs",
    ]
    mark = rows.registry.log_mark()
    pull = rows.run(
        [
            "buildah",
            *storage,
            "pull",
            "--tls-verify=false",
            "--authfile",
            str(rows.authfile),
            image,
        ],
        timeout=120,
    )
    assert pull.returncode == 0, output(pull)
    assert _users(rows, mark) == {user}


def test_compose_v1_keeps_the_host_ranking(rows: Sandbox) -> None:
    # Debian's compose v1 is a Python script: its process is the interpreter, so no hint.
    folder = rows.root / "proj"
    project(folder, _services(rows, db="other/db", db2="other/db2"), "docker-compose.yml")
    mark = rows.registry.log_mark()
    proc = rows.run(["docker-compose", "--no-ansi", "pull"], cwd=folder, timeout=180)
    assert proc.returncode == 0, output(proc)
    assert _users(rows, mark) == {"bob"}
    assert _config_runs(rows) == 0
    assert (
        "image hint: none (the parent process is not a client"
        in (rows.root / "helper.log").read_text()
    )


def test_a_compose_file_on_standard_input_keeps_the_host_ranking(
    rows: Sandbox, compose_v2: Path
) -> None:
    services = _services(rows, db="other/db", app="team/app")
    text = project(rows.root / "proj", services).read_text()
    # A second run could not read standard input: no hint, so the default row (bob) answers
    # and cannot pull team/app.
    proc = rows.run(["docker", "compose", "-f", "-", "pull", "app"], stdin=text, cwd=rows.root)
    assert proc.returncode != 0, output(proc)
    log = (rows.root / "helper.log").read_text()
    assert "compose: the compose command line is not one whose images are certain" in log
    assert "for user 'bob'" in log and "for user 'alice'" not in log
    assert _config_runs(rows) == 0
