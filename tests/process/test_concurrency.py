"""Parallel calls, as BuildKit and compose make them, and lookups while ReadyStackGo writes."""

from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from readystackgo import RunningReadyStackGo, create_readystackgo_database

STORES, GETS = 20, 40


def test_parallel_store_and_get_lose_nothing(exe: Path, env: dict[str, str]) -> None:
    seed = json.dumps({"ServerURL": "seed.example.com", "Username": "seed", "Secret": "s"})
    subprocess.run([str(exe), "store"], input=seed.encode(), env=env, check=True, timeout=30)

    def call(args: tuple[str, bytes]) -> subprocess.CompletedProcess[bytes]:
        verb, stdin = args
        return subprocess.run(
            [str(exe), verb], input=stdin, capture_output=True, env=env, timeout=60
        )

    jobs: list[tuple[str, bytes]] = []
    for i in range(max(STORES, GETS)):
        if i < STORES:
            payload = {"ServerURL": f"r{i}.example.com", "Username": f"user{i}", "Secret": f"p{i}"}
            jobs.append(("store", json.dumps(payload).encode()))
        if i < GETS:
            jobs.append(("get", b"seed.example.com"))
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, jobs))
    for (verb, _), proc in zip(jobs, results, strict=True):
        assert b"locked" not in proc.stdout + proc.stderr, proc.stderr
        assert proc.returncode == 0, (verb, proc.stdout, proc.stderr)
        if verb == "get":
            assert json.loads(proc.stdout)["Username"] == "seed"
    listed = json.loads(call(("list", b"")).stdout)
    assert listed == {"seed.example.com": "seed"} | {
        f"r{i}.example.com": f"user{i}" for i in range(STORES)
    }


WRITES = 120


def test_lookups_while_readystackgo_writes_never_block_it_and_see_the_last_write(
    exe: Path, env: dict[str, str], tmp_path: Path
) -> None:
    db = tmp_path / "rsg" / "readystackgo.db"
    create_readystackgo_database(db)
    env["READYSTACK_DB"] = str(db)
    # A busy timeout of 0: if a lookup ever held a lock the writer needs, a commit would fail.
    with RunningReadyStackGo(db, busy_timeout=0) as rsg:
        rsg.add("ghcr", "https://ghcr.io", "acme", "p0")
        passwords = {"p0"} | {f"p{i}" for i in range(1, WRITES + 1)}

        def write() -> None:
            for i in range(1, WRITES + 1):
                rsg.set_password("ghcr", f"p{i}")
                time.sleep(0.002)

        def get(_: int) -> subprocess.CompletedProcess[bytes]:
            return subprocess.run(
                [str(exe), "get"], input=b"ghcr.io", capture_output=True, env=env, timeout=60
            )

        with ThreadPoolExecutor(max_workers=GETS + 1) as pool:  # all 40 at once, and the writer
            writer = pool.submit(write)
            results = list(pool.map(get, range(GETS)))
            writer.result()  # raises "database is locked" if any commit had to wait
        for proc in results:
            assert proc.returncode == 0 and proc.stderr == b"", (proc.stdout, proc.stderr)
            assert json.loads(proc.stdout)["Secret"] in passwords
        last = get(0)
        assert json.loads(last.stdout)["Secret"] == f"p{WRITES}"
        assert sorted(os.listdir(db.parent)) == [db.name, f"{db.name}-shm", f"{db.name}-wal"]
    assert os.listdir(db.parent) == [db.name]
