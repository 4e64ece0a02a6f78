"""Whom the binary trusts when it runs as `nobody`: nobody's own files and root's, no one else's.

The other side of tests/process/test_trusted_files.py (which runs as root): here "this user" is
`nobody`, and `daemon` is the other user. Only the PyInstaller binary can run as nobody, so this
runs in CI's second pass (READYSTACK_HELPER_EXE) and skips without it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import rawdb

from .test_unprivileged import world  # noqa: F401 - the fixture: a bundle nobody can run

NOBODY = 65534
DAEMON = 1
PROG = b"docker-credential-readystack: "
LOGIN = json.dumps({"ServerURL": "ghcr.io", "Username": "n", "Secret": "nobody-pw"}).encode()


@pytest.fixture
def home(world: Path) -> Iterator[Path]:  # noqa: F811 - the imported fixture
    """nobody's home, with a database of nobody's holding one row, and a config file."""
    folder = world / "home-nobody"
    folder.mkdir(mode=0o755)
    config = folder / ".config" / "docker-credential-readystack" / "config"
    config.parent.mkdir(parents=True)
    db = folder / "ours.db"
    rawdb.make(db)
    rawdb.insert(db, "A0000000-0000-0000-0000-000000000001", "ghcr", "https://ghcr.io")
    config.write_text(f"database = {db}\n")
    for path in (folder, *folder.rglob("*")):
        os.chown(path, NOBODY, NOBODY)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def _as_nobody(bundle: Path, home: Path, verb: str, stdin: bytes) -> subprocess.CompletedProcess:
    exe = bundle / "bundle" / Path(os.environ["READYSTACK_HELPER_EXE"]).name
    env = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={home}"]
    return subprocess.run(
        ["runuser", "-u", "nobody", "--", *env, str(exe), verb],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_nobody_trusts_its_own_config_file_and_a_root_owned_one(
    world: Path,  # noqa: F811
    home: Path,
) -> None:
    config = home / ".config" / "docker-credential-readystack" / "config"
    for owner in (NOBODY, 0):
        os.chown(config, owner, owner)
        got = _as_nobody(world, home, "get", b"ghcr.io")
        assert got.returncode == 0 and got.stderr == b"", (owner, got.stdout, got.stderr)
        assert json.loads(got.stdout)["Secret"] == "pw"


def test_nobody_ignores_a_config_file_another_user_owns(
    world: Path,  # noqa: F811
    home: Path,
) -> None:
    config = home / ".config" / "docker-credential-readystack" / "config"
    os.chown(config, DAEMON, DAEMON)
    got = _as_nobody(world, home, "get", b"ghcr.io")
    assert got.stdout == b"credentials not found in native keychain\n", got.stdout
    why = b"it belongs to daemon; only this user or root may write it and its folders"
    assert got.stderr == PROG + f"ignoring the config file {config}: ".encode() + why + b"\n"


def test_nobody_never_stores_into_a_database_another_user_owns(
    world: Path,  # noqa: F811
    home: Path,
) -> None:
    db = home / "ours.db"
    os.chown(db, DAEMON, DAEMON)
    db.chmod(0o666)  # writable by nobody, and still not nobody's to fill with secrets
    stored = _as_nobody(world, home, "store", LOGIN)
    assert stored.returncode == 1
    assert stored.stdout.startswith(
        PROG + f"refusing to write to the database {db}: it belongs to daemon, ".encode()
    ), stored.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute('SELECT count(*) FROM "Registries"').fetchone() == (1,)
    conn.close()
    got = _as_nobody(world, home, "get", b"ghcr.io")  # reading it stays allowed
    assert got.returncode == 0 and json.loads(got.stdout)["Secret"] == "pw", got.stderr
