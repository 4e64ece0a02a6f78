"""The cases: every command timed, the paired comparisons, list + get-each, concurrent gets."""

from __future__ import annotations

import gc
import json
import os
import threading
import time

from . import log, read_text
from .databases import CYCLE_HOSTS, SIZES, Workspace
from .install import Setup
from .parent import DockerParentCmd
from .timing import Cmd, Pair, med

# The image the docker-named parent pulls: on the host of the 1,000-row case's last row, whose
# pattern `team999/*` it matches, so the image hint decides.
HINT_IMAGE = "reg999.example.com/team999/app:1"


class Commands:
    """Every command the benchmark runs, built once against one workspace."""

    def __init__(self, setup: Setup, ws: Workspace) -> None:
        self.setup, self.ws = setup, ws
        py, script, exe, go = setup.py, setup.script, setup.exe, setup.go
        self.bare = Cmd(
            "bare",
            "bare floor (python -I -S -c pass)",
            [py, "-I", "-S", "-c", "pass"],
            ws.env_for(None),
        )
        self.console = Cmd(
            "console",
            'console floor (python -c "import re, sys")',
            [py, "-c", "import re, sys"],
            ws.env_for(None),
        )
        self.src_get = {
            (how, n): self.get("source", script, n, how) for n in SIZES for how in ("host", "image")
        }
        self.wal_get = self.get("wal", script, 1000, "host", ws.wal_db)
        self.wal_writer_get = self.get("walwriter", script, 1000, "host", ws.wal_writer_db)
        self.config_get = self.get("config", script, 1000, "host")
        self.config_get.env = ws.env_config()
        self.version = Cmd(
            "source-version",
            "source version",
            [script, "version"],
            ws.env_for(ws.dbs[1000]),
            expect="docker-credential-readystack",
        )
        self.list_1000 = Cmd(
            "source-list-1000",
            "source list 1,000 registries",
            [script, "list"],
            ws.env_for(ws.dbs[1000]),
            expect='"reg999.example.com":"user999"',
        )
        self.go_version = (
            Cmd(
                "go-version", "Go docker-credential-pass version", [go, "version"], ws.env_for(None)
            )
            if go
            else None
        )
        self.src_hint, self.src_hint_off = self.hint_cases("source", self.src_get["host", 1000])
        self.bin_get: dict[tuple[str, int], Cmd] = {}
        self.bin_version = None
        self.bin_hint: DockerParentCmd | None = None
        if exe:
            self.bin_get = {
                (how, n): self.get("binary", exe, n, how)
                for n in SIZES
                for how in ("host", "image")
            }
            self.bin_version = Cmd(
                "binary-version",
                "binary version",
                [exe, "version"],
                ws.env_for(ws.dbs[1000]),
                expect="docker-credential-readystack",
            )
            self.bin_hint, _ = self.hint_cases("binary", self.bin_get["host", 1000])

    def hint_cases(self, prefix: str, get: Cmd) -> tuple[DockerParentCmd, Cmd]:
        """``get`` (1,000 rows, by host) under `docker pull IMAGE`, and with the hint off."""
        hinted = DockerParentCmd(
            f"{prefix}-get-hint-1000",
            f"{prefix} get 1,000 (host, docker parent)",
            get,
            HINT_IMAGE,
            expect=get.expect or "",
        )
        off = Cmd(
            f"{prefix}-get-hint-off-1000",
            f"{prefix} get 1,000 (host, hint off)",
            get.argv,
            {**get.env, "READYSTACK_IMAGE_HINT": "0"},
            stdin=get.stdin,
            expect=get.expect,
            kind=prefix,
        )
        return hinted, off

    def close(self) -> None:
        """End the docker-named parent processes."""
        for cmd in (self.src_hint, self.bin_hint):
            if cmd is not None:
                cmd.close()

    def get(self, prefix: str, argv0: str, n: int, how: str, db: str | None = None) -> Cmd:
        """`get` of the last of ``n`` rows, by host or by image."""
        last = n - 1
        target = f"reg{last}.example.com" + (f"/team{last}/app" if how == "image" else "")
        stdin = self.ws.stdin_file(f"get-{n}-{how}.txt", target)
        return Cmd(
            f"{prefix}-get-{how}-{n}",
            f"{prefix} get {n:,} ({how})",
            [argv0, "get"],
            self.ws.env_for(db or self.ws.dbs[n]),
            stdin=stdin,
            expect=f'"user{last}"',
            kind=prefix,
        )

    def timed(self) -> list[Cmd]:
        """The commands whose peak RSS is measured."""
        cmds = [self.bare, self.console, *self.src_get.values(), self.version, self.list_1000]
        cmds += [*self.bin_get.values()]
        return cmds + [c for c in (self.bin_version, self.go_version) if c]


