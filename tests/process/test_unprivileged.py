"""The binary as a user who can read ReadyStackGo's database but not write its folder.

`nobody` cannot reach the interpreter under /root, so this runs the PyInstaller binary
(READYSTACK_HELPER_EXE), copied into a world-readable folder. Without it the test skips; CI sets
it in its second pass, where nothing here may skip.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from readystackgo import RunningReadyStackGo, create_readystackgo_database, insert_registry


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason} (CI=true with READYSTACK_HELPER_EXE set: must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def world() -> Iterator[Path]:
    """A root-owned 0755 folder holding a copy of the binary's bundle that `nobody` can run."""
    exe = os.environ.get("READYSTACK_HELPER_EXE")
    if not exe:
        pytest.skip("READYSTACK_HELPER_EXE is not set: `nobody` can run only the binary")
    if os.geteuid() != 0 or not shutil.which("runuser"):
        _unavailable("needs root and runuser to run the binary as nobody")
    folder = Path(tempfile.mkdtemp(prefix="rsg-nobody-", dir="/tmp"))
    try:
        bundle = Path(exe).resolve().parent
        shutil.copytree(bundle, folder / "bundle", symlinks=True)
        subprocess.run(["chmod", "-R", "a+rX", str(folder)], check=True)
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder)


def _as_nobody(world: Path, db: Path, verb: str, stdin: bytes) -> subprocess.CompletedProcess:
    exe = world / "bundle" / Path(os.environ["READYSTACK_HELPER_EXE"]).name
    env = ["env", "-i", "PATH=/usr/bin:/bin", f"HOME={world}", f"READYSTACK_DB={db}"]
    return subprocess.run(
        ["runuser", "-u", "nobody", "--", *env, str(exe), verb],
        input=stdin,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.parametrize("journal", ["wal", "rollback"])
@pytest.mark.parametrize("readystackgo", ["stopped", "running"])
def test_nobody_reads_a_root_owned_database_in_a_root_owned_folder(
    world: Path, journal: str, readystackgo: str
) -> None:
    folder = world / f"data-{journal}-{readystackgo}"
    db = folder / "readystackgo.db"
    create_readystackgo_database(db, wal=journal == "wal")
    folder.chmod(0o755)
    db.chmod(0o644)
    with ExitStack() as stack:
        if readystackgo == "running":
            running = stack.enter_context(RunningReadyStackGo(db))
            running.add("ghcr", "https://ghcr.io", "acme", "first")
            running.set_password("ghcr", "second")
            for side in ("-wal", "-shm"):
                if os.path.exists(f"{db}{side}"):
                    os.chmod(f"{db}{side}", 0o644)  # as a root ReadyStackGo's umask leaves them
        else:
            conn = sqlite3.connect(db)
            insert_registry(conn, "ghcr", "https://ghcr.io", "acme", "second")
            conn.commit()
            conn.close()
        before = (sorted(os.listdir(folder)), db.read_bytes(), db.stat().st_mtime_ns)
        got = _as_nobody(world, db, "get", b"ghcr.io")
        listed = _as_nobody(world, db, "list", b"")
        assert got.returncode == 0, (got.stdout, got.stderr)
        assert json.loads(got.stdout)["Secret"] == "second" and got.stderr == b""
        assert json.loads(listed.stdout) == {"ghcr.io": "acme"}, listed.stderr
        assert (sorted(os.listdir(folder)), db.read_bytes(), db.stat().st_mtime_ns) == before
    shutil.rmtree(folder)
