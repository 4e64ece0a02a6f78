"""Cells longer than ReadyStackGo's maximums, and stdin past 1 MiB (DESIGN.md: whom it trusts).

The reproduction: a replica holding a row with a 60 MB Url and a 60 MB Password made every `get`
of its host and every `list` hold the cells in Python (777 MB), and `store` read all of a 100 MB
stdin before refusing it.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import rawdb

from .conftest import Run

BIG = 60 << 20  # 60 MB, as in the reproduction
# A child's peak RSS stays well below what holding one such cell twice in Python took (777 MB).
RSS_CEILING_KB = 300 << 10
# `store` may read 1 MiB + 1 byte; the pipe (64 KiB) and the reader's buffer hold a little more.
READ_CEILING = 4 << 20

# Runs the command and prints its peak RSS in KiB: a fresh parent, so no other child counts.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)\n"
    "sys.stderr.buffer.write(done.stderr)\n"
    "sys.stdout.buffer.write(done.stdout)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'\\nexit {done.returncode} rss {peak}')"
)


def _measured(exe: Path, env: dict[str, str], *args: str) -> tuple[bytes, int, int]:
    """(stdout, exit status, peak RSS in KiB) of the helper run with ``args``, stdin empty."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(exe), *args],
        capture_output=True,
        env=env,
        timeout=120,
    )
    out, _, tail = done.stdout.rpartition(b"\nexit ")
    status, _, rss = tail.decode().split()
    return out, int(status), int(rss)


@pytest.fixture
def big_replica(env: dict[str, str]) -> Path:
    """A replica with one usable row for ghcr.io and one whose Url and Password are 60 MB."""
    path = Path(env["READYSTACK_DB"])
    rawdb.make(path)
    rawdb.insert(path, "A", "huge", "https://ghcr.io/" + "a" * BIG, "bob", "p" * BIG)
    rawdb.insert(path, "B", "ghcr", "https://ghcr.io", "alice", "pw")
    return path


def test_get_and_list_skip_the_huge_row_in_sql(
    exe: Path, env: dict[str, str], big_replica: Path, tmp_path: Path
) -> None:
    # `get` reads its host from stdin: a file holds it, so the measuring parent passes none.
    script = tmp_path / "get.sh"
    script.write_text(f'#!/bin/sh\nprintf ghcr.io | exec "{exe}" get\n')
    script.chmod(0o755)
    out, status, rss = _measured(script, env)
    assert (status, json.loads(out)) == (
        0,
        {"ServerURL": "ghcr.io", "Username": "alice", "Secret": "pw"},
    )
    assert rss < RSS_CEILING_KB, f"get peaked at {rss} KiB"
    out, status, rss = _measured(exe, env, "list")
    assert (status, json.loads(out)) == (0, {"ghcr.io": "alice"})
    assert rss < RSS_CEILING_KB, f"list peaked at {rss} KiB"


def test_doctor_counts_the_skipped_row(run: Run, big_replica: Path) -> None:
    proc = run("doctor", timeout=120)
    lines = proc.stdout.decode().splitlines()
    assert any(
        "Id 'A': its Url is longer than 500 characters, ReadyStackGo's maximum" in line
        for line in lines
    ), lines
    assert any(
        "1 registry row(s) with a cell longer than ReadyStackGo's maximum" in line for line in lines
    )
    assert any(line.startswith("ok") and "1 registry row(s)" in line for line in lines)
    assert len(proc.stdout) < 10_000


def test_sync_refuses_the_huge_row_with_one_line(
    run: Run, big_replica: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "copy.db"
    proc = run("sync", "--from", str(big_replica), "--to", str(dest), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode().splitlines() == [
        "docker-credential-readystack: registry 'huge': its Url is longer than 500 characters, "
        "ReadyStackGo's maximum; not copied"
    ]
    assert b"1 added" in proc.stdout
    db = sqlite3.connect(dest)
    try:
        assert db.execute('SELECT "Id", "Name" FROM "Registries"').fetchall() == [("B", "ghcr")]
    finally:
        db.close()


def test_store_of_a_huge_stdin_stops_reading_at_1_mib(exe: Path, env: dict[str, str]) -> None:
    proc = subprocess.Popen(
        [str(exe), "store"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    assert proc.stdin is not None and proc.stdout is not None
    written = 0

    def feed() -> None:
        # 100 MB in 1 MiB chunks, until the helper closes its end of the pipe.
        nonlocal written
        chunk = b"{" + b" " * ((1 << 20) - 1)
        try:
            for _ in range(100):
                proc.stdin.write(chunk)  # type: ignore[union-attr]
                written += len(chunk)
            proc.stdin.close()  # type: ignore[union-attr]
        except BrokenPipeError:
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    out = proc.stdout.read()
    assert proc.wait(timeout=60) == 1
    feeder.join(timeout=60)
    assert not feeder.is_alive()
    assert out == b"credentials payload is larger than 1048576 bytes\n"
    assert written < READ_CEILING, f"the helper took {written} bytes of stdin"


def test_a_login_token_past_1000_characters_still_answers(run: Run) -> None:
    # ECR passwords and registries' identity tokens run past ReadyStackGo's 1000: a login row's
    # secret is bounded by what `store` reads, not by the Password column's maximum.
    token = "t" * 5000
    payload = json.dumps(
        {"ServerURL": "123.dkr.ecr.example.com", "Username": "AWS", "Secret": token}
    )
    assert run("store", stdin=payload.encode()).returncode == 0
    proc = run("get", stdin=b"123.dkr.ecr.example.com")
    assert (proc.returncode, json.loads(proc.stdout)["Secret"]) == (0, token)


def test_registry_add_refuses_patterns_past_4000_characters(run: Run) -> None:
    patterns = [f"ghcr.io/team{i}/" + "a" * 440 for i in range(10)]
    args = [arg for p in patterns for arg in ("--pattern", p)]
    proc = run("registry", "add", "ghcr", "--url", "https://ghcr.io", *args)
    assert proc.returncode == 1
    assert b"patterns take more than 4000 characters" in proc.stderr
    assert run("registry", "add", "ghcr", "--url", "https://ghcr.io", *args[:16]).returncode == 0
