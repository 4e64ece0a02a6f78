"""`registry test` of 32 rows that all time out, against one timeout (DESIGN.md's 1.5× budget)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable

from . import log
from .databases import ORG, ORGANIZATIONS_DDL
from .timing import Cmd, med

ROWS = 32
TIMEOUT = 2.0  # seconds: long against start-up (~0.1 s), short enough for a smoke run


def _silent_db(path: str, port: int, n: int) -> None:
    """``n`` rows whose registry (127.0.0.1:port) accepts connections and never answers."""
    from readystack.store.schema import SCHEMA

    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA + ORGANIZATIONS_DDL)
    created = "2026-01-01 00:00:00.0000000"
    conn.execute('INSERT INTO "Organizations" VALUES (?, ?, ?)', (ORG, "bench", created))
    conn.executemany(
        'INSERT INTO "Registries" VALUES (?,?,?,?,?,?,0,?,NULL,?,1)',
        [
            (f"00000000-0000-4000-8000-{i:012d}", ORG, f"silent{i}",
             f"https://127.0.0.1:{port}", f"user{i}", f"secret-{i}", created, "[]")
            for i in range(n)
        ],
    )  # fmt: skip
    conn.commit()
    conn.close()


def all_time_out(
    script: str, ws_tmp: str, env_for: Callable[[str | None], dict[str, str]], runs: int
) -> dict:
    """Wall time of `registry test` for 32 silent rows and for 1, as ratios to the timeout."""
    log(f"\nregistry test: {ROWS} silent rows vs 1 (--timeout {TIMEOUT:g} s, {runs} runs):")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4 * ROWS)  # connections complete in the backlog; nothing ever answers
        port = silent.getsockname()[1]
        cmds = {}
        for n in (ROWS, 1):
            db = f"{ws_tmp}/silent-{n}.db"
            _silent_db(db, port, n)
            argv = [script, "registry", "test", "--json", "--timeout", f"{TIMEOUT:g}"]
            cmds[n] = Cmd(f"regtest-{n}", f"registry test, {n} silent rows", argv, env_for(db))
        walls: dict[int, list[float]] = {ROWS: [], 1: []}
        failures = 0
        for i in range(runs):
            for n in (ROWS, 1) if i % 2 == 0 else (1, ROWS):
                ms, _cpu, status = cmds[n].once()
                walls[n].append(ms)
                failures += status != 1  # every row unreachable: exit 1
    many, one = med(walls[ROWS]), med(walls[1])
    result = {
        "rows": ROWS,
        "timeout_s": TIMEOUT,
        "wall_ms_32": many,
        "wall_ms_1": one,
        "ratio_to_timeout": many / (TIMEOUT * 1000),
        "ratio_to_one_row": many / one,
        "walls_32": walls[ROWS],
        "walls_1": walls[1],
        "failures": failures,
    }
    log(
        f"  {ROWS} rows {many:.0f} ms = {result['ratio_to_timeout']:.2f}× the timeout; "
        f"1 row {one:.0f} ms; {ROWS} vs 1 {result['ratio_to_one_row']:.2f}×"
        + (f"; {failures} runs did not exit 1" if failures else "")
    )
    return result
