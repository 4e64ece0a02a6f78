"""What the helper says about Docker's wiring, terminals, and any broken input: the truth."""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import Run

NAME = "docker-credential-readystack"


def add(run: Run, name: str, url: str) -> subprocess.CompletedProcess:
    return run(
        "registry", "add", name, "--url", url, "--username", "u", "--password-stdin", stdin=b"pw"
    )


def write_config(env: dict[str, str], config: dict) -> Path:
    folder = Path(env["DOCKER_CONFIG"])
    folder.mkdir(exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    return path


def test_add_hints_when_the_new_host_is_not_wired(run: Run, env: dict[str, str]) -> None:
    path = Path(env["DOCKER_CONFIG"]) / "config.json"
    proc = add(run, "g", "ghcr.io")
    assert (proc.returncode, proc.stdout) == (
        0,
        b"added registry 'g' for ghcr.io (https://, as no scheme was given)\n",
    )
    assert proc.stderr.decode() == (
        f"{NAME}: note: {path} has no credHelpers entry for ghcr.io, so Docker, skopeo and "
        f"podman do not ask this helper for it; run `{NAME} configure-docker`\n"
    )
    write_config(env, {"credsStore": "readystack"})
    proc = add(run, "q", "quay.io")
    assert proc.stderr.decode() == (
        f"{NAME}: note: {path} has no credHelpers entry for quay.io, so skopeo and podman do "
        f"not ask this helper for it; run `{NAME} configure-docker`\n"
    )
    assert run("configure-docker").returncode == 0
    proc = add(run, "q2", "quay.io")
    assert (proc.returncode, proc.stderr) == (0, b"")


def test_doctor_names_hosts_only_credsstore_reaches_and_plaintext_auths(
    run: Run, env: dict[str, str]
) -> None:
    add(run, "g", "ghcr.io")
    path = write_config(
        env,
        {
            "credsStore": "readystack",
            "auths": {"other.example.com": {"auth": "dTpw"}, "https://index.docker.io/v1/": {}},
        },
    )
    proc = run("doctor")
    assert proc.returncode == 1
    lines = proc.stdout.decode().splitlines()
    assert (
        f"PROBLEM  ghcr.io: no credHelpers entry in {path}: only the docker CLI asks this helper "
        f"(credsStore); skopeo and podman read credHelpers only; run `{NAME} configure-docker`"
    ) in lines
    # Risky but working: a warning, with the commands that move them (doctor's levels).
    assert (
        f"warning  {path}: auths keeps plaintext credentials for other.example.com (not in the "
        f"table); to move them into this helper, run `{NAME} configure-docker --creds-store`, "
        "then `docker login other.example.com` again"
    ) in lines
    assert not any(line.startswith("PROBLEM") and "auths" in line for line in lines)


def test_explain_lists_each_config_file_once_in_the_order_consulted(
    run: Run, env: dict[str, str]
) -> None:
    home_config = Path(env["HOME"]) / ".docker" / "config.json"
    home_config.parent.mkdir()
    home_config.write_text("{}")
    proc = run("explain", "ghcr.io", DOCKER_CONFIG=str(home_config.parent))
    assert proc.returncode == 0
    lines = [line.strip() for line in proc.stdout.decode().splitlines()]
    named = [line for line in lines if str(home_config) in line]
    assert named == [f"{home_config} (DOCKER_CONFIG)"]
    missing = Path(env["DOCKER_CONFIG"]) / "config.json"  # not created: consulted first
    proc = run("explain", "ghcr.io")
    lines = [line.strip() for line in proc.stdout.decode().splitlines()]
    first = lines.index(f"{missing} (DOCKER_CONFIG): not there")
    last = lines.index(f"{home_config} (~/.docker)")
    assert first < last


def test_the_default_database_is_called_by_its_name(run: Run, env: dict[str, str]) -> None:
    env.pop("READYSTACK_DB")
    default = Path(env["XDG_DATA_HOME"]) / NAME / "registries.db"
    proc = run("explain", "ghcr.io")
    assert f"database: {default} (the default database)\n" in proc.stdout.decode()


def _pty_run(exe: Path, env: dict[str, str], args: list[str], typed: bytes) -> tuple:
    """Run with stdin on a pseudo-terminal; type ``typed``; return (exit, stdout, stderr, echo)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [str(exe), *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    os.close(slave)
    echoed = b""
    try:
        # Wait for the prompt on stderr before typing, so the echo setting is in place.
        deadline = time.monotonic() + 20
        prompt = b""
        while not prompt.endswith((b": ", b"Ctrl-D\n")) and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 0.2)
            if ready:
                prompt += os.read(proc.stderr.fileno(), 4096)
        os.write(master, typed)
        out, err = proc.communicate(timeout=20)
        while select.select([master], [], [], 0.1)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            echoed += chunk
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, prompt + err, echoed


def test_password_stdin_on_a_terminal_prompts_and_hides_the_password(
    exe: Path, env: dict[str, str]
) -> None:
    code, out, err, echoed = _pty_run(
        exe,
        env,
        ["registry", "add", "t", "--url", "ghcr.io", "--username", "u", "--password-stdin"],
        b"typed-s3cret\n",
    )
    assert (code, out) == (
        0,
        b"added registry 't' for ghcr.io (https://, as no scheme was given)\n",
    ), err
    assert err.decode().startswith(
        f"{NAME}: type the password and press Enter (it is not shown): \n"
    )
    assert b"typed-s3cret" not in echoed
    with sqlite3.connect(env["READYSTACK_DB"]) as db:
        assert db.execute('SELECT "Password" FROM "Registries"').fetchall() == [("typed-s3cret",)]


def test_get_on_a_terminal_says_what_it_reads(exe: Path, env: dict[str, str]) -> None:
    code, out, err, _ = _pty_run(exe, env, ["get"], b"ghcr.io\n\x04")
    assert (code, out) == (1, b"credentials not found in native keychain\n")
    assert err.decode() == (
        f"{NAME}: get reads a server URL or host from stdin (Docker sends it); type it and "
        "press Enter, then Ctrl-D\n"
    )


def test_ctrl_c_at_a_terminal_prompt_ends_without_a_traceback(
    exe: Path, env: dict[str, str]
) -> None:
    import signal

    master, slave = os.openpty()
    proc = subprocess.Popen(
        [str(exe), "get"], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    os.close(slave)
    try:
        assert proc.stderr is not None
        prompt = b""
        while not prompt.endswith(b"Ctrl-D\n"):  # the prompt comes just before the read
            prompt += os.read(proc.stderr.fileno(), 4096)
        _wait_until_blocked_in_read(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        os.close(master)
    assert (proc.returncode, out, err) == (130, b"", b"\n")


# read(2)'s number, as /proc/PID/syscall shows the call a process is blocked in.
READ_SYSCALL = {"x86_64": "0", "aarch64": "63"}


def _wait_until_blocked_in_read(pid: int) -> None:
    """Wait until the process sleeps inside read(2); fail when it has not after 20 s.

    A SIGINT that lands between the prompt and the read would only set CPython's flag, and the
    read would then block until input comes, as it would for a person who pressed Ctrl-C at that
    very instant: the test must press it once the read has begun.
    """
    import platform

    number = READ_SYSCALL.get(platform.machine())
    if number is None:
        _unavailable(f"read(2)'s number on {platform.machine()} is not in READ_SYSCALL")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/syscall") as fh:
                if fh.read().split(" ", 1)[0] == number:
                    return
        except FileNotFoundError:
            pytest.fail("the helper ended before it read its stdin")
        except OSError as exc:
            _unavailable(f"/proc/{pid}/syscall cannot be read here ({exc.strerror})")
        time.sleep(0.01)  # the poll's interval: the condition is checked again right after
    pytest.fail("the helper was not blocked in read(2) within 20 s of its prompt")


def _unavailable(message: str) -> None:
    """Skip: this kernel does not show the call a process sleeps in; under CI=true, fail."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{message} (CI=true: the Ctrl-C test must run)", pytrace=False)
    pytest.skip(message)


