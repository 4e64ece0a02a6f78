"""The image operand of docker CLI command lines, read as docker/cli v28.2.2 and pflag read them."""

from __future__ import annotations

import pytest
from readystack.helper.lookup.dockerargv import image_operand

DIGEST = "sha256:" + "a" * 64
FALL_BACK = None

# (command line after `docker`, the image the CLI pulls/pushes, or FALL_BACK)
CASES = [
    # the verbs, each spelling
    ("pull alpine", "alpine"),
    ("pull team/app:1.0", "team/app:1.0"),
    (f"pull team/app@{DIGEST}", f"team/app@{DIGEST}"),
    ("pull 127.0.0.1:5000/team/app", "127.0.0.1:5000/team/app"),
    ("push localhost:5000/team/app:2", "localhost:5000/team/app:2"),
    ("image pull ghcr.io/acme/api", "ghcr.io/acme/api"),
    ("image push ghcr.io/acme/api:1", "ghcr.io/acme/api:1"),
    ("container run --rm alpine true", "alpine"),
    ("container create alpine", "alpine"),
    ("create --name web nginx:1.27", "nginx:1.27"),
    ("manifest inspect --insecure 127.0.0.1:5999/team/app:1", "127.0.0.1:5999/team/app:1"),
    ("manifest push --purge team/list:1", "team/list:1"),
    # global options with values, in every spelling pflag accepts
    ("--config /tmp/cfg pull team/app", "team/app"),
    ("--config=/tmp/cfg pull team/app", "team/app"),
    ("-c other pull team/app", "team/app"),
    ("--context other pull team/app", "team/app"),
    ("-cother pull team/app", "team/app"),
    ("-H unix:///run/docker.sock pull team/app", "team/app"),
    ("-H=tcp://127.0.0.1:2375 push team/app", "team/app"),
    ("-l debug pull team/app", "team/app"),
    ("--log-level=warn -D pull team/app", "team/app"),
    ("--tlscacert /ca.pem --tlsverify pull team/app", "team/app"),
    ("--tls=false --tlscert c.pem --tlskey k.pem pull team/app", "team/app"),
    ("-Dl info pull team/app", "team/app"),  # bool then a value letter taking the next word
    # pull / push options
    ("pull --platform linux/arm64 team/app", "team/app"),
    ("pull --platform=linux/amd64 -q team/app", "team/app"),
    ("pull -a team/app", "team/app"),
    ("pull -qa team/app", "team/app"),
    ("pull team/app -q", "team/app"),  # pull's flags may follow the image
    ("pull --disable-content-trust=false team/app", "team/app"),
    ("pull --all-tags=true --quiet team/app", "team/app"),
    ("push --platform linux/amd64 -a team/app", "team/app"),
    ("pull -- team/app", "team/app"),
    ("pull --platform -- team/app", "team/app"),  # "--" is --platform's value here
    # run / create options
    ("run -e PATH=/x alpine env", "alpine"),
    ("run -ePATH=/x alpine", "alpine"),
    ("run -e=PATH=/x alpine", "alpine"),
    ("run --env=A=1 --env-file ./env.list alpine", "alpine"),
    ("run -v /data:/data -p 8080:80 --name web nginx", "nginx"),
    ("run -it --rm alpine sh -c 'echo hi'", "alpine"),
    ("run -itd -p8080:80 nginx", "nginx"),
    ("run --entrypoint /bin/sh alpine -c true", "alpine"),
    ("run --entrypoint=-x team/app", "team/app"),
    ("run -h myhost alpine", "alpine"),  # -h is --hostname for run, never help
    ("run -w /src -u 1000:1000 --network host alpine", "alpine"),
    ("run --rm=false -d=false alpine", "alpine"),
    ("run -it=false alpine", "alpine"),
    ("run --name -q alpine", "alpine"),  # a value flag takes the next word, whatever it is
    ("run alpine --rm -e X=1", "alpine"),  # after the image, everything is its command
    ("run -- team/app --help", "team/app"),
    ("run --pull always --platform linux/amd64 team/app", "team/app"),
    ("run -m 512m --cpus 2 -c 512 team/app", "team/app"),
    ("create -e A=1 -v /a:/b --name x team/app:1 cmd", "team/app:1"),
    ("run --stop-timeout 5 --health-interval 1s team/app", "team/app"),
    # fall back: no certainty, or not one image
    ("pull", FALL_BACK),
    ("pull a b", FALL_BACK),
    ("pull --platform", FALL_BACK),  # --platform needs a value: the CLI fails
    ("pull -h team/app", FALL_BACK),  # help: nothing is pulled
    ("pull --help team/app", FALL_BACK),
    ("-v pull team/app", FALL_BACK),  # --version
    ("pull --frobnicate team/app", FALL_BACK),  # unknown flag: the CLI fails
    ("pull -x team/app", FALL_BACK),
    ("pull --quiet=maybe team/app", FALL_BACK),  # strconv.ParseBool refuses it
    ("pull --quiet= team/app", FALL_BACK),
    ("pull ---quiet team/app", FALL_BACK),
    ("run", FALL_BACK),
    ("run --name", FALL_BACK),
    ("run --use-api-socket team/app", FALL_BACK),  # it hands every host's credentials over
    ("run -d= alpine", FALL_BACK),  # `=` is no flag letter
    ("manifest inspect team/list team/app:1", FALL_BACK),  # two images
    ("manifest create team/list team/a team/b", FALL_BACK),
    ("image --help pull team/app", FALL_BACK),
    ("image ls", FALL_BACK),
    ("build -t team/app .", FALL_BACK),
    ("compose pull", FALL_BACK),
    ("login ghcr.io", FALL_BACK),
    ("tag team/app team/app:2", FALL_BACK),
    ("--config", FALL_BACK),
    ("", FALL_BACK),
    ("-test.v pull team/app", FALL_BACK),
]


@pytest.mark.parametrize(("line", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_image_operand_matches_the_cli(line: str, expected: str | None) -> None:
    argv = ["docker", *_split(line)]
    assert image_operand(argv) == expected


def test_the_table_covers_at_least_forty_command_lines() -> None:
    assert len(CASES) >= 40


def test_a_global_value_letter_eats_the_rest_of_its_word() -> None:
    # `-lD`: pflag gives -l the value "D" (the rest of the word), so `pull` is the command.
    assert image_operand(["docker", "-lD", "pull", "team/app"]) == "team/app"


def test_an_operand_starting_with_a_dash_alone_is_positional() -> None:
    assert image_operand(["docker", "pull", "-"]) == "-"


def test_values_that_look_like_commands_are_not_commands() -> None:
    assert image_operand(["docker", "--context", "pull", "push", "team/app"]) == "team/app"
    assert image_operand(["docker", "-H", "run", "run", "alpine"]) == "alpine"


def _split(line: str) -> list[str]:
    # The command lines above quote at most one argument with '...'.
    words: list[str] = []
    quoted = line.split("'")
    for i, part in enumerate(quoted):
        words.extend([part] if i % 2 else part.split())
    return words
