"""A new user's first hour: the first things a person types get the answer that sets them right."""

from __future__ import annotations

import argparse
import ast
import re
import socket
from pathlib import Path

import pytest

from .conftest import Run

ROOT = Path(__file__).resolve().parents[2]
NAME = "docker-credential-readystack"
USAGE = b"Usage: docker-credential-readystack <store|get|erase|list|version>\n"
PASSWORD_REFUSED = (
    f"{NAME} {{verb}}: error: --password/-p is refused: a password on the command line "
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
    "option",
    [
        ("--password", "s3cret-value"),
        ("--password=s3cret-value",),
        ("-ps3cret-value",),
        ("-p", "s3cret-value"),
        ("--pass=s3cret-value",),
        ("--passw", "s3cret-value"),
        ("--password-stdin=s3cret-value",),
    ],
)
@pytest.mark.parametrize("verb", ["add", "update"])
def test_password_in_argv_is_refused_without_echoing_it(
    run: Run, env: dict[str, str], option: tuple[str, ...], verb: str
) -> None:
    proc = run("registry", verb, "ghcr", "--url", "ghcr.io", *option)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert b"s3cret" not in proc.stderr
    assert proc.stderr.decode().endswith(PASSWORD_REFUSED.format(verb=f"registry {verb}"))
    assert not Path(env["READYSTACK_DB"]).exists()


@pytest.mark.parametrize("verb", [("doctor",), ("registry", "list"), ("sync",)])
def test_password_in_argv_of_any_verb_is_refused_without_echoing_it(
    run: Run, verb: tuple[str, ...]
) -> None:
    proc = run(*verb, "--password", "s3cret-value")
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert b"s3cret" not in proc.stderr
    assert proc.stderr.decode().endswith(PASSWORD_REFUSED.format(verb=" ".join(verb)))


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
    top = {"-h", "--help", "-v", "--version"}  # the top-level help's own options
    options = _options(admin.parser()) | top
    missing = sorted(o for o in options if not re.search(rf"(?<![\w-]){o}(?![\w-])", readme))
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


# Item 8: doctor's three levels; ReadyStackGo's own 0644 database is a warning.
def test_doctor_warns_about_readystackgos_own_0644_database_and_exits_0(
    run: Run, exe: Path, env: dict[str, str], tmp_path: Path
) -> None:
    import sqlite3

    from readystackgo import create_readystackgo_database, insert_registry

    db = tmp_path / "rsgo" / "readystackgo.db"
    create_readystackgo_database(db, wal=False)
    with sqlite3.connect(db) as conn:
        insert_registry(conn, "ghcr", "https://ghcr.io", "u", "pw")
    conn.close()
    db.chmod(0o644)
    env.update(READYSTACK_DB=str(db), PATH=f"{exe.parent}:{env.get('PATH', '')}")
    assert run("configure-docker").returncode == 0
    proc = run("doctor")
    lines = proc.stdout.decode().splitlines()
    assert (
        f"warning  {db} has mode 0644: others on this host can read its passwords; ReadyStackGo "
        "creates its database so, and every pull works; `chmod 600` it if nothing but its "
        "owner needs to read it"
    ) in lines
    assert not any(line.startswith("PROBLEM") for line in lines), lines
    assert (proc.returncode, lines[-1]) == (0, "no problems found")


def test_doctor_still_fails_for_its_own_database_readable_by_others(
    run: Run, env: dict[str, str]
) -> None:
    add(run, "ghcr", "https://ghcr.io")
    db = Path(env["READYSTACK_DB"])
    db.chmod(0o644)
    proc = run("doctor")
    assert f"PROBLEM  {db} has mode 0644: others can read passwords; chmod 600 it\n".encode() in (
        proc.stdout
    )
    assert proc.returncode == 1