EXCEPTION_NAMES = (b"Error:", b"Exception", b"Traceback", b"Errno")
BROKEN = [
    (("get",), b"\xff\xfe"),
    (("get",), b"a" * 70_000),
    (("store",), b"{"),
    (("store",), b'{"ServerURL": "::::", "Username": "u", "Secret": "s"}'),
    (("erase",), b"https://"),
    (("list",), b""),
    (("registry", "add", "x", "--url", "ftp://x"), b""),
    (("registry", "add", "x", "--url", "ghcr.io", "--password-stdin"), b"\xff\xfe"),
    (("registry", "add", "x", "--url", "ghcr.io", "--pattern", "[["), b""),
    (("registry", "show", "nope"), b""),
    (("registry", "update", "nope", "--url", "x"), b""),
    (("registry", "remove", "nope"), b""),
    (("registry", "set-default", "nope"), b""),
    (("registry", "move-secrets", "--to", "database", "nope"), b""),
    (("registry", "list", "--db", "/nonexistent-folder/x.db"), b""),
    (("resolve", "::::/x"), b""),
    (("explain", "UPPER/Case"), b""),
    (("doctor",), b""),
    (("configure-docker", "--registries", "a b"), b""),
    (("kubelet",), b"not json"),
    (("kubelet", "--cache-duration", "forever"), b"{}"),
    (("regsitry", "lsit"), b""),
]


@pytest.mark.parametrize(("args", "stdin"), BROKEN)
def test_no_exception_name_reaches_a_user(
    run: Run, env: dict[str, str], args: tuple[str, ...], stdin: bytes
) -> None:
    # A database that is not one, and a Docker config that is not JSON: every source is broken.
    Path(env["READYSTACK_DB"]).write_bytes(b"this is not a database" * 100)
    write_config(env, {}).write_text("{not json")
    proc = run(*args, stdin=stdin)
    both = proc.stdout + proc.stderr
    for name in EXCEPTION_NAMES:
        assert name not in both, (name, both)


@pytest.mark.parametrize(("args", "stdin"), BROKEN)
def test_no_exception_name_reaches_a_user_on_a_sound_database(
    run: Run, env: dict[str, str], args: tuple[str, ...], stdin: bytes
) -> None:
    add(run, "g", "ghcr.io")
    proc = run(*args, stdin=stdin)
    both = proc.stdout + proc.stderr
    for name in EXCEPTION_NAMES:
        assert name not in both, (name, both)
