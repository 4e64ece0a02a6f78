"""`sync` against `psql \\copy`: what 10,000 rows add over 10, from PostgreSQL into a local file.

DESIGN.md's budget: what `sync` adds for 10,000 rows over 10 rows (PostgreSQL into a replica) is
at most 2x what `psql \\copy` adds for the same rows to a file. The commands run in one loop,
their order rotating every round; start-up and the driver's import are the same for both sizes
and cancel out of each difference. The budget is judged on a replica in place, a timer's round:
every SOURCE row is read and hashed, as psql reads it, and the replica's stamp says whether it
already holds them. A new replica (the old file removed first) costs a full rewrite: measured
beside it: every host pays it once, and again after each change of the table (a round that
finds one row changed rewrites the replica too).
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable

from . import log
from .databases import Workspace
from .timing import Cmd, med

SIZES = (10, 10000)
PG_USER = "postgres"


def _pg_bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


def _as_postgres(argv: list[str]) -> list[str]:
    # initdb refuses to run as root: the server runs as the unprivileged postgres user.
    return ["runuser", "-u", PG_USER, "--", *argv] if os.geteuid() == 0 else argv


class Server:
    """A private PostgreSQL cluster on 127.0.0.1 for the length of the benchmark."""

    def __init__(self, bindir: str) -> None:
        self.bindir = bindir
        self.root = tempfile.mkdtemp(prefix="rsbench-pg-")
        os.chmod(self.root, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.root, PG_USER, PG_USER)
        self.data = os.path.join(self.root, "data")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._run("initdb", "-A", "trust", "-U", PG_USER, "-D", self.data)
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        log_file = os.path.join(self.root, "log")
        self._run("pg_ctl", "-D", self.data, "-l", log_file, "-w", "-o", opts, "start")

    def _run(self, tool: str, *args: str) -> None:
        argv = _as_postgres([os.path.join(self.bindir, tool), *args])
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def uri(self, database: str) -> str:
        """A libpq URI (trust authentication, no password)."""
        return f"postgresql://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _commands(server: Server, ws: Workspace, script: str, psql: str) -> dict[str, Cmd]:
    cmds = {}
    env = ws.env_for(None)
    for n in SIZES:
        name = f"fleet{n}"
        create = f"CREATE DATABASE {name}"
        subprocess.run([psql, "-X", "-q", "-d", server.uri("postgres"), "-c", create], check=True)
        # Publish the workspace's table of n rows with the helper itself.
        subprocess.run(
            [script, "sync", "--from", ws.dbs[n], "--to", server.uri(name)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        replica = os.path.join(ws.tmp, f"replica-{n}.db")
        cmds[f"sync-{n}"] = Cmd(
            f"fleet-sync-{n}",
            f"sync {n:,} rows",
            ["/bin/sh", "-c", 'rm -f "$1"; exec "$2" sync --from "$3" --to "$1"', "sh",
             replica, script, server.uri(name)],
            env,
        )  # fmt: skip
        current = os.path.join(ws.tmp, f"current-{n}.db")
        cmds[f"current-{n}"] = Cmd(
            f"fleet-current-{n}",
            f"sync {n:,} rows, replica already current",
            [script, "sync", "--from", server.uri(name), "--to", current],
            env,
        )
        copied = os.path.join(ws.tmp, f"copy-{n}.txt")
        query = f"\\copy (SELECT * FROM \"Registries\") TO '{copied}'"
        cmds[f"copy-{n}"] = Cmd(
            f"fleet-copy-{n}",
            f"psql \\copy {n:,} rows",
            ["/bin/sh", "-c", 'exec "$1" -X -q -d "$2" -c "$3"', "sh", psql, server.uri(name),
             query],
            env,
        )  # fmt: skip
    return cmds


def driver_import_ms(py: str, runs: int = 7) -> float:
    """Median cumulative `-X importtime` of `import psycopg` in the bench venv, in ms."""
    times = []
    for _ in range(runs):
        proc = subprocess.run(
            [py, "-X", "importtime", "-c", "import psycopg"], capture_output=True, text=True
        )
        found = re.search(r"^import time:\s+\d+ \|\s+(\d+) \| psycopg$", proc.stderr, re.M)
        if found:
            times.append(int(found.group(1)) / 1000)
    return med(times)


def measure(ws: Workspace, py: str, script: str, rounds: int, warmup: int = 2) -> dict | None:
    """The six commands, ``rounds`` times in rotating order; None when PostgreSQL is missing."""
    bindir = _pg_bin()
    if bindir is None or shutil.which("runuser") is None and os.geteuid() == 0:
        log("\nsync vs psql \\copy: not measured (apt-get install postgresql)")
        return None
    log(f"\nsync vs psql \\copy, 10 and 10,000 rows from PostgreSQL ({rounds} rounds):")
    server = Server(bindir)
    try:
        cmds = _commands(server, ws, script, os.path.join(bindir, "psql"))
        order = list(cmds.values())
        per_round = []
        for r in range(warmup + rounds):
            times = {}
            for k in range(len(order)):
                cmd = order[(r + k) % len(order)]
                ms, _cpu, code = cmd.once()
                if code != 0:
                    cmd.failures += 1
                times[cmd.key] = ms
            if r >= warmup:
                for cmd in order:
                    cmd.samples.append(times[cmd.key])
                per_round.append(times)
    finally:
        server.stop()
    s10, s10k = med(cmds["sync-10"].samples), med(cmds["sync-10000"].samples)
    c10, c10k = med(cmds["copy-10"].samples), med(cmds["copy-10000"].samples)
    u10, u10k = med(cmds["current-10"].samples), med(cmds["current-10000"].samples)
    result = {
        "sync_ms": {"10": s10, "10000": s10k},
        "current_ms": {"10": u10, "10000": u10k},
        "current_added_ms": u10k - u10,
        "copy_ms": {"10": c10, "10000": c10k},
        "sync_added_ms": s10k - s10,
        "copy_added_ms": c10k - c10,
        "ratio": _ratio(per_round, "current"),
        "rewrite_ratio": _ratio(per_round, "sync"),
        "failures": sum(c.failures for c in order),
        "driver_import_ms": driver_import_ms(py),
    }
    log(
        f"  replica in place: sync adds {u10k - u10:.0f} ms ({u10:.0f} -> {u10k:.0f}), "
        f"psql \\copy adds {c10k - c10:.0f} ms ({c10:.0f} -> {c10k:.0f}): "
        f"paired {result['ratio']:.2f}x; failures {result['failures']}"
    )
    log(
        f"  new replica: sync adds {s10k - s10:.0f} ms ({s10:.0f} -> {s10k:.0f}): paired "
        f"{result['rewrite_ratio']:.2f}x; psycopg import {result['driver_import_ms']:.1f} ms"
    )
    return result


def _ratio(per_round: list[dict[str, float]], case: str) -> float:
    """What ``case`` adds for 10,000 rows over 10, over what psql \\copy adds: each the median
    of its per-round differences.

    Each difference is 10-20 ms between processes of about 200 ms, so one round's difference
    can be off by half; a ratio per round then swings with its denominator (a median of such
    ratios read 0.96x to 2.4x across runs). The median differences are steady, and so is
    their ratio.
    """
    added = med([t[f"fleet-{case}-10000"] - t[f"fleet-{case}-10"] for t in per_round])
    copy_added = med([t["fleet-copy-10000"] - t["fleet-copy-10"] for t in per_round])
    return added / copy_added if copy_added > 0 else float("nan")


def add_rows(f: dict | None, add: Callable[..., None], verdict: Callable[..., str]) -> None:
    """The summary rows of this comparison (``add`` takes bench/report.py's Row fields)."""
    case = "`sync` 10,000 vs 10 rows, PostgreSQL into a replica in place, nothing changed"
    if f is None:
        return add(case, float("nan"), "not measured (no PostgreSQL)")
    ok = verdict(f["ratio"], 2.0) if not f["failures"] else f"FAIL ({f['failures']} failed)"
    vs = f"{f['ratio']:.2f}× what `psql \\copy` adds ({f['copy_added_ms']:.0f} ms)"
    add(case, f["current_added_ms"], vs, target="≤ 2×", result=ok)
    rewrite = f"{f['rewrite_ratio']:.2f}× what `psql \\copy` adds"
    add("`sync` 10,000 vs 10, a new replica (a full rewrite)", f["sync_added_ms"], rewrite)
    add("import of the PostgreSQL driver (psycopg)", f["driver_import_ms"], "-X importtime")