# Item 9: explain --online names an unreachable registry as the cause, and exits 1.
def test_explain_online_names_an_unreachable_registry_as_the_cause(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    env["READYSTACK_DAEMON_JSON"] = str(tmp_path / "none.json")
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{closed.getsockname()[1]}"
    refused = f"cannot connect to {host}: Connection refused"
    unreached = (
        f"cause: the registry at {host} cannot be reached, so neither the credentials nor the "
        "image could be checked"
    )
    proc = run("explain", f"{host}/x/y", "--online", "--timeout", "5")
    lines = proc.stdout.decode().splitlines()
    assert (proc.returncode, lines[-2:]) == (
        1,
        [
            f"online: anonymous access to x/y:latest: unreachable: {refused} (plain http://, "
            "which dockerd allows as 127.0.0.1 is a loopback address, failed the same way)",
            unreached,
        ],
    )
    add(run, "loc", f"https://{host}")
    proc = run("explain", f"{host}/x/y", "--online", "--timeout", "5")
    lines = proc.stdout.decode().splitlines()
    assert (proc.returncode, lines[-1]) == (1, unreached)
    assert b"no credentials configured" not in proc.stdout and b"cause unknown" not in proc.stdout


# Item 10: the keyring advice after a flag names the flag's fix.
def test_keyring_advice_after_a_flag_names_the_flag(run: Run, env: dict[str, str]) -> None:
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    refused = (
        f"{NAME}: keyring backend keyring.backends.fail.Keyring cannot keep secrets safely; "
        "start a Secret Service (for example gnome-keyring in a D-Bus session)"
    )
    proc = run(
        "registry", "add", "k", "--url", "https://ghcr.io", "--username", "u",
        "--password-stdin", "--secret-store", "keyring", stdin=b"pw\n",
    )  # fmt: skip
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (
        1,
        b"",
        f"{refused} or use --secret-store database\n",
    )
    add(run, "d", "https://ghcr.io")
    proc = run("registry", "move-secrets", "--to", "keyring")
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (1, b"", f"{refused}\n")
    # Chosen by the variable: the variable is the fix.
    proc = add_with(run, "e", READYSTACK_SECRETS="keyring")
    assert proc.stderr.decode() == f"{refused} or use READYSTACK_SECRETS=database\n"


def add_with(run: Run, name: str, **extra: str):
    return run(
        "registry", "add", name, "--url", "https://quay.io", "--username", "u",
        "--password-stdin", stdin=b"pw\n", **extra,
    )  # fmt: skip


# Item 11: explain says how it read a URL, what "other" means, why the hint is off; 1 char.
def test_explain_of_a_url_says_it_is_read_as_a_server(run: Run) -> None:
    proc = run("explain", "https://ghcr.io/acme/api")
    assert proc.returncode == 0
    assert proc.stdout.decode().splitlines()[2] == (
        "note: a URL is read as a server, as Docker reads a login URL: only ghcr.io counts and "
        f"/acme/api is not read; to ask about that repository, run `{NAME} explain "
        "ghcr.io/acme/api`"
    )
    assert b"note: a URL" not in run("explain", "https://index.docker.io/v1/").stdout


def test_explain_names_the_host_question_ranks_in_words(run: Run) -> None:
    add(run, "ghcr", "https://ghcr.io", "--pattern", "acme/*")
    add(run, "login", "https://ghcr.io", "--default")
    lines = run("explain", "ghcr.io").stdout.decode().splitlines()
    assert "    row 'ghcr': patterns for some repositories only (last for a host question)" in lines


def test_explain_says_what_turned_the_image_hint_off(run: Run) -> None:
    add(run, "a", "https://ghcr.io", "--pattern", "acme/*")
    add(run, "b", "https://ghcr.io")
    proc = run("explain", "ghcr.io/acme/api", READYSTACK_IMAGE_HINT="0")
    text = proc.stdout.decode()
    assert (
        "`docker pull ghcr.io/acme/api` sends only 'ghcr.io'; the image hint is turned off by "
        "READYSTACK_IMAGE_HINT=0:\n"
    ) in text
    assert (
        "    image hint: none (turned off by READYSTACK_IMAGE_HINT=0); the host ranking decides\n"
        in (text)
    )
    assert "turned off, not Linux, or unreadable" not in text


def test_a_one_character_secret_is_one_char(run: Run) -> None:
    run(
        "registry", "add", "one", "--url", "https://ghcr.io", "--username", "u",
        "--password-stdin", stdin=b"x\n",
    )  # fmt: skip
    assert b"password      <hidden, 1 char>\n" in run("registry", "show", "one").stdout
    assert b"<hidden, 1 char>" in run("resolve", "ghcr.io").stdout


# Item 12: doctor's "another helper" line ends with the fix.
def test_doctor_says_how_to_fix_a_host_sent_to_another_helper(
    run: Run, env: dict[str, str]
) -> None:
    add(run, "ghcr", "https://ghcr.io")
    folder = Path(env["DOCKER_CONFIG"])
    folder.mkdir()
    (folder / "config.json").write_text('{"credHelpers": {"ghcr.io": "desktop"}}')
    proc = run("doctor")
    assert (
        "PROBLEM  ghcr.io: credHelpers sends it to another helper (ghcr.io -> desktop), so this "
        f"helper's rows for it are never asked; run `{NAME} configure-docker --registries "
        f"ghcr.io --overwrite`, or, if the other helper should keep it, `{NAME} registry remove "
        "ghcr`"
    ) in proc.stdout.decode().splitlines()
    assert proc.returncode == 1
