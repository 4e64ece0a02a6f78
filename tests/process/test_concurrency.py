"""Parallel store and get calls, as BuildKit and compose make them: nothing lost, no lock errors."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
