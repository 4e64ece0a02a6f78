"""PostgreSQL that dies, ends our session or stalls: every wait ends, nothing is half-written.

Against the suite's real cluster (tests/postgres.py): `pg_ctl stop -m immediate` at random
instants of `sync` in both directions, `pg_terminate_backend` of our session in the middle of a
COPY, an ACCESS EXCLUSIVE lock held by another session, and a SIGSTOPped server.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import rawdb
from postgres import BIN, Cluster

from .harness import HELPER, SEED, environment, integrity, run, tally
from .test_kill_sync import _copied, _expected, _pg_rows, _sources

# A round bounded by --timeout T ends within T, our client grace (2 s) and the start-up.
TIMEOUT = 2
BOUND = TIMEOUT + 2 + 8
COPIED = "coalesce(h.\"Origin\", 'admin') <> 'login'"


def _one_line(stderr: bytes) -> str:
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0] and "Error:" not in lines[0], lines[0]
    return lines[0]


def _wait(predicate, what: str, deadline: float = 30) -> None:
    end = time.monotonic() + deadline
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)


def _stopped(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0] == "T"


def _server_pids(cluster: Cluster) -> list[int]:
    master = int((cluster.data / "postmaster.pid").read_text().split()[0])
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == master:
                        children.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return [master, *children]


@contextmanager
def _frozen(cluster: Cluster) -> Iterator[None]:
    """The whole server SIGSTOPped: its kernel still accepts connections, nothing answers."""
    pids = _server_pids(cluster)
    try:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass  # a backend that ended meanwhile
        yield
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass


def _start(args: list[str], env: dict[str, str], **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(HELPER), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, **extra},
    )


def _finish(proc: subprocess.Popen[bytes], bound: float) -> tuple[int, bytes, float]:
    started = time.monotonic()
    try:
        out, err = proc.communicate(timeout=bound)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"the helper was still waiting after {bound}s")
    return proc.returncode, err, time.monotonic() - started


@pytest.fixture
def world(fast_tmp: Path, pg_cluster: Cluster) -> Iterator[tuple[dict[str, str], dict, str]]:
    """A private environment, two SQLite SOURCEs, and a PostgreSQL database holding source a."""
    env = environment(fast_tmp)
    sources = _sources(fast_tmp)
    uri = pg_cluster.new_database()
    assert run(["sync", "--from", str(sources["a"]), "--to", uri], env).returncode == 0
    with psycopg.connect(uri, autocommit=True) as conn:  # what the checks join
        conn.execute(rawdb.SIDE.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
    yield env, sources, uri


@contextmanager
def _locked(cluster: Cluster, uri: str) -> Iterator[None]:
    """Another session holds ACCESS EXCLUSIVE on "Registries" until the block ends."""
    sql = 'BEGIN; LOCK TABLE "Registries" IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(600);'
    holder = subprocess.Popen(
        [str(BIN / "psql"), "-X", "-q", "-d", uri, "-c", sql],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        granted = "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted"
        _wait(lambda: cluster.psql(granted, uri.rsplit("/", 1)[1]).strip() != "0", "the lock")
        yield
    finally:
        # Killing psql alone would leave its backend asleep in pg_sleep, holding the lock.
        cluster.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE query LIKE '%pg_sleep(600)%' AND pid <> pg_backend_pid()"
        )
        holder.kill()
        holder.wait()


def test_a_held_lock_is_bounded_by_timeout_in_both_directions(world, pg_cluster: Cluster) -> None:
    """One line, exit 1, DEST untouched; with --every the rounds go on and catch up."""
    env, sources, uri = world
    counts = tally("PostgreSQL: ACCESS EXCLUSIVE lock held")
    dest = Path(env["READYSTACK_DB"])
    assert run(["sync", "--from", uri], env).returncode == 0
    before = dest.read_bytes()
    with _locked(pg_cluster, uri):
        for args in (["sync", "--from", uri], ["sync", "--from", str(sources["b"]), "--to", uri]):
            status, err, took = _finish(_start([*args, "--timeout", str(TIMEOUT)], env), BOUND)
            counts["faults"] += 1
            # statement_timeout or lock_timeout, whichever the server counts out first.
            assert status == 1 and f"timeout (--timeout {TIMEOUT}s)" in _one_line(err)
            assert took < BOUND
            counts["checks"] += 1
        assert dest.read_bytes() == before
        counts["checks"] += 1
        every = _start(["sync", "--from", uri, "--every", "1", "--timeout", "1"], env)
        # Ends a helper that would wait for ever, so that readline below cannot hang the test.
        guard = threading.Timer(BOUND * 3, every.kill)
        guard.start()
        # Two rounds end on the lock, each with its line; the timer's loop keeps going.
        lines = [every.stderr.readline() for _ in range(2)]  # type: ignore[union-attr]
    assert _pg_rows(uri, COPIED) == _expected("a")  # (read once the lock is gone)
    counts["checks"] += 1
    try:
        assert all(b"timeout (--timeout 1s)" in line for line in lines), lines
        line = every.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith(b"synced "), line  # the lock is gone: the next round succeeds
        counts["checks"] += 2
    finally:
        every.send_signal(signal.SIGTERM)
        assert every.wait(timeout=30) == 0
        guard.cancel()


def test_a_stopped_server_is_bounded_at_connect_and_mid_transaction(
    world, pg_cluster: Cluster
) -> None:
    """SIGSTOP: the kernel accepts, nobody answers; our deadline ends the wait, not the server."""
    env, sources, uri = world
    counts = tally("PostgreSQL: server SIGSTOPped")
    with _frozen(pg_cluster):
        status, err, took = _finish(
            _start(["sync", "--from", uri, "--timeout", str(TIMEOUT)], env), BOUND
        )
    counts["faults"] += 1
    assert status == 1 and "cannot read" in _one_line(err) and took < BOUND
    counts["checks"] += 1
    # Mid-transaction: the writer stops itself after BEGIN, the server is frozen, it goes on.
    proc = _start(
        ["sync", "--from", str(sources["b"]), "--to", uri, "--timeout", str(TIMEOUT)],
        env,
        READYSTACK_TEST_FAULT_POINT="after-begin:stop",
    )
    try:
        _wait(lambda: _stopped(proc.pid), "the writer to stop after BEGIN")
        with _frozen(pg_cluster):
            proc.send_signal(signal.SIGCONT)
            status, err, took = _finish(proc, BOUND)
    finally:
        if proc.poll() is None:
            proc.kill()
    counts["faults"] += 1
    assert status == 1 and "did not answer" in _one_line(err), err
    assert _pg_rows(uri, COPIED) == _expected("a")
    again = run(["sync", "--from", str(sources["b"]), "--to", uri, "--timeout", "10"], env)
    assert again.returncode == 0, again.stderr
    assert _pg_rows(uri, COPIED) == _expected("b")
    counts["checks"] += 4


def test_our_session_terminated_mid_copy(world, pg_cluster: Cluster) -> None:
    """pg_terminate_backend while the COPY into DEST runs: exit 1, DEST as it was."""
    env, sources, uri = world
    counts = tally("PostgreSQL: pg_terminate_backend mid-COPY")
    proc = _start(
        ["sync", "--from", str(sources["b"]), "--to", uri, "--timeout", "10"],
        env,
        READYSTACK_TEST_FAULT_POINT="mid-copy:stop",
    )
    try:
        _wait(lambda: _stopped(proc.pid), "the writer to stop mid-COPY")
        ended = pg_cluster.psql(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = 'docker-credential-readystack'"
        )
        assert ended.strip() == "1"
        proc.send_signal(signal.SIGCONT)
        status, err, _took = _finish(proc, BOUND)
    finally:
        if proc.poll() is None:
            proc.kill()
    counts["faults"] += 1
    assert status == 1 and "cannot write" in _one_line(err)
    assert _pg_rows(uri, COPIED) == _expected("a")
    again = run(["sync", "--from", str(sources["b"]), "--to", uri], env)
    assert again.returncode == 0 and _pg_rows(uri, COPIED) == _expected("b")
    counts["checks"] += 3


def _immediate_stop(cluster: Cluster) -> None:
    cluster._run([str(BIN / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "-w", "stop"])


@pytest.mark.parametrize("direction", ["to", "from"])
def test_the_server_killed_at_random_instants(world, pg_cluster: Cluster, direction: str) -> None:
    """`pg_ctl stop -m immediate` during sync: exit 0 or one line and 1; the next run succeeds."""
    env, sources, uri = world
    counts = tally(f"PostgreSQL: pg_ctl stop -m immediate during sync --{direction}")
    rng = random.Random(SEED)
    dest = Path(env["READYSTACK_DB"])
    rounds = int(os.environ.get("READYSTACK_FAULT_PG_STOPS", "6"))
    state = [_expected("a")]
    if direction == "from":
        assert run(["sync", "--from", uri], env).returncode == 0
        state = [_copied(dest)]
    for n in range(rounds):
        key = "b" if n % 2 == 0 else "a"
        if direction == "from":  # SOURCE changes on the server; DEST is the local replica
            assert run(["sync", "--from", str(sources[key]), "--to", uri], env).returncode == 0
            args = ["sync", "--from", uri, "--timeout", str(TIMEOUT)]
        else:
            args = ["sync", "--from", str(sources[key]), "--to", uri, "--timeout", str(TIMEOUT)]
        proc = _start(args, env)
        time.sleep(rng.uniform(0.05, 0.6))  # the injected fault: a random instant of the run
        _immediate_stop(pg_cluster)
        counts["faults"] += 1
        status, err, _took = _finish(proc, BOUND)
        pg_cluster.start()
        assert status in (0, 1), err
        if status:
            _one_line(err)
        counts["exit 1" if status else "exit 0"] += 1
        if direction == "to":
            found = _pg_rows(uri, COPIED)
            assert found in (state[0], _expected(key)) if status else found == _expected(key)
        else:
            integrity(dest)
            found = _copied(dest)
            assert found in (state[0], _expected(key)) if status else found == _expected(key)
        again = run(args[:-2] + ["--timeout", "10"], env)
        assert again.returncode == 0, again.stderr
        state[0] = _expected(key) if direction == "to" else _copied(dest)
        assert state[0] == _expected(key)
        counts["checks"] += 4
