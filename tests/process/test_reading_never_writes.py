"""Every reading verb leaves ReadyStackGo's database, and its folder, exactly as they were."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from readystackgo import RunningReadyStackGo, create_readystackgo_database, insert_registry

from .conftest import Run

KUBELET_REQUEST = json.dumps(
    {
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": "ghcr.io/acme/app:1",
    }
).encode()
# Each reading verb with its stdin, and text that proves it read the row ReadyStackGo wrote.
VERBS: dict[str, tuple[tuple[str, ...], bytes, bytes]] = {
    "get": (("get",), b"ghcr.io", b"pw-running"),
    "list": (("list",), b"", b"acme"),
    "kubelet": (("kubelet",), KUBELET_REQUEST, b"pw-running"),
    "resolve": (("resolve", "ghcr.io/acme/app"), b"", b"acme"),
    "explain": (("explain", "ghcr.io/acme/app"), b"", b"ghcr"),
    "doctor": (("doctor",), b"", b"registry row(s)"),
    "registry list": (("registry", "list", "--json"), b"", b"acme"),
    "registry show": (("registry", "show", "ghcr"), b"", b"acme"),
    # No network needed: the row's host does not answer here, the row is read all the same.
    "registry test": (("registry", "test", "--json", "--timeout", "1"), b"", b'"name": "ghcr"'),
}


def _state(folder: Path, db: Path) -> tuple[list[str], bytes, int, bytes | None]:
    wal = Path(f"{db}-wal")
    return (
        sorted(os.listdir(folder)),
        db.read_bytes(),
        db.stat().st_mtime_ns,
        wal.read_bytes() if wal.exists() else None,
    )


@pytest.fixture(params=["wal", "rollback"])
def journal(request: pytest.FixtureRequest) -> str:
    """The database's journal mode: EF Core's WAL, or an older rollback-journal file."""
    return request.param


@pytest.fixture(params=["stopped", "running"])
def database(
    request: pytest.FixtureRequest, journal: str, tmp_path: Path, env: dict[str, str]
) -> Iterator[Path]:
    """ReadyStackGo's database with one row, ReadyStackGo stopped or running, as READYSTACK_DB."""
    db = tmp_path / "rsg" / "readystackgo.db"
    create_readystackgo_database(db, wal=journal == "wal")
    env["READYSTACK_DB"] = str(db)
    with ExitStack() as stack:
        if request.param == "running":
            running = stack.enter_context(RunningReadyStackGo(db))
            running.add("ghcr", "https://ghcr.io", "acme", "pw-running")
            assert os.path.exists(f"{db}-wal") == (journal == "wal")
        else:
            conn = sqlite3.connect(db)
            insert_registry(conn, "ghcr", "https://ghcr.io", "acme", "pw-running")
            conn.commit()
            conn.close()
            assert sorted(os.listdir(db.parent)) == ["readystackgo.db"]
        yield db


@pytest.mark.parametrize("verb", list(VERBS))
def test_reading_verbs_leave_no_trace(run: Run, database: Path, verb: str) -> None:
    args, stdin, proof = VERBS[verb]
    before = _state(database.parent, database)
    proc = run(*args, stdin=stdin)
    assert proof in proc.stdout, (proc.stdout, proc.stderr)
    assert _state(database.parent, database) == before


def test_a_wal_without_its_shm_is_one_stderr_line_and_the_next_source(
    run: Run, env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "rsg" / "readystackgo.db"
    create_readystackgo_database(db)
    with RunningReadyStackGo(db) as running:
        running.add("ghcr", "https://ghcr.io", "acme", "pw")
        kept = Path(f"{db}-wal").read_bytes()
    Path(f"{db}-wal").write_bytes(kept)  # a crash that lost the -shm
    env["READYSTACK_DB"] = str(db)
    docker = Path(env["DOCKER_CONFIG"])
    docker.mkdir()
    auth = "YWxpY2U6ZnJvbS1jb25maWc="  # alice:from-config
    (docker / "config.json").write_text(json.dumps({"auths": {"ghcr.io": {"auth": auth}}}))
    proc = run("get", stdin=b"ghcr.io")
    assert json.loads(proc.stdout)["Secret"] == "from-config"
    assert proc.stderr.count(b"\n") == 1 and b"-wal file exists without its -shm" in proc.stderr
    assert sorted(os.listdir(db.parent)) == ["readystackgo.db", "readystackgo.db-wal"]
