"""The protocol through the real executable: exact bytes on stdout, exit codes, bad input."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import Run

NOT_FOUND = b"credentials not found in native keychain\n"
USAGE = b"Usage: docker-credential-readystack <store|get|erase|list|version>\n"


def store(run: Run, server: str, user: str, secret: str) -> None:
    payload = json.dumps({"ServerURL": server, "Username": user, "Secret": secret})
    proc = run("store", stdin=payload.encode())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout == b""


def test_version_and_its_flags_print_one_line_and_exit_0(run: Run) -> None:
    for arg in ("version", "-v", "--version"):
        proc = run(arg)
        assert proc.returncode == 0
        assert proc.stdout.startswith(b"docker-credential-readystack (")
        assert proc.stdout.endswith(b"\n") and proc.stdout.count(b"\n") == 1


def test_version_verbose_names_each_library_and_where_it_was_loaded_from(
    run: Run, exe: Path
) -> None:
    proc = run("version", "--verbose")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert lines[0] == run("version").stdout.decode().rstrip("\n")
    assert [line.split()[0] for line in lines[1:]] == [
        "Python",
        "SQLite",
        "OpenSSL",
        "libpq",
        "cryptography",
    ]
    assert all(line.endswith(")") for line in lines[1:]), lines
    if (exe.resolve().parent / "_internal").is_dir():  # the PyInstaller binary
        assert "(bundled: " in lines[1], lines[1]  # libpython
        assert "(binary: bundled: " in lines[4], lines[4]  # psycopg_binary's libpq
    # Docker's form stays one line, and only `--verbose` is a second word it accepts.
    assert (run("version", "--verbose", "x").returncode, run("version", "-V").returncode) == (1, 1)


@pytest.mark.parametrize("args", [(), ("get", "extra"), ("store", "x", "y")])
def test_wrong_argument_count_prints_usage_on_stdout(run: Run, args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert (proc.returncode, proc.stdout) == (1, USAGE)


def test_an_unknown_action_is_named_on_stdout_with_exit_1(run: Run) -> None:
    proc = run("frob")
    assert proc.returncode == 1
    assert proc.stdout == b"docker-credential-readystack: unknown action: frob\n"


def test_help_lists_protocol_and_management_verbs(run: Run) -> None:
    for arg in ("-h", "--help"):
        proc = run(arg)
        assert proc.returncode == 0
        for verb in (b"get", b"store", b"erase", b"list", b"registry", b"explain", b"doctor"):
            assert verb in proc.stdout


def test_get_missing_is_exact_not_found(run: Run) -> None:
    proc = run("get", stdin=b"ghcr.io")
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, NOT_FOUND, b"")


@pytest.mark.parametrize("stdin", [b"", b"\n", b"  \r\n"])
def test_get_and_erase_empty_input(run: Run, stdin: bytes) -> None:
    for verb in ("get", "erase"):
        proc = run(verb, stdin=stdin)
        assert (proc.returncode, proc.stdout) == (1, b"no credentials server URL\n")


@pytest.mark.parametrize(
    "stdin",
    [
        b"\xff\xfe\x00garbage",  # not UTF-8
        b"a" * (1 << 20),  # 1 MiB
        b"x" * ((1 << 20) + 10),  # over the cap
        b"Docker/Docker",  # invalid reference: uppercase path
        b"ghcr.io/acme/App",
        b"https://",  # no host
        b"ftp://ghcr.io",
        b"ghcr.io:port",
        b"a\x00b",
    ],
)
def test_get_bad_input_is_not_found_without_traceback(run: Run, stdin: bytes) -> None:
    proc = run("get", stdin=stdin)
    assert (proc.returncode, proc.stdout) == (1, NOT_FOUND)
    assert b"Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        (b"not json", b"invalid credentials payload"),
        (b"[1, 2]", b"invalid credentials payload: expected a JSON object"),
        (b'{"ServerURL": "", "Username": "u", "Secret": "s"}', b"no credentials server URL\n"),
        (b'{"ServerURL": "r.io", "Secret": "s"}', b"no credentials username\n"),
        (b'{"ServerURL": "r.io", "Username": 5, "Secret": "s"}', b"Username must be a string"),
        (b"\xff\xfe", b"not UTF-8"),
        (b"{" * ((1 << 20) + 1), b"larger than"),
        (b"[" * 500_000, b"invalid credentials payload"),  # nesting deeper than json allows
    ],
)
def test_store_bad_payload(run: Run, stdin: bytes, expected: bytes) -> None:
    proc = run("store", stdin=stdin)
    assert proc.returncode == 1
    assert expected in proc.stdout
    assert proc.stdout.count(b"\n") == 1
    assert b"Traceback" not in proc.stderr + proc.stdout


def test_store_get_list_erase_round_trip(run: Run) -> None:
    store(run, "registry.example.com:5000", "alice", 's3cret "quoted" \\ ünï')
    proc = run("get", stdin=b"registry.example.com:5000\r\n")
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.endswith(b"}\n") and proc.stdout.count(b"\n") == 1
    assert json.loads(proc.stdout) == {
        "ServerURL": "registry.example.com:5000",
        "Username": "alice",
        "Secret": 's3cret "quoted" \\ ünï',
    }
    listed = run("list")
    assert json.loads(listed.stdout) == {"registry.example.com:5000": "alice"}
    assert run("erase", stdin=b"registry.example.com:5000").returncode == 0
    assert run("get", stdin=b"registry.example.com:5000").stdout == NOT_FOUND
    assert json.loads(run("list").stdout) == {}


def test_identity_token_round_trip(run: Run) -> None:
    store(run, "https://index.docker.io/v1/", "<token>", "idtok")
    answer = json.loads(run("get", stdin=b"docker.io").stdout)
    assert (answer["Username"], answer["Secret"]) == ("<token>", "idtok")


def test_oauth_keys_are_kept_verbatim(run: Run) -> None:
    key = "https://index.docker.io/v1/access-token"
    assert run("get", stdin=key.encode()).stdout == NOT_FOUND
    store(run, key, "oauth", "tok")
    assert json.loads(run("get", stdin=key.encode()).stdout)["Secret"] == "tok"
    assert run("get", stdin=b"https://index.docker.io/v1/").stdout == NOT_FOUND
    assert run("get", stdin=b"https://index.docker.io/v1/refresh-token").stdout == NOT_FOUND
    assert json.loads(run("list").stdout) == {}
    assert run("erase", stdin=key.encode()).returncode == 0
    assert run("get", stdin=key.encode()).stdout == NOT_FOUND


def test_empty_secret_is_stored_and_returned(run: Run) -> None:
    store(run, "r.example.com", "u", "")
    assert json.loads(run("get", stdin=b"r.example.com").stdout)["Secret"] == ""


def test_list_never_reads_stdin(exe: Path, env: dict[str, str]) -> None:
    # docker-py leaves its own stdin attached to `list`: it may be a terminal that never ends.
    with subprocess.Popen(
        [str(exe), "list"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    ) as proc:
        assert proc.wait(timeout=20) == 0  # stdin is still open: a read would hang here
        assert proc.stdout is not None
        assert proc.stdout.read() == b"{}\n"


def test_malformed_config_is_skipped_and_next_file_answers(run: Run, env: dict[str, str]) -> None:
    docker_config = Path(env["DOCKER_CONFIG"])
    docker_config.mkdir()
    (docker_config / "config.json").write_text("{not json")
    fallback = Path(env["HOME"]) / ".docker"
    fallback.mkdir()
    (fallback / "config.json").write_text(
        json.dumps({"auths": {"r.example.com": {"auth": "dTpwOnc="}}})  # u:p:w
    )
    proc = run("get", stdin=b"r.example.com")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["Secret"] == "p:w"
    assert proc.stderr.count(b"\n") == 1 and b"config.json" in proc.stderr


def test_corrupt_database_is_skipped_and_config_answers(run: Run, env: dict[str, str]) -> None:
    Path(env["READYSTACK_DB"]).write_bytes(b"this is not a database" * 100)
    home_docker = Path(env["HOME"]) / ".docker"
    home_docker.mkdir()
    (home_docker / "config.json").write_text(
        json.dumps({"auths": {"https://ghcr.io": {"username": "u", "password": "p"}}})
    )
    proc = run("get", stdin=b"ghcr.io")
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["Username"] == "u"
    assert proc.stderr.count(b"\n") == 1 and b"Registries table" in proc.stderr
    assert run("list").stdout == b"{}\n"


def test_locked_database_answers_from_next_source_quickly(run: Run, env: dict[str, str]) -> None:
    store(run, "ghcr.io", "from-db", "p")
    home_docker = Path(env["HOME"]) / ".docker"
    home_docker.mkdir()
    (home_docker / "config.json").write_text(
        json.dumps({"auths": {"ghcr.io": {"username": "from-config", "password": "p"}}})
    )
    holder = sqlite3.connect(env["READYSTACK_DB"], isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        proc = run("get", stdin=b"ghcr.io")
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["Username"] == "from-config"
    assert elapsed < 2.5, elapsed
    assert b"locked" in proc.stderr


@pytest.mark.parametrize(
    ("pattern", "hit", "misses"),
    [
        ("team/[a-z]*", None, ["team/b", "team/a"]),  # fnmatch would read a character class
        ("team/app?", None, ["team/apps", "team/app"]),  # `?` is literal, not one character
        ("team/app.v1", "team/app.v1", ["team/appxv1"]),  # `.` is literal, not any character
        ("team/a+b*", None, ["team/ab", "team/aab"]),
        ("team/(x)", None, ["team/x"]),
    ],
)
def test_pattern_metacharacters_are_literal(
    run: Run, pattern: str, hit: str | None, misses: list[str]
) -> None:
    add = run(
        "registry",
        "add",
        "meta",
        "--url",
        "https://r.example.com",
        "--username",
        "u",
        "--password-stdin",
        "--pattern",
        pattern,
        stdin=b"pw\n",
    )
    assert add.returncode == 0, add.stderr
    if hit:
        assert (
            json.loads(run("get", stdin=f"r.example.com/{hit}".encode()).stdout)["Username"] == "u"
        )
    for miss in misses:
        assert run("get", stdin=f"r.example.com/{miss}".encode()).stdout == NOT_FOUND
