"""Files another user controls never choose where our secrets go (issue 24, item 1).

As root, with `nobody` as the other user: config files `nobody` owns or could write (the file,
a folder above it, a symlink), and a database file `nobody` owns. The review's reproduction:
`nobody` writes `database = evil.db` into a config file root reads, and root's `docker login`
put root's password into nobody's file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
import rawdb

from .conftest import Run

NOBODY = 65534
LOGIN = json.dumps({"ServerURL": "ghcr.io", "Username": "root", "Secret": "root-hub-pw"}).encode()
PROG = b"docker-credential-readystack: "
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to nobody")


def _evil_db(tmp_path: Path) -> Path:
    """nobody's database, mode 0600, in a folder of theirs."""
    folder = tmp_path / "nobody"
    folder.mkdir()
    evil = folder / "evil.db"
    rawdb.make(evil)
    evil.chmod(0o600)
    os.chown(folder, NOBODY, NOBODY)
    os.chown(evil, NOBODY, NOBODY)
    return evil


def _config(env: dict[str, str], text: str) -> Path:
    path = Path(env["HOME"]) / ".config" / "docker-credential-readystack" / "config"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        found = conn.execute('SELECT "Username", "Password" FROM "Registries"').fetchall()
    conn.close()
    return found


@as_root
@pytest.mark.parametrize("how", ["owned-by-nobody", "mode-0666", "folder-of-nobody", "folder-0777"])
def test_a_config_file_nobody_could_write_is_ignored_and_the_login_stays_home(
    run: Run, env: dict[str, str], tmp_path: Path, how: str
) -> None:
    del env["READYSTACK_DB"]
    evil = _evil_db(tmp_path)
    config = _config(env, f"database = {evil}\n")
    why = {
        "owned-by-nobody": "it belongs to nobody",
        "mode-0666": "it is writable by group and others (mode 0666)",
        "folder-of-nobody": f"its folder {config.parent} belongs to nobody",
        "folder-0777": f"its folder {config.parent} is writable by group and others (mode 0777)",
    }[how]
    if how == "owned-by-nobody":
        os.chown(config, NOBODY, NOBODY)
    elif how == "mode-0666":
        config.chmod(0o666)
    elif how == "folder-of-nobody":
        os.chown(config.parent, NOBODY, NOBODY)
    else:
        config.parent.chmod(0o777)
    line = PROG + f"ignoring the config file {config}: {why}; only this user or root ".encode()
    line += b"may write it and its folders"
    proc = run("store", stdin=LOGIN)
    assert (proc.returncode, proc.stdout) == (0, b""), proc.stdout
    assert proc.stderr.splitlines() == [line]
    assert _rows(evil) == []
    default = Path(env["XDG_DATA_HOME"]) / "docker-credential-readystack" / "registries.db"
    assert _rows(default) == [("root", "root-hub-pw")]
    doctor = run("doctor")
    out = doctor.stdout.decode()
    assert f"PROBLEM  ignoring {config}: {why}" in out, out
    assert "chosen by database in" not in out
    assert str(evil) not in out


@as_root
def test_a_symlinked_config_file_is_not_followed_and_never_quoted(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    secret = tmp_path / "root-only"
    secret.write_text("secrets = TOPSECRET-VALUE\n")
    secret.chmod(0o600)
    config = _config(env, "")
    config.unlink()
    config.symlink_to(secret)
    doctor = run("doctor")
    assert b"TOPSECRET" not in doctor.stdout + doctor.stderr
    expected = f"ignoring {config}: it is a symbolic link, which is not followed"
    assert f"PROBLEM  {expected}".encode() in doctor.stdout, doctor.stdout
    proc = run("store", stdin=LOGIN)  # store reads the `secrets` key
    assert proc.returncode == 0, proc.stdout
    warning = f"ignoring the config file {config}: it is a symbolic link, which is not followed"
    assert proc.stderr == PROG + warning.encode() + b"\n"


def test_doctor_names_the_key_and_the_file_never_a_refused_value(
    run: Run, env: dict[str, str]
) -> None:
    config = _config(env, "secrets = TOPSECRET-VALUE\nreadonly = hunter2\n")
    doctor = run("doctor")
    assert b"TOPSECRET" not in doctor.stdout + doctor.stderr
    assert b"hunter2" not in doctor.stdout + doctor.stderr
    out = doctor.stdout.decode()
    assert f"PROBLEM  {config} line 1: secrets must be database or keyring; line skipped" in out
    assert f"PROBLEM  {config} line 2: readonly must be true or false; line skipped" in out


@as_root
def test_store_refuses_a_database_nobody_owns_even_from_a_trusted_config(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    del env["READYSTACK_DB"]
    evil = _evil_db(tmp_path)
    _config(env, f"database = {evil}\n")
    refusal = (
        f"refusing to write to the database {evil}: it belongs to nobody, not to this user "
        "(root) or root"
    ).encode()
    proc = run("store", stdin=LOGIN)
    assert proc.returncode == 1
    assert proc.stdout.startswith(PROG + refusal), proc.stdout
    add = ("registry", "add", "g", "--url", "ghcr.io", "--username", "u", "--password-stdin")
    for args in (add, ("registry", "update", "g", "--username", "v")):
        proc = run(*args, stdin=b"pw\n")
        assert proc.returncode == 1 and proc.stderr.startswith(PROG + refusal), proc.stderr
    for to in ("database", "keyring"):
        proc = run("registry", "move-secrets", "--to", to)
        assert proc.returncode == 1 and proc.stderr.startswith(PROG + refusal), proc.stderr
    assert _rows(evil) == []
    # Reading someone else's table is fine: ReadyStackGo's own database is one.
    rawdb.insert(evil, "A0000000-0000-0000-0000-000000000001", "ghcr", "https://ghcr.io")
    proc = run("get", stdin=b"ghcr.io")
    assert proc.returncode == 0 and json.loads(proc.stdout)["Secret"] == "pw", proc.stdout
    doctor = run("doctor")
    assert f"warning  {evil} belongs to nobody".encode() in doctor.stdout, doctor.stdout
    # An administrator who names the file with --db means it.
    proc = run(*add, "--db", str(evil), stdin=b"pw\n")
    assert proc.returncode == 0, proc.stderr
    proc = run("registry", "update", "g", "--username", "v", "--db", str(evil))
    assert proc.returncode == 0, proc.stderr