def comparisons(c: Commands) -> list[tuple[str, Pair]]:
    """The paired comparisons, by name: each case against its baseline."""
    pairs: list[tuple[str, Pair]] = [("floors", Pair(c.console, c.bare))]
    for how in ("host", "image"):
        for n in SIZES:
            pairs.append((f"get-{how}-{n}", Pair(c.src_get[how, n], c.console)))
    for how in ("host", "image"):
        pairs.append((f"scale-{how}", Pair(c.src_get[how, 10000], c.src_get[how, 10])))
    pairs.append(("wal-get-1000", Pair(c.wal_get, c.console)))
    pairs.append(
        ("wal-writer-get-1000", WriterPair(c.wal_writer_get, c.console, c.ws.wal_writer_db))
    )
    pairs.append(("config-get-1000", Pair(c.config_get, c.console)))
    pairs.append(("get-hint-1000", Pair(c.src_hint, c.console)))
    pairs.append(("get-hint-off-1000", Pair(c.src_hint_off, c.console)))
    pairs.append(("hint-vs-off", Pair(c.src_hint, c.src_hint_off)))
    pairs.append(("version", Pair(c.version, c.console)))
    pairs.append(("list-1000", Pair(c.list_1000, c.console)))
    if c.go_version:
        pairs.append(("go", Pair(c.go_version, c.bare)))
        pairs.append(("get-vs-go", Pair(c.src_get["host", 1000], c.go_version)))
    if c.setup.exe:
        for n in SIZES:
            pairs.append((f"bin-get-host-{n}", Pair(c.bin_get["host", n], c.bare)))
        pairs.append(("bin-get-image-1000", Pair(c.bin_get["image", 1000], c.bare)))
        if c.bin_hint is not None:
            pairs.append(("bin-get-hint-1000", Pair(c.bin_hint, c.bare)))
        pairs.append(("bin-scale", Pair(c.bin_get["host", 10000], c.bin_get["host", 10])))
        pairs.append(("bin-version", Pair(c.bin_version, c.bare)))
    return pairs


class WriterPair(Pair):
    """A comparison timed while a running ReadyStackGo commits a short write every few ms."""

    def __init__(self, case: Cmd, base: Cmd, db: str) -> None:
        super().__init__(case, base)
        self.db = db
        self.writes = 0
        self.blocked = 0  # commits that found the database locked (the writer waits 0 s)

    def run(self, pairs: int, warmup: int) -> None:
        import sqlite3

        stop = threading.Event()
        # One connection held open, as Microsoft.Data.Sqlite's pool keeps it: -wal and -shm exist.
        conn = sqlite3.connect(self.db, isolation_level=None, timeout=0, check_same_thread=False)

        def write() -> None:
            while not stop.is_set():
                try:
                    conn.execute("BEGIN")
                    conn.execute(
                        'UPDATE "Registries" SET "Version" = "Version" + 1 WHERE "Name" = ?',
                        ("reg0",),
                    )
                    conn.execute("COMMIT")
                    self.writes += 1
                except sqlite3.OperationalError:
                    self.blocked += 1
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                stop.wait(0.005)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        try:
            super().run(pairs, warmup)
        finally:
            stop.set()
            writer.join()
            conn.close()
            log(
                f"  (writer: {self.writes} commits during the runs, {self.blocked} found it locked)"
            )


