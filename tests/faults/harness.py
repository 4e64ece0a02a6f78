"""Kill a writer at named points and at random instants; count what was injected and checked.

Every test in tests/faults records its counts here (``tally``); the suite's conftest prints them
at the end of the run, so CI's log carries the numbers the closing note quotes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

HELPER = Path(sys.executable).parent / "docker-credential-readystack"
# (writer, what) -> count; what is "kills", "checks", "failures", "runs" or a named count.
COUNTS: dict[str, Counter[str]] = {}
# Kills per writer in the default run, and in `--long` (or READYSTACK_FAULT_KILLS=N) runs. 200
# each took 9.6 minutes for the whole folder on a shared 2-core machine (load 5): the default
# keeps CI's run near its 5-minute budget.
DEFAULT_KILLS = 100
LONG_KILLS = 2000
# A fixed seed: a failing run is reproduced exactly (timings still vary with the machine).
SEED = 21


def tally(writer: str) -> Counter[str]:
    """The counters of one writer (created on first use)."""
    return COUNTS.setdefault(writer, Counter())


def kills_wanted(config: object) -> int:
    """How many kills each writer gets: READYSTACK_FAULT_KILLS, --long, else the default."""
    configured = os.environ.get("READYSTACK_FAULT_KILLS")
    if configured:
        return int(configured)
    long_run = getattr(config, "getoption", lambda *_: False)("--long", default=False)
    return LONG_KILLS if long_run else DEFAULT_KILLS


def environment(root: Path, db: Path | None = None) -> dict[str, str]:
    """A private environment: every path the helper reads points into ``root``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("READYSTACK_", "DOCKER", "PYTHON_KEYRING", "XDG_")) and k != "DataPath"
    }
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(root / "xdg-data"),
        XDG_CONFIG_HOME=str(root / "xdg-config"),
        DOCKER_CONFIG=str(root / "docker"),
        READYSTACK_DB=str(db or root / "registries.db"),
    )
    return env


def run(
    args: Sequence[str], env: dict[str, str], stdin: bytes = b"", timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """Run the helper to the end."""
    return subprocess.run(
        [str(HELPER), *args], input=stdin, capture_output=True, env=env, timeout=timeout
    )


def kill_at(
    args: Sequence[str], env: dict[str, str], point: str, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    """Run the helper with a named fault point armed: it kills itself there (store/faultpoint)."""
    return run(args, {**env, "READYSTACK_TEST_FAULT_POINT": point}, stdin)


def kill_after(args: Sequence[str], env: dict[str, str], delay: float, stdin: bytes = b"") -> int:
    """Start the helper and SIGKILL it ``delay`` seconds later; its exit status (-9 if killed)."""
    proc = subprocess.Popen(
        [str(HELPER), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        if stdin:
            try:
                proc.stdin.write(stdin)  # type: ignore[union-attr]
            except BrokenPipeError:
                pass
        proc.stdin.close()  # type: ignore[union-attr]
        # The injected fault itself: a random instant within the writer's run, not a wait.
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class Schedule:
    """The kills of one writer: named points in turn, and random instants over its run time."""

    def __init__(self, points: Sequence[str], seed: int = SEED) -> None:
        self.points = list(points)
        self.rng = random.Random(seed)
        self.durations: list[float] = []

    def timed(self, run_once: Callable[[], float]) -> None:
        """Measure the writer's whole run three times (unkilled), as the delays' scale."""
        self.durations = sorted(run_once() for _ in range(3))

    def plan(self, i: int) -> tuple[str | None, float]:
        """Kill ``i``: (a named point, 0) on even turns, else (None, a delay in 0.3-1.1 T)."""
        if self.points and i % 2 == 0:
            return self.points[(i // 2) % len(self.points)], 0.0
        scale = self.durations[1] if self.durations else 0.2
        return None, self.rng.uniform(0.3, 1.1) * scale


def integrity(path: Path) -> None:
    """The file opens with Python's own sqlite3 (an independent reader) and passes the check."""
    conn = sqlite3.connect(path, isolation_level=None)  # read-write: it may roll a journal back
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        conn.close()


def rows(path: Path, where: str = "1 = 1") -> list[sqlite3.Row]:
    """The Registries rows with their side-table entry, read independently of the helper."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "Registries" not in tables:
            return []
        side = "ReadyStackHelper" in tables
        join = ' LEFT JOIN "ReadyStackHelper" h ON h."RegistryId" = r."Id"' if side else ""
        origin = 'h."Origin"' if side else "NULL"
        return conn.execute(
            f'SELECT r.*, {origin} AS "Origin" FROM "Registries" r{join} WHERE {where} '
            'ORDER BY r."Name"'
        ).fetchall()
    finally:
        conn.close()


def get(env: dict[str, str], server: str) -> dict[str, str] | None:
    """What the very next `get` answers (None for not found)."""
    proc = run(["get"], env, server.encode())
    if proc.returncode != 0:
        assert proc.stdout.strip() == b"credentials not found in native keychain", proc
        return None
    return json.loads(proc.stdout)


TX = ("after-begin", "after-row-write", "before-commit")
Attempt = Callable[[int, "str | None", float], int]
Check = Callable[[int, int], int]


def drive(writer: str, kills: int, points: tuple[str, ...], attempt: Attempt, check: Check) -> None:
    """Kill ``writer`` ``kills`` times, checking after each run (killed or not)."""
    counts = tally(writer)
    schedule = Schedule(points)
    durations = []
    for i in range(3):  # unkilled: acknowledged writes, and the run time the delays scale to
        started = time.monotonic()
        assert attempt(i, None, -1) == 0
        durations.append(time.monotonic() - started)
        counts["checks"] += check(i, 0)
    schedule.durations = sorted(durations)
    i = 3
    while counts["kills"] < kills:
        assert i < 4 * kills + 3, f"{writer}: only {counts['kills']} kills in {i} runs"
        point, delay = schedule.plan(i)
        status = attempt(i, point, delay)
        assert status in (0, -9), f"{writer} run {i} ({point or delay}) exited {status}"
        counts["kills" if status == -9 else "completed"] += 1
        if status == -9:
            counts[f"killed at {point}" if point else "killed at random"] += 1
        try:
            counts["checks"] += check(i, status)
        except AssertionError:
            counts["failures"] += 1
            raise
        i += 1


def launch(
    args: list[str], env: dict[str, str], point: str | None, delay: float, stdin: bytes
) -> int:
    """Run unkilled (delay < 0), killed at ``point``, or killed after ``delay`` seconds."""
    if delay < 0:
        proc = run(args, env, stdin)
        assert proc.returncode == 0, proc.stderr
        return 0
    if point:
        proc = kill_at(args, env, point, stdin)
        assert proc.returncode in (0, -9), proc.stderr
        return proc.returncode
    return kill_after(args, env, delay, stdin)


def login(host: str, secret: str) -> bytes:
    """A `docker login`'s store input."""
    return json.dumps({"ServerURL": host, "Username": "me", "Secret": secret}).encode()


def logins(db: Path) -> dict[str, str]:
    """Url -> Password of every login row."""
    return {r["Url"]: r["Password"] for r in rows(db, "h.\"Origin\" = 'login'")}
