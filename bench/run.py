#!/usr/bin/env python3
"""Start-up and scale benchmark for docker-credential-readystack (issue 6, DESIGN.md "Budgets").

    python bench/run.py                 # full run, about 2.5 minutes on a 2-core machine
    python bench/run.py --quick         # smoke run: few pairs, same cases
    python bench/run.py --pairs 50      # more pairs, tighter medians

What it does, one module of this package each:
  * install: installs the current checkout (a copy of helper/, store/, pyproject.toml,
    README.md) into bench/.venv as a regular, non-editable install (the budgets are defined on
    one; an editable install adds import machinery), reinstalling only when the sources changed;
  * databases: ReadyStackGo-shaped databases (DESIGN.md's DDL, raw sqlite3) with 10, 100, 1,000
    and 10,000 registries;
  * timing, cases: times whole processes (posix_spawn + wait4) in paired, alternating runs
    (A B, B A, ...) after warm-ups, against two floors run with the same venv interpreter:
      bare floor     python -I -S -c pass
      console floor  python -c "import re, sys"   (what pip's console-script wrapper costs)
    also list + get-each for 100 hosts, 32 concurrent gets while store runs, the PyInstaller
    binary if built, Debian's Go helper as the outside anchor;
  * regtest: `registry test` of 32 rows whose host never answers, against one timeout;
  * fleet: `sync` of 10 and 10,000 rows from PostgreSQL into a replica against `psql` copying
    the same rows (a private cluster; skipped without Debian's postgresql);
  * keyringget: `get` with the secret in gnome-keyring (and in the database) against Docker's Go
    `docker-credential-secretservice get` on the same Secret Service (bench/keyringpeer.py
    starts it; skipped without dbus, gnome-keyring and golang-docker-credential-helpers);
  * peerget: Docker's Go `docker-credential-secretservice get` (gnome-keyring on a private bus,
    bench/keyringpeer.py) paired with the binary's and the console script's `get` of a
    database-held secret (1,000 rows); skipped without dbus, gnome-keyring and
    golang-docker-credential-helpers;
  * probes: peak RSS (GNU time), instruction counts (valgrind callgrind, if installed) and
    `-X importtime` of get;
  * report: writes bench/results/results.md, results.json and latency.png (if matplotlib is
    importable);
  * composepull: `docker compose pull` of 8 images already present, with the helper answering
    (the image hint runs compose's `config` once) paired against plaintext `auths`, and the
    config runs counted; compose.md and compose.json (skipped without dockerd, docker-registry
    or compose v2). `--compose-only` runs just this case.

Timings are printed and written, never asserted: the exit status is 0 unless the benchmark
could not run at all. Uses only the standard library (and the project's own deny-list of
imports); matplotlib (the plot), GNU time (RSS) and valgrind (instruction counts) are optional.
"""

from __future__ import annotations

import os
import sys
import time

if __package__ in (None, ""):
    # Run as a script (`python bench/run.py`): make the `bench` package importable.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import (  # noqa: E402
    cases,
    composepull,
    databases,
    fleet,
    install,
    keyringget,
    log,
    options,
    peerget,
    probes,
    regtest,
    report,
)


def main(argv: list[str] | None = None) -> int:
    """Install, build the databases, time every case, probe, and write the report."""
    opts = options.parse(argv)
    started = time.monotonic()
    try:
        setup = install.prepare(opts)
    except install.SetupError as exc:
        log(f"bench: {exc}")
        return 1
    info = report.machine_info(setup.py)
    info["install"] = setup.about
    log("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    log(
        f"pairs {opts.pairs} (+{opts.warmup} warm-up), cycles {opts.cycles}, "
        f"concurrency rounds {opts.rounds}"
    )
    compose_pairs = max(3, opts.pairs // 3)
    if opts.compose_only:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        composepull.write(opts.out, composepull.measure(setup.script, env, opts.pairs))
        return 0
    with databases.workspace(opts.keep) as ws:
        if setup.exe:
            setup.exe, info["binary"] = install.snapshot_binary(setup.exe, ws.tmp)
            log(f"binary: {info['binary']}")
        cmds = cases.Commands(setup, ws)
        try:
            compared = cases.comparisons(cmds)
            cases.validate(compared, ws.tmp)
            cases.run_pairs(compared, opts.pairs, opts.warmup)
            results = report.Results(
                opts,
                info,
                cmds,
                compared,
                rss_how=probes.peak_rss(cmds, opts.rss_runs),
                cycle=cases.list_then_get_each(cmds, opts.cycles),
                conc=cases.concurrent_gets(cmds, opts.rounds, int(info["nproc"])),
                imports=probes.import_trace(cmds, opts.it_runs),
                instructions=probes.instruction_counts(cmds, opts.no_instructions),
                regtest=regtest.all_time_out(setup.script, ws.tmp, ws.env_for, opts.rt_runs),
            )
            results.fleet = fleet.measure(ws, setup.py, setup.script, max(5, opts.pairs))
            count = not opts.no_instructions
            results.keyring = keyringget.measure(setup, ws, opts.pairs, opts.warmup, count)
            results.peer = peerget.measure(cmds, opts.pairs, opts.warmup)
            report.write(results, started)
            composepull.write(
                opts.out, composepull.measure(setup.script, ws.base_env, compose_pairs)
            )
        finally:
            cmds.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
