"""The image hint: when it is read, which repository it asks, and the guard on the host."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from readystack.helper.lookup import hint, resolver
from readystack.helper.lookup import target as targets
from readystack.store import registries

SERVER = targets.parse("127.0.0.1:5055")


def row(
    name: str, patterns: list[str] | None, *, default: bool = False, login: bool = False
) -> registries.Row:
    values = (
        name, name, "http://127.0.0.1:5055", name.lower(), "pw", default,
        "login" if login else "admin", "database", patterns is not None,
    )  # fmt: skip
    made = registries.Row(values)
    if patterns is not None:
        made.patterns = list(patterns)
    return made


@pytest.mark.parametrize(
    ("rows", "matters"),
    [
        ([], False),
        ([row("Login", [], login=True)], False),
        ([row("Login", [], login=True), row("Default", [], default=True)], False),
        ([row("A", []), row("B", [])], False),
        ([row("Company", ["team/*"]), row("Default", [], default=True)], True),
        ([row("Login", [], login=True), row("Team", ["team/**"])], True),
        # a lone pattern row answers the host but not a repository its patterns miss
        ([row("Only", ["acme/api"])], True),
        ([row("Only", None)], True),  # an unusable column: it answers the host only
        # a lone default or login row answers every question alike
        ([row("Default", ["team/*"], default=True)], False),
    ],
)
def test_repository_matters_only_where_rows_can_differ(
    rows: list[registries.Row], matters: bool
) -> None:
    assert resolver.repository_matters(rows) is matters


def test_rows_without_credentials_do_not_count() -> None:
    silent = row("Company", ["team/*"])
    silent.password = None
    assert not resolver.repository_matters([silent, row("Default", [], default=True)])


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["docker", "pull", "127.0.0.1:5055/team/app:1"], "team/app"),
        (["/usr/bin/docker", "run", "--rm", "127.0.0.1:5055/a/b@sha256:" + "0" * 64], "a/b"),
        (["docker", "pull", "127.0.0.1:5056/team/app"], None),  # another port is another host
        (["docker", "pull", "team/app"], None),  # Docker Hub
        (["dockerd", "pull", "127.0.0.1:5055/team/app"], None),
        (["/opt/docker/bin/docker-compose", "pull", "127.0.0.1:5055/team/app"], None),
        (["docker", "pull", "127.0.0.1:5055/Team/app"], None),  # invalid: upper case
        (["docker", "pull"], None),
        ([], None),
        (None, None),
    ],
)
def test_repository_only_for_an_image_on_the_host_asked(
    argv: list[str] | None, path: str | None
) -> None:
    notes: list[str] = []
    found = hint.references(SERVER, argv, notes.append)
    assert (found[0].path if found else None) == path
    if found:
        assert len(found) == 1
        assert (found[0].kind, found[0].host) == (targets.REPOSITORY, "127.0.0.1:5055")
    assert len(notes) == 1 and notes[0].startswith("image hint: ")


def test_hub_aliases_on_the_command_line_match_the_hub_server() -> None:
    hub = targets.parse("https://index.docker.io/v1/")
    for image in ("mycompany/app", "docker.io/mycompany/app", "registry-1.docker.io/mycompany/app"):
        found = hint.references(hub, ["docker", "pull", image], lambda _: None)
        assert found is not None and found[0].path == "mycompany/app", image


def test_an_invalid_operand_is_never_quoted() -> None:
    notes: list[str] = []
    assert hint.references(SERVER, ["docker", "pull", "user:s3cret@host/x"], notes.append) is None
    assert "s3cret" not in notes[0]


@pytest.mark.parametrize(("value", "on"), [("", True), ("1", True), ("0", False), ("false", False)])
def test_the_environment_variable_turns_it_off(tmp_path: Path, value: str, on: bool) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path), "READYSTACK_IMAGE_HINT": value}
    assert hint.enabled(environ) is on


def test_turned_off_the_parent_is_not_read(tmp_path: Path) -> None:
    environ = {"XDG_CONFIG_HOME": str(tmp_path), "READYSTACK_IMAGE_HINT": "0"}
    # No command line is read; what there is instead says why, for explain's trace.
    assert hint.docker_argv(environ) == "turned off by READYSTACK_IMAGE_HINT=0"


@pytest.mark.parametrize("argv0", ["docker", "/usr/local/bin/docker"])
def test_is_docker(argv0: str) -> None:
    assert hint.is_docker(argv0)


@pytest.mark.parametrize("argv0", ["", "dockerd", "/usr/bin/docker-compose", "mydocker", "docker/"])
def test_is_not_docker(argv0: str) -> None:
    assert not hint.is_docker(argv0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux only)")
def test_parent_argv_is_the_parents_command_line_word_for_word() -> None:
    code = "from readystack.helper.lookup.hint import parent_argv; print(repr(parent_argv()))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == repr(sys.orig_argv)


def _images(*paths: str) -> list[targets.Target]:
    return [targets.image(f"127.0.0.1:5055/{p}") for p in paths]


COMPANY = row("Company", ["team/*"])
PARTNER = row("Partner", ["partner/*"])
DEFAULT = row("Default", [], default=True)
LOGIN = row("Login", [], login=True)
PLAIN = row("Plain", [])


@pytest.mark.parametrize(
    ("rows", "paths", "winner"),
    [
        # one image: its own row (the docker CLI's case)
        ([COMPANY, DEFAULT], ["team/app"], "Company"),
        ([COMPANY, DEFAULT], ["other/db"], "Default"),
        # all on one row
        ([COMPANY, DEFAULT], ["team/app", "team/web"], "Company"),
        ([COMPANY, DEFAULT], ["other/db", "library/redis"], "Default"),
        # one pattern row, the rest on the default row: ReadyStackGo's example
        ([COMPANY, DEFAULT], ["team/app", "other/db"], "Company"),
        ([COMPANY, DEFAULT], ["other/db", "team/app", "x/y", "team/web"], "Company"),
        # two pattern rows: no agreement
        ([COMPANY, PARTNER, DEFAULT], ["team/app", "partner/x"], None),
        ([COMPANY, PARTNER, DEFAULT], ["team/app", "partner/x", "other/db"], None),
        # the rest falls to a login row or a row without patterns, not the default row
        ([COMPANY, LOGIN], ["team/app", "other/db"], None),
        ([COMPANY, PLAIN], ["team/app", "other/db"], None),
        # an image no row answers
        ([COMPANY], ["team/app", "other/db"], None),
    ],
)
def test_agreed_follows_the_one_rule(
    rows: list[registries.Row], paths: list[str], winner: str | None
) -> None:
    notes: list[str] = []
    found = resolver.agreed(rows, _images(*paths), notes.append)
    chosen = resolver.choose(rows, found) if found else None
    assert (chosen.name if chosen else None) == winner
    assert notes or len(paths) == 1


def test_the_hint_reads_only_images_on_the_host_asked() -> None:
    argv = ["skopeo", "copy", "docker://127.0.0.1:5055/team/app", "docker://ghcr.io/acme/app"]
    found = hint.references(SERVER, argv, lambda _: None)
    assert found is not None and [t.path for t in found] == ["team/app"]


@pytest.mark.parametrize(
    ("argv", "paths"),
    [
        (["podman", "pull", "team/web"], ["team/web"]),  # a short name: on the host asked
        (["/usr/bin/podman", "pull", "127.0.0.1:5055/team/web:1"], ["team/web"]),
        (["podman", "pull", "ghcr.io/team/web"], None),
        (["buildah", "from", "team/web"], ["team/web"]),
        (["skopeo", "inspect", "team/web"], None),  # no transport: not a registry image
        (["skopeo", "inspect", "docker://127.0.0.1:5055/team/web"], ["team/web"]),
        (["podman", "pull", "Team/Web"], None),  # invalid: never guessed
    ],
)
def test_containers_tools_name_their_images(argv: list[str], paths: list[str] | None) -> None:
    found = hint.references(SERVER, argv, lambda _: None)
    assert ([t.path for t in found] if found else None) == paths


def test_a_short_name_on_docker_hub_is_read_as_hub_reads_it() -> None:
    hub = targets.parse("docker.io")
    found = hint.references(hub, ["podman", "pull", "nginx"], lambda _: None)
    assert found is not None and found[0].path == "library/nginx"


@pytest.mark.parametrize(
    ("argv0", "client"),
    [
        ("docker", "docker"),
        ("/usr/libexec/docker/cli-plugins/docker-compose", "compose"),
        ("docker-compose", "compose"),
        ("/usr/bin/python3", None),  # compose v1 runs as its interpreter
        ("skopeo", "skopeo"),
        ("/usr/bin/podman", "podman"),
        ("buildah", "buildah"),
        ("crane", None),
    ],
)
def test_client_of(argv0: str, client: str | None) -> None:
    assert hint.client_of(argv0) == client


@pytest.mark.parametrize(
    ("routes", "groups"),
    [
        # ReadyStackGo's example and a partner: the default row's images join the pattern row's
        ([("app", "Company", "pattern"), ("db", "Default", "default row"),
          ("x", "Partner", "pattern")], [["app", "db"], ["x"]]),
        ([("a", "Company", "pattern"), ("b", "Company", "pattern")], [["a", "b"]]),
        # no pattern row to join: the default row's images are a group of their own
        ([("a", "Login", "login row"), ("b", "Default", "default row")], [["a"], ["b"]]),
        ([("a", None, ""), ("b", "Company", "pattern")], [["a"], ["b"]]),
    ],
)  # fmt: skip
def test_explain_compose_splits_into_groups_that_agree(
    routes: list[tuple[str, str | None, str]], groups: list[list[str]]
) -> None:
    from readystack.helper.manage.composeview import _groups

    by_name = {r.name: r for r in (COMPANY, PARTNER, DEFAULT, LOGIN)}
    found = _groups([(s, by_name[n] if n else None, how) for s, n, how in routes])
    assert sorted(found) == sorted(groups)
