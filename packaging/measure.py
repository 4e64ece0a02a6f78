#!/usr/bin/env python3
"""Start-up of the frozen helper against the interpreter it was built from, as paired runs.

    python3 packaging/measure.py \
        --exe dist/docker-credential-readystack/docker-credential-readystack \
        --python build/venv/bin/python [--pairs 40] [--rows 1000] [--check]

Every case is timed as whole processes (posix_spawn + wait4, stdio to /dev/null), paired with
the floor `PYTHON -I -S -c pass`: after warm-ups, each pair runs the case and the floor back to
back, the order alternating from pair to pair so drift hits both sides alike. Reported: the
medians of each side, the median of the pair-by-pair ratios (the figure the budgets are about)
and its spread. Cases: `version`, and `get` of the last of ROWS registries in a database made
here with ReadyStackGo's DDL (the password in the database: the path Docker takes on a pull).
Stdlib only. `--check` exits 1 when a ratio is over its budget (get 2.0x, version 1.5x).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

BUDGETS = {"version": 1.5, "get": 2.0}  # DESIGN.md "Budgets"
STRETCH = {"version": 1.5, "get": 2.0}


def make_db(path: str, rows: int) -> str:
    """A database of ROWS registries (two patterns each); returns the host of the last one."""
    org = str(uuid.UUID(int=1)).upper()
    con = sqlite3.connect(path)
    from readystack.store.schema import SCHEMA  # the installed product's own DDL

    con.executescript(SCHEMA)
    with con:
        con.executemany(
            'INSERT INTO "Registries" VALUES (?, ?, ?, ?, ?, ?, 0, ?, NULL, ?, 1)',
            (
                (
                    str(uuid.UUID(int=i + 100)).upper(),
                    org,
                    f"reg{i}",
                    f"https://registry-{i}.example.com",
                    f"user{i}",
                    f"secret-{i}",
                    "2026-01-01 00:00:00.0000000",
                    json.dumps([f"team{i}/*", f"registry-{i}.example.com/apps/**"]),
                )
                for i in range(rows)
            ),
        )
    con.close()
    return f"registry-{rows - 1}.example.com"


def spawn_ns(argv: list[str], stdin_path: str | None, env: dict[str, str]) -> tuple[int, int]:
    """Wall time and CPU time (user + system) of one whole process, in nanoseconds."""
    actions = []
    if stdin_path:
        actions.append((os.POSIX_SPAWN_OPEN, 0, stdin_path, os.O_RDONLY, 0))
    actions.append((os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0))
    actions.append((os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0))
    start = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter_ns() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"measure: {argv} exited {os.waitstatus_to_exitcode(status)}")
    return elapsed, int((usage.ru_utime + usage.ru_stime) * 1e9)


def paired(case, floor, pairs: int, warmup: int) -> dict:
    for _ in range(warmup):
        spawn_ns(*case)
        spawn_ns(*floor)
    a, b, ratios, cpu_ratios = [], [], [], []
    for i in range(pairs):
        if i % 2:
            tf, tc = spawn_ns(*floor), spawn_ns(*case)
        else:
            tc, tf = spawn_ns(*case), spawn_ns(*floor)
        a.append(tc)
        b.append(tf)
        ratios.append(tc[0] / tf[0])
        cpu_ratios.append(tc[1] / tf[1])
    q = statistics.quantiles(ratios, n=4)
    return {
        "case_ms": statistics.median(t[0] for t in a) / 1e6,
        "floor_ms": statistics.median(t[0] for t in b) / 1e6,
        "ratio": statistics.median(ratios),
        "ratio_q1": q[0],
        "ratio_q3": q[2],
        "case_cpu_ms": statistics.median(t[1] for t in a) / 1e6,
        "floor_cpu_ms": statistics.median(t[1] for t in b) / 1e6,
        "cpu_ratio": statistics.median(cpu_ratios),
        "pairs": pairs,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exe", required=True, help="the frozen docker-credential-readystack")
    ap.add_argument("--python", required=True, help="the interpreter the binary was built from")
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when over budget")
    args = ap.parse_args()

    exe = os.path.abspath(args.exe)
    with tempfile.TemporaryDirectory(prefix="rs-measure-") as tmp:
        db = os.path.join(tmp, "registries.db")
        host = make_db(db, args.rows)
        stdin = os.path.join(tmp, "stdin")
        with open(stdin, "w") as f:
            f.write(host + "\n")
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": tmp,
            "READYSTACK_DB": db,
            "DOCKER_CONFIG": os.path.join(tmp, "docker"),  # no config files to fall back to
        }
        # The answer is checked once, so that a fast failure is never timed as a success.
        out = subprocess.run(
            [exe, "get"], input=host + "\n", env=env, capture_output=True, text=True
        )
        want = f"secret-{args.rows - 1}"
        if out.returncode != 0 or json.loads(out.stdout).get("Secret") != want:
            raise SystemExit(f"measure: get answered {out.returncode} {out.stdout!r} {out.stderr}")
        floor = ([args.python, "-I", "-S", "-c", "pass"], None, env)
        cases = {
            "version": ([exe, "version"], None, env),
            "get": ([exe, "get"], stdin, env),
        }
        results = {name: paired(c, floor, args.pairs, args.warmup) for name, c in cases.items()}

    over = False
    if args.json:
        print(json.dumps(results, indent=2))
    for name, r in results.items():
        verdict = "ok" if r["ratio"] <= BUDGETS[name] else "OVER BUDGET"
        if r["ratio"] <= STRETCH[name] < BUDGETS[name]:
            verdict = "ok (stretch)"
        over |= r["ratio"] > BUDGETS[name]
        print(
            f"{name:8} {r['case_ms']:6.2f} ms  floor {r['floor_ms']:5.2f} ms  "
            f"paired ratio {r['ratio']:.2f} (IQR {r['ratio_q1']:.2f}-{r['ratio_q3']:.2f}, "
            f"{r['pairs']} pairs)  budget {BUDGETS[name]}x: {verdict}; "
            f"CPU {r['case_cpu_ms']:.2f} vs {r['floor_cpu_ms']:.2f} ms, ratio {r['cpu_ratio']:.2f}",
            file=sys.stderr if args.json else sys.stdout,
        )
    return 1 if (args.check and over) else 0


if __name__ == "__main__":
    sys.exit(main())
