"""The image hint through the real executable, run by a parent whose argv is a docker command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import Run

HOST = "127.0.0.1:5055"
OTHER_HOST = "127.0.0.1:6000"
# The fake parent: a Python script saved under the docker verb's name, so that its process's
# /proc/<pid>/cmdline is exactly `docker <verb> ...`; it runs the helper as its direct child, as
# the docker CLI does, with stdin and stdout passed through.
PARENT = """\
import os, subprocess, sys
env = dict(os.environ)
env.pop("PYTHONHOME", None)
helper = env.pop("FAKE_DOCKER_HELPER")
sys.exit(subprocess.run([helper, "get"], env=env).returncode)
"""

if not sys.platform.startswith("linux"):
    pytest.skip("the image hint reads /proc (Linux only)", allow_module_level=True)


@pytest.fixture
def company(run: Run) -> None:
    """ReadyStackGo's example: a company row with a pattern and the default row, one host."""
    for name, user, extra in (
        ("Company", "alice", ("--pattern", "team/*")),
        ("Default", "bob", ("--default",)),
    ):
        proc = run(
            "registry", "add", name, "--url", f"http://{HOST}", "--username", user,
            *extra, "--password-stdin", stdin=f"{user}-pw\n".encode(),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr


def docker_parent(
    tmp_path: Path, exe: Path, env: dict[str, str], argv: list[str], stdin: bytes, **extra: str
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` (argv[0] included) as the parent of `helper get`; return the parent."""
    scripts = tmp_path / "parent"
    scripts.mkdir(exist_ok=True)
    script = argv[1] if argv[1] != "-c" else None
    if script is not None:
        (scripts / script).write_text(PARENT)
    full = [*argv[:2], PARENT, *argv[2:]] if script is None else argv
    parent_env = {
        **env,
        **extra,
        "FAKE_DOCKER_HELPER": str(exe),
        # argv[0] is no interpreter path, so the interpreter is told where its library is.
        "PYTHONHOME": sys.base_prefix,
    }
    return subprocess.run(
        full,
        executable=sys.executable,
        cwd=scripts,
        input=stdin,
        capture_output=True,
        env=parent_env,
        timeout=60,
    )


def username(proc: subprocess.CompletedProcess[bytes]) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)["Username"]


@pytest.mark.usefixtures("company")
@pytest.mark.parametrize(
    ("argv", "user"),
    [
        (["docker", "pull", f"{HOST}/team/app:1"], "alice"),
        (["docker", "pull", f"{HOST}/other/app"], "bob"),
        (["/usr/local/bin/docker", "push", f"{HOST}/team/app"], "alice"),
        (["docker", "run", "-e", "A=1", "--name", "w", "-it", f"{HOST}/team/app", "sh"], "alice"),
        (["docker", "image", "push", f"{HOST}/team/app:2"], "alice"),
        (["docker", "container", "create", f"{HOST}/other/app"], "bob"),
        (["docker", "manifest", "inspect", "--insecure", f"{HOST}/team/app:1"], "alice"),
        # a global option before the verb: `-c CONTEXT` (here the parent's own code)
        (["docker", "-c", "pull", f"{HOST}/team/app"], "alice"),
        # another host on the command line changes nothing for the host asked
        (["docker", "pull", f"{OTHER_HOST}/team/app"], "bob"),
        (["docker", "pull", "team/app"], "bob"),  # Docker Hub, not the host asked
        # not the docker CLI, or nothing certain on its command line: the host ranking
        (["docker-compose", "pull", f"{HOST}/team/app"], "bob"),
        (["/usr/bin/notdocker", "pull", f"{HOST}/team/app"], "bob"),
        (["docker", "pull", "--frobnicate", f"{HOST}/team/app"], "bob"),
        (["docker", "build", "-t", f"{HOST}/team/app", "."], "bob"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_docker_parent_routes_by_its_image_on_the_host_asked(
    tmp_path: Path, exe: Path, env: dict[str, str], argv: list[str], user: str
) -> None:
    proc = docker_parent(tmp_path, exe, env, argv, HOST.encode())
    assert username(proc) == user


@pytest.mark.usefixtures("company")
def test_a_repository_question_ignores_the_parent(
    tmp_path: Path, exe: Path, env: dict[str, str]
) -> None:
    argv = ["docker", "pull", f"{HOST}/other/app"]
    proc = docker_parent(tmp_path, exe, env, argv, f"{HOST}/team/app".encode())
    assert username(proc) == "alice"


@pytest.mark.usefixtures("company")
@pytest.mark.parametrize("off", ["0", "false"])
def test_image_hint_zero_turns_it_off(
    tmp_path: Path, exe: Path, env: dict[str, str], off: str
) -> None:
    argv = ["docker", "pull", f"{HOST}/team/app"]
    proc = docker_parent(tmp_path, exe, env, argv, HOST.encode(), READYSTACK_IMAGE_HINT=off)
    assert username(proc) == "bob"


@pytest.mark.usefixtures("company")
def test_the_debug_log_says_when_the_hint_decided(
    tmp_path: Path, exe: Path, env: dict[str, str]
) -> None:
    log = tmp_path / "debug.log"
    argv = ["docker", "pull", f"{HOST}/team/app:1"]
    proc = docker_parent(tmp_path, exe, env, argv, HOST.encode(), READYSTACK_LOG_FILE=str(log))
    assert username(proc) == "alice"
    text = log.read_text()
    assert f"image hint: the docker command names 1 image(s) on {HOST}: team/app" in text
    assert f"repository team/app on host {HOST}" in text
    assert "alice-pw" not in text


def test_the_hint_is_not_read_on_a_host_without_patterns(
    tmp_path: Path, exe: Path, env: dict[str, str], run: Run
) -> None:
    for name, user, extra in (("Login-like", "carol", ()), ("Default", "bob", ("--default",))):
        proc = run(
            "registry", "add", name, "--url", f"http://{HOST}", "--username", user,
            *extra, "--password-stdin", stdin=b"pw\n",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    log = tmp_path / "debug.log"
    argv = ["docker", "pull", f"{HOST}/team/app"]
    proc = docker_parent(tmp_path, exe, env, argv, HOST.encode(), READYSTACK_LOG_FILE=str(log))
    assert username(proc) == "bob"
    assert "image hint" not in log.read_text()


def test_docker_hub_company_example(
    tmp_path: Path, exe: Path, env: dict[str, str], run: Run
) -> None:
    # ReadyStackGo's documented setup: `docker pull mycompany/app` must use the company account.
    for name, user, extra in (
        ("Docker Hub (Company)", "company", ("--pattern", "mycompany/*")),
        ("Default (Docker Hub)", "personal", ("--default",)),
    ):
        proc = run(
            "registry", "add", name, "--url", "https://index.docker.io/v1/", "--username", user,
            *extra, "--password-stdin", stdin=b"pw\n",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    hub = b"https://index.docker.io/v1/"
    for image, user in (
        ("mycompany/app", "company"),
        ("nginx", "personal"),
        ("index.docker.io/mycompany/app:1", "company"),  # a Hub alias names the same host
        ("docker.io/library/redis", "personal"),
    ):
        proc = docker_parent(tmp_path, exe, env, ["docker", "pull", image], hub)
        assert username(proc) == user, image


@pytest.mark.usefixtures("company")
def test_explain_shows_what_docker_pull_gets_and_who_gets_which_row(run: Run) -> None:
    proc = run("explain", f"{HOST}/team/app:1")
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    assert f"`docker pull {HOST}/team/app:1` sends only '{HOST}'" in text
    assert f"image hint: the docker command names 1 image(s) on {HOST}: team/app" in text
    assert (
        "clients: crane-style tools, the kubelet and "
        f"`docker pull|push|run {HOST}/team/app:1` (the image hint) get Registries row 'Company'; "
        "skopeo, podman and buildah naming it do as the docker CLI, and compose v2 when its "
        "project's images agree (`explain --compose`); buildx, docker-py and compose v1 send "
        "only the host and get Registries row 'Default' (the host ranking)"
    ) in text
    assert "alice-pw" not in text and "bob-pw" not in text


@pytest.mark.usefixtures("company")
def test_explain_with_the_hint_off_says_docker_gets_the_host_ranking(run: Run) -> None:
    proc = run("explain", f"{HOST}/team/app", READYSTACK_IMAGE_HINT="0")
    text = proc.stdout.decode()
    assert "image hint: none (turned off by READYSTACK_IMAGE_HINT=0); the host ranking" in text
    assert (
        "clients: crane-style tools and the kubelet get Registries row 'Company'; "
        f"`docker pull|push|run {HOST}/team/app` gets Registries row 'Default'"
    ) in text


def test_explain_tells_the_truth_about_a_repository_no_pattern_matches(run: Run) -> None:
    # The report: `team/*` alone answered `docker push HOST/other/app` while explain
    # said "not found". With the hint, docker gets what explain says; the host alone differs.
    proc = run(
        "registry", "add", "Company", "--url", f"http://{HOST}", "--username", "alice",
        "--pattern", "team/*", "--password-stdin", stdin=b"pw\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = run("explain", f"{HOST}/other/app").stdout.decode()
    assert (
        "clients: crane-style tools, the kubelet and "
        f"`docker pull|push|run {HOST}/other/app` (the image hint) get nothing (not found); "
        "skopeo, podman and buildah naming it do as the docker CLI, and compose v2 when its "
        "project's images agree (`explain --compose`); buildx, docker-py and compose v1 send "
        "only the host and get Registries row 'Company' (the host ranking)"
    ) in text


@pytest.mark.usefixtures("company")
def test_explain_of_the_host_says_who_sends_only_the_host(run: Run) -> None:
    text = run("explain", HOST).stdout.decode()
    assert "the host alone decided" in text
    assert "clients: only the host was asked, as buildx, docker-py, compose v1" in text


@pytest.mark.usefixtures("company")
def test_doctor_warns_where_clients_get_different_rows(run: Run) -> None:
    text = run("doctor").stdout.decode()
    warning = [line for line in text.splitlines() if "depends on the repository" in line]
    assert warning == [
        f"warning  {HOST}: the answer depends on the repository (rows 'Company', 'Default'): "
        "crane-style tools and the kubelet route by pattern, and so do the docker CLI, skopeo, "
        "podman and buildah (their command line) and docker compose v2 when its project's "
        "images agree on a row (the image hint, Linux; `explain --compose` shows a project's); "
        "buildx, docker-py and compose v1 send only the host and get 'Default'"
    ]


def test_doctor_does_not_warn_without_patterns(run: Run) -> None:
    for name in ("One", "Two"):
        proc = run(
            "registry", "add", name, "--url", f"http://{HOST}", "--username", name.lower(),
            "--password-stdin", stdin=b"pw\n",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    text = run("doctor").stdout.decode()
    assert "depends on the repository" not in text
    assert f"{HOST}: 2 rows ('One', 'Two'); every question gets 'One'" in text


@pytest.mark.usefixtures("company")
def test_image_hint_false_in_the_config_file_turns_it_off(
    tmp_path: Path, exe: Path, env: dict[str, str]
) -> None:
    config_home = tmp_path / "xdg-config"
    config = config_home / "docker-credential-readystack" / "config"
    config.parent.mkdir(parents=True)
    config.write_text("# no image hint here\nimage-hint = false\n")
    log = tmp_path / "debug.log"
    argv = ["docker", "pull", f"{HOST}/team/app"]
    extra = {"XDG_CONFIG_HOME": str(config_home), "READYSTACK_LOG_FILE": str(log)}
    proc = docker_parent(tmp_path, exe, env, argv, HOST.encode(), **extra)
    assert username(proc) == "bob"
    assert f"image hint: none (turned off by image-hint = false in {config})" in log.read_text()
    # The environment variable wins over the file.
    extra["READYSTACK_IMAGE_HINT"] = "1"
    proc = docker_parent(tmp_path, exe, env, argv, HOST.encode(), **extra)
    assert username(proc) == "alice"


def test_explain_compose_of_no_project_says_so(run: Run, tmp_path: Path) -> None:
    proc = run("explain", "--compose", str(tmp_path / "missing"))
    assert proc.returncode == 1
    assert "no such compose project folder or file" in proc.stderr.decode()
    assert proc.stdout == b""


def test_explain_needs_a_target_or_compose(run: Run) -> None:
    proc = run("explain")
    assert proc.returncode == 1 and "explain needs a TARGET (or --compose [PATH])" in (
        proc.stderr.decode()
    )
    proc = run("explain", "ghcr.io", "--compose")
    assert proc.returncode == 1 and "takes a PATH only" in proc.stderr.decode()
