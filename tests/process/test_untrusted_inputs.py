"""The database, config files, PATH and other helpers as an adversary may leave them (issue 13).

Each test runs one reproduction against the installed executable (or READYSTACK_HELPER_EXE) and
checks stdout, stderr and the exit code; a subprocess timeout guards what used to hang.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import rawdb

from .conftest import Run

NOT_FOUND = b"credentials not found in native keychain\n"
PROG = b"docker-credential-readystack: "
HANG_GUARD = 60  # seconds: far above any lookup, far below "forever"


def lines(err: bytes) -> list[bytes]:
    return err.splitlines()


def answer(proc: subprocess.CompletedProcess[bytes]) -> tuple[str, str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    return data["Username"], data["Secret"]


def write_config(env: dict[str, str], config: dict) -> Path:
    folder = Path(env["DOCKER_CONFIG"])
    folder.mkdir(exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config))
    return path


def script(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


# ---- 1. the database chooses no code -------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "keyring:this.X",
        "keyring:os.abort",
        "keyring:signal.pause",
        "keyring:builtins.breakpoint",
        "keyring:keyring.backends.chainer.ChainerBackend",
        "keyring:keyring.backends.fail.Keyring",
    ],
)
def test_keyring_label_outside_the_allow_list_makes_only_that_row_unusable(
    run: Run, env: dict[str, str], label: str
) -> None:
    db = env["READYSTACK_DB"]
    rawdb.make(db)
    rawdb.insert(db, "A", "evil", "https://ghcr.io", password=None, store=label)
    rawdb.insert(db, "B", "fine", "https://quay.io", "bob", "pw-b")
    write_config(env, {"auths": {"ghcr.io": {"username": "carol", "password": "pw-c"}}})
    proc = run("get", stdin=b"ghcr.io", timeout=HANG_GUARD)
    assert answer(proc) == ("carol", "pw-c")  # the lookup went on to the config file
    assert lines(proc.stderr) == [
        PROG
        + b"skipping registry 'evil': SecretStore '"
        + label.encode()
        + b"' is not one of keyring's own backends; ignored"
    ]
    assert b"Zen" not in proc.stdout + proc.stderr
    assert answer(run("get", stdin=b"quay.io", timeout=HANG_GUARD)) == ("bob", "pw-b")
    kube = run(
        "kubelet",
        stdin=json.dumps(
            {
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                "kind": "CredentialProviderRequest",
                "image": "ghcr.io/acme/app",
            }
        ).encode(),
        timeout=HANG_GUARD,
    )
    assert kube.returncode == 0, kube.stderr
    assert json.loads(kube.stdout)["auth"] == {"ghcr.io": {"username": "carol", "password": "pw-c"}}


# ---- 2. PATH: no helper from the current directory ------------------------------------------


@pytest.mark.parametrize("path_tail", [":", ":.", ":bin"])
def test_relative_path_entry_never_runs_a_helper_from_the_current_directory(
    exe: Path, env: dict[str, str], tmp_path: Path, path_tail: str
) -> None:
    work = tmp_path / "work"
    marker = tmp_path / "ran"
    for folder in (work, work / "bin"):
        script(folder, "docker-credential-desktop", f"touch {marker}\necho '{{}}'\n")
    write_config(env, {"credsStore": "desktop"})
    proc = subprocess.run(
        [str(exe), "get"],
        input=b"ghcr.io",
        capture_output=True,
        env={**env, "PATH": "/usr/bin:/bin" + path_tail},
        cwd=work,
        timeout=HANG_GUARD,
    )
    assert (proc.returncode, proc.stdout) == (1, NOT_FOUND)
    folder = path_tail[1:]
    shown = (
        f"{folder or '.'}/docker-credential-desktop" if folder else "./docker-credential-desktop"
    )
    assert lines(proc.stderr) == [
        PROG + f"refusing {shown}: found through the relative PATH entry {folder!r}".encode()
    ]
    assert not marker.exists()


# ---- 3. cells of the wrong type ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "kind"),
    [
        ("name", b"ghcr", b"a BLOB"),
        ("url", b"https://ghcr.io", b"a BLOB"),
        ("username", 42, b"an integer"),
        ("username", b"eve", b"a BLOB"),
        ("password", 4.5, b"a real"),
        ("default", "yes", b"text"),
    ],
)
def test_a_row_with_a_wrongly_typed_cell_is_skipped_and_everything_else_works(
    run: Run, env: dict[str, str], column: str, value: object, kind: bytes
) -> None:
    db = env["READYSTACK_DB"]
    rawdb.make(db, typeless=True)
    bad = {"name": "bad", "url": "https://ghcr.io", "username": "eve", "password": "pw-e"}
    extra = {"default": value} if column == "default" else {}
    if column != "default":
        bad[column] = value
    rawdb.insert(db, "BAD", bad["name"], bad["url"], bad["username"], bad["password"], **extra)
    rawdb.insert(db, "GOOD", "good", "https://ghcr.io/", "alice", "pw-a")
    rawdb.insert(db, "OTHER", "other", "https://r.example.com", "bob", "pw-b")
    write_config(env, {"auths": {"quay.io": {"username": "carol", "password": "pw-c"}}})
    column_name = {"default": b"IsDefault"}.get(column, column.capitalize().encode())
    skipped = (
        PROG + b"skipping the Registries row with Id 'BAD': its " + column_name + b" is " + kind
    )

    proc = run("get", stdin=b"ghcr.io")
    assert answer(proc) == ("alice", "pw-a")
    assert lines(proc.stderr) in ([skipped], [])  # a BLOB Url is not even a candidate for ghcr.io
    proc = run("get", stdin=b"quay.io")
    assert answer(proc) == ("carol", "pw-c")
    listed = run("list")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == {"ghcr.io": "alice", "r.example.com": "bob"}
    assert lines(listed.stderr) == [skipped]
    for args in (("registry", "list"), ("doctor",), ("configure-docker",)):
        proc = run(*args)
        assert proc.returncode in (0, 1), proc.stderr
        assert b"Traceback" not in proc.stderr and b"Error:" not in proc.stderr
        assert skipped in proc.stderr
    doctor = run("doctor")
    assert b"PROBLEM  " + skipped[len(PROG) :] in doctor.stdout
    config = json.loads((Path(env["DOCKER_CONFIG"]) / "config.json").read_text())
    assert config["credHelpers"] == {"ghcr.io": "readystack", "r.example.com": "readystack"}


# ---- 4. server strings that name two hosts ---------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        b"https://evil.com\\@ghcr.io",
        b"evil.com\\@ghcr.io",
        b"https://evil.com@ghcr.io",
        b"https://user:pw@ghcr.io",
        b"ghcr.io\\",
        b"ghcr.io\x1b[2J",
        b"ghcr.io\x00",
        b"ghcr .io",
        b"ghcr.io\tevil.com",
    ],
)
def test_userinfo_backslash_space_or_control_is_not_found(
    run: Run, env: dict[str, str], question: bytes
) -> None:
    db = env["READYSTACK_DB"]
    rawdb.make(db)
    rawdb.insert(db, "G", "ghcr", "https://ghcr.io", "alice", "pw-a")
    proc = run("get", stdin=question)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, NOT_FOUND, b"")
    assert answer(run("get", stdin=b"ghcr.io")) == ("alice", "pw-a")


# ---- 6. a failing helper's stdout is never repeated -----------------------------------------


def test_failing_delegate_output_is_never_echoed(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    script(bin_dir, "docker-credential-leaky", 'echo \'{"Secret":"leaked-42"}\'\nexit 3\n')
    write_config(env, {"credsStore": "leaky"})
    log = tmp_path / "debug.log"
    proc = run(
        "get",
        stdin=b"ghcr.io",
        PATH=f"{bin_dir}:/usr/bin:/bin",
        READYSTACK_LOG_FILE=str(log),
    )
    assert (proc.returncode, proc.stdout) == (1, NOT_FOUND)
    assert lines(proc.stderr) == [PROG + b"docker-credential-leaky failed (exit 3); skipped"]
    assert b"leaked-42" not in log.read_bytes()


# ---- 7. a file that cannot be parsed never stops the fallback chain ---------------------------


def test_deeply_nested_config_is_skipped_and_the_next_file_answers(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000)
    write_config(env, {"auths": {"r.io": {"username": "alice", "password": "pw-a"}}})
    proc = run("get", stdin=b"r.io", DOCKER__CONFIGPATH=str(deep))
    assert answer(proc) == ("alice", "pw-a")
    assert lines(proc.stderr) == [
        PROG + f"skipping Docker config {deep}: not valid JSON (nested too deeply)".encode()
    ]


def test_deeply_nested_appsettings_leaves_explain_doctor_and_kubelet_working(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    settings = tmp_path / "appsettings.json"
    settings.write_text('{"Docker":' * 100_000)
    write_config(env, {"auths": {"r.io": {"username": "alice", "password": "pw-a"}}})
    skipped = (
        PROG + f"skipping {settings}: nested too deeply to be ReadyStackGo's settings".encode()
    )
    extra = {"READYSTACK_APPSETTINGS": str(settings)}
    proc = run("get", stdin=b"r.io", **extra)
    assert answer(proc) == ("alice", "pw-a")
    assert lines(proc.stderr) == [skipped]
    explained = run("explain", "r.io/team/app", **extra)
    assert explained.returncode == 0 and b"username 'alice'" in explained.stdout
    doctor = run("doctor", **extra)
    assert doctor.returncode in (0, 1) and b"Traceback" not in doctor.stderr
    request = {
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": "r.io/team/app",
    }
    kube = run("kubelet", stdin=json.dumps(request).encode(), **extra)
    assert kube.returncode == 0, kube.stderr
    assert json.loads(kube.stdout)["auth"] == {"r.io": {"username": "alice", "password": "pw-a"}}


def test_deeply_nested_kubelet_request_is_refused_in_one_line(run: Run) -> None:
    proc = run("kubelet", stdin=b"[" * 100_000)
    assert (proc.returncode, proc.stdout) == (1, b"")
    assert lines(proc.stderr) == [
        b"docker-credential-readystack kubelet: the request is nested too deeply"
    ]


# ---- 9. files are private whatever a symlink points at ---------------------------------------


def test_store_never_creates_the_database_through_a_dangling_symlink(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere" / "victim.db"
    target.parent.mkdir()
    link = Path(env["READYSTACK_DB"])
    link.symlink_to(target)
    payload = json.dumps({"ServerURL": "r.io", "Username": "u", "Secret": "s3cret"}).encode()
    proc = run("store", stdin=payload)
    assert proc.returncode == 1
    assert proc.stdout == (
        PROG + f"refusing to create the database through the dangling link {link}\n".encode()
    )
    assert not target.exists()


def test_new_database_is_0600_whatever_the_umask(
    exe: Path, env: dict[str, str], tmp_path: Path
) -> None:
    payload = json.dumps({"ServerURL": "r.io", "Username": "u", "Secret": "s3cret"}).encode()
    proc = subprocess.run(
        ["sh", "-c", 'umask 000; exec "$0" store', str(exe)],
        input=payload,
        capture_output=True,
        env=env,
        timeout=HANG_GUARD,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"", b"")
    assert stat.S_IMODE(os.stat(env["READYSTACK_DB"]).st_mode) == 0o600


def test_debug_log_never_follows_a_symlink(run: Run, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("untouched\n")
    link = tmp_path / "debug.log"
    link.symlink_to(victim)
    proc = run("get", stdin=b"r.io", READYSTACK_LOG_FILE=str(link))
    assert (proc.returncode, proc.stdout) == (1, NOT_FOUND)
    # Said once; the trace then goes to stderr, as for any log file that cannot be written.
    assert lines(proc.stderr)[0] == (
        PROG + f"not writing the debug log to {link}: it is a symbolic link".encode()
    )
    assert proc.stderr.count(b"debug log") == 1
    assert victim.read_text() == "untouched\n"


def test_debug_log_that_others_can_read_is_refused(run: Run, tmp_path: Path) -> None:
    log = tmp_path / "debug.log"
    log.write_text("")
    log.chmod(0o644)
    proc = run("get", stdin=b"r.io", READYSTACK_LOG_FILE=str(log))
    assert (proc.returncode, proc.stdout) == (1, NOT_FOUND)
    assert proc.stderr.count(b"debug log") == 1
    assert (
        lines(proc.stderr)[0]
        == PROG
        + (
            f"refusing to append the debug log to {log}: others can read it (mode 0644); "
            "chmod 600 it"
        ).encode()
    )
    assert log.read_text() == ""
    assert stat.S_IMODE(log.stat().st_mode) == 0o644


def test_store_warns_once_about_a_database_others_can_read(run: Run, env: dict[str, str]) -> None:
    db = Path(env["READYSTACK_DB"])
    rawdb.make(db)
    db.chmod(0o644)
    payload = json.dumps({"ServerURL": "r.io", "Username": "u", "Secret": "s"}).encode()
    proc = run("store", stdin=payload)
    assert (proc.returncode, proc.stdout) == (0, b"")
    assert lines(proc.stderr) == [
        PROG + f"{db} has mode 0644: others can read the passwords in it; chmod 600 it".encode()
    ]
    assert answer(run("get", stdin=b"r.io")) == ("u", "s")  # not refused


# ---- 10. never ourselves, whatever the environment says --------------------------------------


def test_helper_that_is_this_executable_is_never_run(
    run: Run, exe: Path, env: dict[str, str], tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker-credential-loop").symlink_to(exe)
    write_config(env, {"credsStore": "loop"})
    log = tmp_path / "debug.log"
    proc = run(
        "get",
        stdin=b"r.io",
        PATH=f"{bin_dir}:/usr/bin:/bin",
        READYSTACK_LOG_FILE=str(log),
        timeout=HANG_GUARD,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, NOT_FOUND, b"")
    assert log.read_text().count("debug: get: server r.io") == 1  # one process, not two


def test_wrapper_that_clears_the_environment_recurses_only_once(
    run: Run, exe: Path, env: dict[str, str], tmp_path: Path
) -> None:
    bin_dir = tmp_path / "bin"
    calls = tmp_path / "calls"
    script(
        bin_dir,
        "docker-credential-wrap",
        f'echo call >> {calls}\nexec env -u READYSTACK_DELEGATED "{exe}" "$@"\n',
    )
    write_config(env, {"credsStore": "wrap"})
    proc = run("get", stdin=b"r.io", PATH=f"{bin_dir}:/usr/bin:/bin", timeout=HANG_GUARD)
    assert (proc.returncode, proc.stdout) == (1, NOT_FOUND)
    # The wrapped helper refused to go on (its stderr is the wrapper's, never echoed).
    assert proc.stderr == b""  # the wrapped helper answered not-found: nothing to say
    assert calls.read_text() == "call\n"
