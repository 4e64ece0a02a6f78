"""A new user's first hour: the first things a person types get the answer that sets them right."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from .conftest import Run

ROOT = Path(__file__).resolve().parents[2]
NAME = "docker-credential-readystack"
USAGE = b"Usage: docker-credential-readystack <store|get|erase|list|version>\n"
PASSWORD_REFUSED = (
    f"{NAME} registry {{verb}}: error: --password/-p is refused: a password on the command line "
    "is visible to other users (ps) and kept in shell history; pipe it in with --password-stdin\n"
)


def add(run: Run, name: str, url: str, *args: str) -> bytes:
    proc = run(
        "registry", "add", name, "--url", url, "--username", "u", "--password-stdin", *args,
        stdin=b"pw\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


# Item 3: a protocol verb given the server as an argument.
@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("get", "ghcr.io"), f"get reads the server from stdin: echo ghcr.io | {NAME} get"),
        (("get", "--help"), f"get reads the server from stdin: echo ghcr.io | {NAME} get"),
        (("erase", "ghcr.io"), f"erase reads the server from stdin: echo ghcr.io | {NAME} erase"),
        (
            ("store", "ghcr.io"),
            'store reads {"ServerURL","Username","Secret"} as JSON from stdin (docker login '
            f"sends it); to add credentials by hand: {NAME} registry add NAME --url URL "
            "--username U --password-stdin",
        ),
        (("list", "--json"), f"list takes no argument: {NAME} list"),
    ],
)
def test_a_protocol_verb_with_an_argument_says_where_its_input_goes(
    run: Run, args: tuple[str, ...], hint: str
) -> None:
    proc = run(*args)
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (1, USAGE, f"{NAME}: {hint}\n")


def test_no_argument_at_all_stays_the_bare_usage_line(run: Run) -> None:
    assert (run().returncode, run().stdout, run().stderr) == (1, USAGE, b"")


# Item 4: --password is recognised and refused, and never echoes its value.
@pytest.mark.parametrize(
    "option", [("--password", "s3cret-value"), ("--password=s3cret-value",), ("-ps3cret-value",)]
)
@pytest.mark.parametrize("verb", ["add", "update"])
def test_password_in_argv_is_refused_without_echoing_it(
    run: Run, env: dict[str, str], option: tuple[str, ...], verb: str
) -> None:
    proc = run("registry", verb, "ghcr", "--url", "ghcr.io", *option)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert b"s3cret" not in proc.stderr
    assert proc.stderr.decode().endswith(PASSWORD_REFUSED.format(verb=verb))
    assert not Path(env["READYSTACK_DB"]).exists()


# Item 5: moving the default names the row that lost it.
def test_moving_the_default_names_the_row_that_lost_it(run: Run) -> None:
    added = add(run, "hub", "https://docker.io", "--default")
    assert added == b"added registry 'hub' for docker.io (default)\n"
    assert add(run, "quay", "https://quay.io", "--default") == (
        b"added registry 'quay' for quay.io (default; 'hub' is no longer the default)\n"
    )
    proc = run("registry", "update", "hub", "--default")
    assert (proc.returncode, proc.stdout) == (
        0,
        b"updated registry 'hub' (default; 'quay' is no longer the default)\n",
    )
    proc = run("registry", "set-default", "quay")
    assert (proc.returncode, proc.stdout, proc.stderr) == (
        0,
        b"registry 'quay' is now the default; 'hub' is no longer the default\n",
        b"",
    )
    proc = run("registry", "set-default", "quay")
    assert proc.stdout == b"registry 'quay' is now the default\n"


# Item 6: "did you mean" and the verb list at every level, and for row names.
REGISTRY_VERBS = [
    "Registry verbs:",
    "  registry add NAME --url URL [--username U] [--password-stdin] [--pattern P]… [--default] "
    "[--secret-store S]",
    "      add a registry row",
]


def test_a_registry_typo_gets_the_closest_verb_and_the_group_list(run: Run) -> None:
    proc = run("registry", "lst")
    lines = proc.stderr.decode().splitlines()
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert lines[0] == f"{NAME}: unknown verb 'registry lst'; did you mean 'registry list'?"
    assert lines[1:4] == REGISTRY_VERBS
    assert "  registry test [NAME…] [--image REF] [--timeout S] [--json]" in lines
    assert not any(line.startswith(("  doctor", "  sync")) for line in lines)
    assert lines[-1] == f"{NAME} registry --help explains each one."


def test_registry_alone_lists_its_verbs(run: Run) -> None:
    proc = run("registry")
    lines = proc.stderr.decode().splitlines()
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert lines[0] == f"{NAME}: registry needs one of its verbs"
    assert lines[1:4] == REGISTRY_VERBS
    assert b"invalid choice" not in proc.stderr and b"required" not in proc.stderr


def test_a_mistyped_row_name_gets_the_closest_row(run: Run, env: dict[str, str]) -> None:
    add(run, "ghcr", "ghcr.io")
    add(run, "hub", "docker.io")
    db = env["READYSTACK_DB"]
    for args in (("registry", "show", "ghrc"), ("registry", "remove", "ghrc")):
        proc = run(*args)
        assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (
            1,
            b"",
            f"{NAME}: no registry named 'ghrc' in {db}; did you mean 'ghcr'? rows: ghcr, hub\n",
        )
    proc = run("registry", "test", "ghrc")
    assert (proc.returncode, proc.stderr.decode()) == (
        1,
        f"{NAME}: no registry named 'ghrc'; did you mean 'ghcr'? rows: ghcr, hub\n",
    )
    proc = run("registry", "set-default", "zzz")
    assert proc.stderr.decode() == f"{NAME}: no registry named 'zzz' in {db}; rows: ghcr, hub\n"


# Item 7: --help texts.
def test_help_names_positionals_as_the_readme_does(run: Run) -> None:
    add_help = run("registry", "add", "--help").stdout.decode()
    assert "\npositional arguments:\n  NAME " in add_help
    assert add_help.split("\n\n")[0].endswith(" NAME")
    assert "  --username U          the account's username" in add_help
    flat = " ".join(add_help.split())
    assert "--pattern P image pattern, a glob: * within one path segment, ** across them" in flat
    assert "repeat --pattern for more" in flat
    assert "--password" not in add_help.replace("--password-stdin", "")
    for verb in ("resolve", "explain"):
        text = " ".join(run(verb, "--help").stdout.decode().split())
        assert "arguments: TARGET a server (ghcr.io, https://ghcr.io) or an image" in text
    kubelet = run("kubelet", "--help").stdout.decode()
    assert "[--cache-duration D]" in kubelet and "CACHE_DURATION" not in kubelet
    sync = " ".join(run("sync", "--help").stdout.decode().split())
    assert "--to DEST the destination:" in sync
    assert "--db PATH the database get reads, which is DEST when --to is not given" in sync


def _options(parser: argparse.ArgumentParser) -> set[str]:
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
        elif action.help is not argparse.SUPPRESS:
            found.update(o for o in action.option_strings if o.startswith("--"))
    return found


def test_every_option_in_help_is_in_the_readme() -> None:
    from readystack.helper.manage import admin

    readme = (ROOT / "README.md").read_text()
    missing = sorted(o for o in _options(admin.parser()) if o not in readme)
    assert missing == []


# Test-only hooks are not for users; the help does not advertise them.
TEST_HOOKS = re.compile(r"READYSTACK_TEST_")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "text"`` assignments: reads often go through such a constant."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def _read_names(tree: ast.Module, constants: dict[str, str]) -> set[str]:
    """Names read by ``env.get(X)``, ``env[X]``, ``X in env``, ``os.getenv(X)``, ``ENV_VARS``."""

    def text(node: ast.expr | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    def is_env(node: ast.expr) -> bool:
        return "env" in ast.unparse(node).lower()

    names: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ("get", "getenv") and is_env(node.func.value):
                names.add(text(node.args[0]))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if is_env(node.value):
                names.add(text(node.slice))
        elif isinstance(node, ast.Compare) and isinstance(node.ops[0], ast.In):
            if is_env(node.comparators[0]):
                names.add(text(node.left))
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if any(t.endswith("ENV_VARS") for t in targets):
                names.update(text(v) for v in node.value.values)
    return {n for n in names if n and ENV_NAME.match(n)}


def test_the_help_names_every_environment_variable_the_code_reads(run: Run) -> None:
    read: set[str] = set()
    for folder in ("helper", "store"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text())
            read |= _read_names(tree, _constants(tree))
    read = {name for name in read if not TEST_HOOKS.match(name)}
    # The scan finds what it should: a few reads of each kind.
    assert {"READYSTACK_DB", "DataPath", "ConnectionStrings__ReadyStackGo"} <= read
    assert {"READYSTACK_SECRETS", "READYSTACK_LOG_FILE", "READYSTACK_CERTS_D"} <= read
    assert "READYSTACK_DAEMON_JSON" in read
    help_text = run("--help").stdout.decode()
    environment = help_text[help_text.index("\nEnvironment") :]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_]", environment))
    assert sorted(read - words) == []


# Item 16: --cache-duration is Go's duration, in integer nanoseconds.
KUBELET_REQUEST = (
    b'{"apiVersion": "credentialprovider.kubelet.k8s.io/v1", '
    b'"kind": "CredentialProviderRequest", "image": "ghcr.io/acme/api"}'
)


@pytest.mark.parametrize(
    ("given", "written"),
    [
        ("+5m", "5m0s"),
        ("1.1\u03bcs", "1.1\u00b5s"),
        ("1.1\u00b5s", "1.1\u00b5s"),
        ("2400h0m0.000000001s", "2400h0m0.000000001s"),
        ("2562047h47m16.854775807s", "2562047h47m16.854775807s"),
    ],
)
def test_kubelet_cache_duration_is_written_as_go_writes_it(
    run: Run, given: str, written: str
) -> None:
    import json

    proc = run("kubelet", "--cache-duration", given, stdin=KUBELET_REQUEST)
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert json.loads(proc.stdout)["cacheDuration"] == written


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("2562048h", "is out of range: Go's time.Duration holds at most 2562047h47m16.854775807s "
         "(int64 nanoseconds)"),
        ("9223372037s", "is out of range: Go's time.Duration holds at most "
         "2562047h47m16.854775807s (int64 nanoseconds)"),
    ],
)  # fmt: skip
def test_kubelet_cache_duration_beyond_int64_is_refused(run: Run, given: str, why: str) -> None:
    proc = run("kubelet", "--cache-duration", given, stdin=KUBELET_REQUEST)
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (
        1,
        b"",
        f"{NAME} kubelet: --cache-duration: duration {given!r} {why}\n",
    )


def test_kubelet_negative_cache_duration_is_refused(run: Run) -> None:
    proc = run("kubelet", "--cache-duration=-5m", stdin=KUBELET_REQUEST)
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (
        1,
        b"",
        f"{NAME} kubelet: --cache-duration: negative duration '-5m': "
        "a cache duration is 0 or more\n",
    )
