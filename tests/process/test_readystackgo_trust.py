"""`configure-docker --readystackgo` against a fake Engine API (issue 24, items 2 and 7).

The engine answers on a unix socket with containers the tests describe: one named `readystackgo`
that runs another image, bind mounts of folders `nobody` owns or anyone may write, a mount
source with a newline in it. Each is refused before anything is written.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeengine import FakeEngine, container
from readystackgo import create_readystackgo_database, insert_registry

from .conftest import Run

NOBODY = 65534
IMAGE = "wiesenwischer/readystackgo:0.5.1"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to nobody")


def _data_folder(where: Path) -> Path:
    """A folder holding a ReadyStackGo database with one host, owned by root, 0755/0644."""
    where.mkdir(mode=0o755)
    db = where / "readystackgo.db"
    create_readystackgo_database(db)
    conn = sqlite3.connect(db)
    insert_registry(conn, "ghcr", "https://ghcr.io", "acme", "pw")
    conn.commit()
    conn.close()
    db.chmod(0o644)
    return where


def _bind(source: Path | str) -> list[dict]:
    return [{"Type": "bind", "Source": str(source), "Destination": "/app/data", "RW": True}]


@pytest.fixture
def engine() -> Iterator[FakeEngine]:
    """A fake Engine API listing no container yet; a test appends to ``engine.containers``."""
    with FakeEngine([]) as fake:
        yield fake


def _configure(run: Run, engine: FakeEngine, *args: str) -> subprocess.CompletedProcess[bytes]:
    return run("configure-docker", "--readystackgo", *args, DOCKER_HOST=engine.docker_host)


def _config_file(env: dict[str, str]) -> Path:
    return Path(env["HOME"]) / ".config" / "docker-credential-readystack" / "config"


def _nothing_written(env: dict[str, str]) -> None:
    assert not _config_file(env).exists()
    assert not (Path(env["DOCKER_CONFIG"]) / "config.json").exists()


def test_a_readystackgo_container_with_a_root_owned_database_is_wired(
    run: Run, env: dict[str, str], tmp_path: Path, engine: FakeEngine
) -> None:
    data = _data_folder(tmp_path / "data")
    engine.containers.append(container("readystackgo", IMAGE, _bind(data)))
    proc = _configure(run, engine)
    assert proc.returncode == 0, proc.stderr
    assert _config_file(env).read_text() == f"database = {data}/readystackgo.db\n"
    wired = json.loads((Path(env["DOCKER_CONFIG"]) / "config.json").read_text())
    assert wired["credHelpers"] == {"ghcr.io": "readystack"}


@as_root
def test_a_container_named_readystackgo_running_another_image_is_refused(
    run: Run, env: dict[str, str], tmp_path: Path, engine: FakeEngine
) -> None:
    # The review's reproduction: `alpine` named readystackgo, nobody's folder at /app/data.
    data = _data_folder(tmp_path / "evil")
    os.chown(data, NOBODY, NOBODY)
    os.chown(data / "readystackgo.db", NOBODY, NOBODY)
    engine.containers.append(container("readystackgo", "alpine", _bind(data)))
    proc = _configure(run, engine)
    assert proc.returncode == 1
    assert proc.stderr.decode().startswith(
        "docker-credential-readystack: container readystackgo runs alpine, not "
        "wiesenwischer/readystackgo: "
    ), proc.stderr
    assert b"--allow-image IMAGE" in proc.stderr
    _nothing_written(env)
    # A container named on the command line: the same rule.
    engine.containers[0] = container("other", "alpine", _bind(data))
    proc = _configure(run, engine, "other")
    assert proc.returncode == 1 and b"runs alpine, not wiesenwischer/readystackgo" in proc.stderr
    _nothing_written(env)


@as_root
def test_allow_image_passes_the_image_but_never_a_folder_nobody_owns(
    run: Run, env: dict[str, str], tmp_path: Path, engine: FakeEngine
) -> None:
    data = _data_folder(tmp_path / "evil")
    os.chown(data, NOBODY, NOBODY)
    engine.containers.append(container("readystackgo", "alpine", _bind(data)))
    proc = _configure(run, engine, "--allow-image", "alpine")
    assert proc.returncode == 1
    assert (
        f"refusing ReadyStackGo's database {data}/readystackgo.db: its folder {data} belongs "
        "to nobody".encode()
    ) in proc.stderr, proc.stderr
    _nothing_written(env)


@as_root
@pytest.mark.parametrize("case", ["file-of-nobody", "folder-0777", "file-0666", "parent-0775"])
def test_a_database_others_own_or_may_write_is_refused(
    run: Run, env: dict[str, str], tmp_path: Path, engine: FakeEngine, case: str
) -> None:
    parent = tmp_path / "srv"
    parent.mkdir(mode=0o755)
    data = _data_folder(parent / "data")
    db = data / "readystackgo.db"
    expected = {
        "file-of-nobody": "the file belongs to nobody",
        "folder-0777": f"its folder {data} is writable by group and others (mode 0777)",
        "file-0666": "the file is writable by group and others (mode 0666)",
        "parent-0775": f"its folder {parent} is writable by its group (mode 0775)",
    }[case]
    if case == "file-of-nobody":
        os.chown(db, NOBODY, NOBODY)
    elif case == "folder-0777":
        data.chmod(0o777)
    elif case == "file-0666":
        db.chmod(0o666)
    else:
        parent.chmod(0o775)
    engine.containers.append(container("rsg", IMAGE, _bind(data)))
    proc = _configure(run, engine, "rsg")
    assert proc.returncode == 1
    assert f"refusing ReadyStackGo's database {db}: {expected}".encode() in proc.stderr, proc.stderr
    _nothing_written(env)


@pytest.mark.parametrize("optimize", [False, True], ids=["python", "python-O"])
def test_a_newline_in_the_mount_source_never_writes_a_second_line(
    env: dict[str, str], tmp_path: Path, engine: FakeEngine, optimize: bool
) -> None:
    # Issue 24 item 7: once stopped by an `assert` only, which `python -O` drops.
    data = _data_folder(tmp_path / "nl\nsync-from = ")
    engine.containers.append(container("readystackgo", IMAGE, _bind(data)))
    flags = ["-O"] if optimize else []
    proc = subprocess.run(
        [sys.executable, *flags, "-m", "readystack.helper", "configure-docker", "--readystackgo"],
        capture_output=True,
        env={**env, "DOCKER_HOST": engine.docker_host},
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert b"has a control character" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    _nothing_written(env)
