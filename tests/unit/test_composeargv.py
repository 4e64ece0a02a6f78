"""docker compose v2.40.3 command lines: the words replayed before `config`, and the services."""

from __future__ import annotations

import shlex

import pytest
from readystack.helper.lookup.composeargv import read

PLUGIN = "/root/.docker/cli-plugins/docker-compose"
NONE = None

# (command line after the plugin's path, (prefix replayed, command, services, named only))
PLUGIN_CASES = [
    ("compose pull", ("compose", "pull", "", True)),
    ("compose pull web", ("compose", "pull", "web", True)),
    ("compose pull web db", ("compose", "pull", "web db", True)),
    ("compose pull -q web", ("compose", "pull", "web", True)),
    ("compose pull web --quiet", ("compose", "pull", "web", True)),
    ("compose pull --include-deps web", ("compose", "pull", "web", False)),
    ("compose pull --include-deps=false web", ("compose", "pull", "web", True)),
    ("compose pull --policy always", ("compose", "pull", "", True)),
    ("compose pull --ignore-buildable --ignore-pull-failures", ("compose", "pull", "", True)),
    ("compose pull --dry-run", ("compose", "pull", "", True)),
    ("compose -f a.yml pull", ("compose -f a.yml", "pull", "", True)),
    ("compose -f a.yml -f b.yml pull web", ("compose -f a.yml -f b.yml", "pull", "web", True)),
    ("compose --file=a.yml pull", ("compose --file=a.yml", "pull", "", True)),
    ("compose -fa.yml pull", ("compose -fa.yml", "pull", "", True)),
    ("compose -p proj pull", ("compose -p proj", "pull", "", True)),
    ("compose --project-name=proj pull", ("compose --project-name=proj", "pull", "", True)),
    ("compose --profile debug pull", ("compose --profile debug", "pull", "", True)),
    ("compose --profile a --profile b up", ("compose --profile a --profile b", "up", "", False)),
    ("compose --env-file .env.ci pull", ("compose --env-file .env.ci", "pull", "", True)),
    (
        "compose --project-directory /src pull",
        ("compose --project-directory /src", "pull", "", True),
    ),
    ("compose --parallel 1 pull", ("compose --parallel 1", "pull", "", True)),
    (
        "compose --ansi never --progress plain pull",
        ("compose --ansi never --progress plain", "pull", "", True),
    ),
    (
        "compose --compatibility --dry-run pull",
        ("compose --compatibility --dry-run", "pull", "", True),
    ),
    ("compose --all-resources pull", ("compose --all-resources", "pull", "", True)),
    ("--context default compose pull", ("--context default compose", "pull", "", True)),
    ("-H unix:///run/d.sock compose pull", ("-H unix:///run/d.sock compose", "pull", "", True)),
    (
        "--config /cfg --log-level warn compose pull",
        ("--config /cfg --log-level warn compose", "pull", "", True),
    ),
    ("-D compose -f x.yml pull web", ("-D compose -f x.yml", "pull", "web", True)),
    ("compose up", ("compose", "up", "", False)),
    ("compose up -d", ("compose", "up", "", False)),
    ("compose up -d web", ("compose", "up", "web", False)),
    ("compose up --wait --pull always web", ("compose", "up", "web", False)),
    ("compose up -t 5 --scale web=2 web", ("compose", "up", "web", False)),
    ("compose up --build --no-deps web", ("compose", "up", "web", False)),
    ("compose create", ("compose", "create", "", False)),
    ("compose create --pull missing web", ("compose", "create", "web", False)),
    ("compose run web", ("compose", "run", "web", False)),
    ("compose run --rm -e A=1 web sh -c true", ("compose", "run", "web", False)),
    ("compose run web --rm", ("compose", "run", "web", False)),  # after the service: its command
    ("compose run -T --no-deps web", ("compose", "run", "web", False)),
    # no hint
    ("pull", NONE),  # the plugin always names `compose`
    ("compose", NONE),
    ("compose ps", NONE),
    ("compose build", NONE),
    ("compose push", NONE),
    ("compose pull -f a.yml", NONE),  # the project's options stand before the command
    ("compose -f - pull", NONE),  # standard input: a second run cannot read it
    ("compose --file=- pull", NONE),
    ("compose -f=- pull", NONE),
    ("compose --frobnicate pull", NONE),
    ("compose pull --frobnicate", NONE),
    ("compose -v pull", NONE),  # --version
    ("compose pull --help", NONE),
    ("compose pull -h", NONE),
    ("compose run", NONE),
    ("compose -f", NONE),
    ("--frobnicate compose pull", NONE),
    ("compose up --y web", NONE),  # the deprecated spelling: left to compose
]

STANDALONE_CASES = [
    ("pull", ("", "pull", "", True)),
    ("pull web", ("", "pull", "web", True)),
    ("-f a.yml pull web", ("-f a.yml", "pull", "web", True)),
    ("--profile x up -d", ("--profile x", "up", "", False)),
    ("-H unix:///run/d.sock pull", ("-H unix:///run/d.sock", "pull", "", True)),
    ("--context default --tls pull", ("--context default --tls", "pull", "", True)),
    ("--verbose pull", ("--verbose", "pull", "", True)),
    ("--log-level=debug pull", ("--log-level=debug", "pull", "", True)),
    ("compose pull", NONE),  # `compose` is no command of the standalone binary
    ("-f - pull", NONE),
    ("--version", NONE),
    ("-h pull", NONE),
]


def _check(argv: list[str], plugin: bool, expected: tuple[str, str, str, bool] | None) -> None:
    found = read(argv, plugin)
    if expected is None:
        assert found is None
        return
    assert found is not None
    prefix, command, services, named_only = expected
    assert (found.prefix, found.command, found.services, found.named_only) == (
        prefix.split(),
        command,
        services.split(),
        named_only,
    )


@pytest.mark.parametrize(("line", "expected"), PLUGIN_CASES, ids=[c[0] for c in PLUGIN_CASES])
def test_plugin(line: str, expected: tuple[str, str, str, bool] | None) -> None:
    _check([PLUGIN, *shlex.split(line)], True, expected)


@pytest.mark.parametrize(
    ("line", "expected"), STANDALONE_CASES, ids=[c[0] for c in STANDALONE_CASES]
)
def test_standalone(line: str, expected: tuple[str, str, str, bool] | None) -> None:
    _check(["docker-compose", *shlex.split(line)], False, expected)


def test_the_tables_have_at_least_forty_command_lines() -> None:
    assert len(PLUGIN_CASES) + len(STANDALONE_CASES) >= 40 and len(PLUGIN_CASES) >= 40