def validate(compared: list[tuple[str, Pair]], tmp: str) -> None:
    """Check every command once (output captured) before timing it."""
    checked = set()
    for _, pair in compared:
        for cmd in (pair.case, pair.base):
            if cmd.key not in checked:
                checked.add(cmd.key)
                if not cmd.validate(tmp):
                    log(f"  warning: {cmd.label}: unexpected result ({cmd.check})")


def run_pairs(compared: list[tuple[str, Pair]], pairs: int, warmup: int) -> dict[str, Pair]:
    """Run every comparison, one line each; the comparisons by name."""
    log("\npaired runs (case vs baseline, medians, median of per-pair ratios):")
    by_name = {}
    for name, pair in compared:
        pair.run(pairs, warmup)
        by_name[name] = pair
        log(pair.line())
    return by_name


def list_then_get_each(c: Commands, cycles: int) -> dict | None:
    """`list`, then `get` of every host it names, against as many runs of one `get`."""
    log(f"\nlist + get-each cycle, {CYCLE_HOSTS} registries ({cycles} paired cycles):")
    ws, script = c.ws, c.setup.script
    cyc_env = ws.env_for(ws.dbs[CYCLE_HOSTS])
    cyc_list = Cmd("cycle-list", "list", [script, "list"], cyc_env)
    out = os.path.join(ws.tmp, "list.out")
    pid = cyc_list.spawn(out)
    os.wait4(pid, 0)
    try:
        keys = list(json.loads(read_text(out)))
    except ValueError:
        keys = []
    if not keys:
        log(f"  list returned nothing usable ({read_text(out)[:100]!r}); cycle skipped")
        return None
    gets = [
        Cmd(
            f"cycle-get-{i}",
            "get",
            [script, "get"],
            cyc_env,
            stdin=ws.stdin_file(f"cycle-{i}.txt", key),
        )
        for i, key in enumerate(keys)
    ]
    one = c.get("source", script, CYCLE_HOSTS, "host")
    cycle = cycle_case(cyc_list, gets, one, cycles, 0)  # everything is warm by now
    log(
        f"  list + {len(gets)} gets: {cycle['cycle_ms']:.0f} ms   "
        f"{cycle['processes']} x one get: {cycle['one_get_x_n_ms']:.0f} ms   "
        f"paired {cycle['ratio']:.3f}x   "
        f"({cycle['cycle_ms'] / cycle['processes']:.2f} ms per process)"
        + (f"   {cycle['failures']} failed" if cycle["failures"] else "")
    )
    return cycle


def concurrent_gets(c: Commands, rounds: int, nproc: int) -> dict:
    """32 `get` spawned at once while `store` runs back to back, on a copy of the 1,000 rows."""
    log(f"\n32 concurrent gets (1,000 registries) while store runs ({rounds} rounds):")
    ws, script = c.ws, c.setup.script
    conc_get = c.get("source", script, 1000, "host", db=ws.conc_db)
    conc = concurrency_case(
        conc_get, ws.env_for(ws.conc_db), [script, "store"], ws.tmp, rounds, 1 if rounds > 1 else 0
    )
    one_get = med(c.src_get["host", 1000].samples)
    log(
        f"  wall {conc['wall_ms']:.0f} ms (32 x one get / {nproc} cores = "
        f"{32 * one_get / nproc:.0f} ms); get failures {conc['get_failures']}; "
        f"store runs {conc['store_runs']}, store failures {conc['store_failures']}"
    )
    for err in conc["errors"]:
        log(f"    {err}")
    return conc


def cycle_case(list_cmd: Cmd, gets: list[Cmd], one: Cmd, cycles: int, warmup: int) -> dict:
    """`list` then `get` for every entry (A) against the same number of one `get` (B).

    Paired per process, not per arm: step k of the cycle runs next to one run of the baseline
    `get`, the order alternating, so that a change in machine load over the few seconds a cycle
    takes hits both arms alike. A cycle's time is the sum of its steps.
    """
    steps = [list_cmd] + gets
    a, b, ratios, fails = [], [], [], 0
    gc.disable()
    try:
        for i in range(warmup + cycles):
            ta = tb = 0.0
            for k, step in enumerate(steps):
                if (i + k) % 2 == 0:
                    ra, rb = step.once(), one.once()
                else:
                    rb = one.once()
                    ra = step.once()
                ta += ra[0]
                tb += rb[0]
                fails += (ra[2] != 0) + (rb[2] != 0)
            if i < warmup:
                continue
            a.append(ta)
            b.append(tb)
            ratios.append(ta / tb)
    finally:
        gc.enable()
    return {
        "processes": len(steps),
        "cycle_ms": med(a),
        "one_get_x_n_ms": med(b),
        "ratio": med(ratios),
        "ratios": ratios,
        "cycle": a,
        "baseline": b,
        "failures": fails,
    }


def concurrency_case(
    get: Cmd,
    store_env: dict[str, str],
    store_argv: list[str],
    tmp: str,
    rounds: int,
    warmup: int,
    n: int = 32,
) -> dict:
    """n concurrent `get` while `store` runs back to back; wall time and failures per round."""
    walls, fails, store_runs, store_fails, errors = [], 0, 0, 0, []
    for r in range(warmup + rounds):
        stop = threading.Event()
        counts = {"runs": 0, "fails": 0, "err": ""}

        def store_loop(r: int = r, stop: threading.Event = stop, counts: dict = counts) -> None:
            k = 0
            while True:
                payload = os.path.join(tmp, f"store-{r}-{k}.json")
                with open(payload, "w") as fh:
                    fh.write(
                        json.dumps(
                            {
                                "ServerURL": "https://login.example.com",
                                "Username": f"login-{r}-{k}",
                                "Secret": f"s{k}",
                            }
                        )
                    )
                cmd = Cmd("store", "store", store_argv, store_env, stdin=payload)
                err = os.path.join(tmp, "store.err")
                pid = cmd.spawn(stderr=err)
                _, status, _ = os.wait4(pid, 0)
                counts["runs"] += 1
                if os.waitstatus_to_exitcode(status) != 0:
                    counts["fails"] += 1
                    counts["err"] = read_text(err).strip()[:200]
                k += 1
                if stop.is_set():
                    return

        worker = threading.Thread(target=store_loop, daemon=True)
        worker.start()
        time.sleep(0.003)  # let the first store get going
        outs = [os.path.join(tmp, f"get-{k}.out") for k in range(n)]
        errs = [os.path.join(tmp, f"get-{k}.err") for k in range(n)]
        t0 = time.perf_counter_ns()
        pids = [get.spawn(outs[k], errs[k]) for k in range(n)]
        codes = [os.waitstatus_to_exitcode(os.wait4(pid, 0)[1]) for pid in pids]
        wall = (time.perf_counter_ns() - t0) / 1e6
        stop.set()
        worker.join()
        if r < warmup:
            continue
        walls.append(wall)
        store_runs += counts["runs"]
        store_fails += counts["fails"]
        if counts["err"]:
            errors.append("store: " + counts["err"])
        for k, code in enumerate(codes):
            text = read_text(outs[k])
            if code != 0 or (get.expect and get.expect not in text):
                fails += 1
                err = read_text(errs[k]).strip()
                errors.append(f"get exit {code}: {text.strip()[:80]!r} {err[:120]!r}")
    return {
        "n": n,
        "rounds": rounds,
        "wall_ms": med(walls),
        "walls": walls,
        "get_failures": fails,
        "store_runs": store_runs,
        "store_failures": store_fails,
        "errors": errors[:5],
    }
