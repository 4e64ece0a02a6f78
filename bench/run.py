#!/usr/bin/env python3
"""Start-up and scale benchmark for docker-credential-readystack (issue 6, DESIGN.md "Budgets").

    python bench/run.py                 # full run, about 2.5 minutes on a 2-core machine
    python bench/run.py --quick         # smoke run: few pairs, same cases
    python bench/run.py --pairs 50      # more pairs, tighter medians

What it does:
  * installs the current checkout (a copy of helper/, store/, pyproject.toml, README.md) into
    bench/.venv as a regular, non-editable install (the budgets are defined on one; an editable
    install adds import machinery), reinstalling only when the sources changed;
  * generates ReadyStackGo-shaped databases (DESIGN.md's DDL, raw sqlite3) with 10, 100, 1,000
    and 10,000 registries;
  * times whole processes (posix_spawn + wait4) in paired, alternating runs (A B, B A, ...)
    after warm-ups, against two floors run with the same venv interpreter:
      bare floor     python -I -S -c pass
      console floor  python -c "import re, sys"   (what pip's console-script wrapper costs)
  * also: list + get-each for 100 hosts, 32 concurrent gets while store runs, the PyInstaller
    binary if built, Debian's Go helper as the outside anchor, peak RSS (GNU time), instruction
    counts (valgrind callgrind, if installed) and `-X importtime` of get;
  * writes bench/results/results.md, results.json and latency.png (if matplotlib is importable).

Timings are printed and written, never asserted: the exit status is 0 unless the benchmark
could not run at all. Uses only the standard library; matplotlib (the plot), GNU time (RSS) and
valgrind (instruction counts) are optional.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import hashlib
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
DEFAULT_VENV = os.path.join(BENCH, ".venv")
DEFAULT_OUT = os.path.join(BENCH, "results")
SCRIPT = "docker-credential-readystack"
DEFAULT_EXE = os.path.join(ROOT, "dist", SCRIPT, SCRIPT)
SIZES = (10, 1000, 10000)
CYCLE_HOSTS = 100
MIB = 1024 * 1024
ORG = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
# What `get` must never import for a database row (DESIGN.md "Budgets", issue 6).
DENY = ("keyring", "importlib.metadata", "argparse", "logging", "dataclasses", "typing")

# ReadyStackGo's table as the product creates it (DESIGN.md's DDL), plus an organization.
ORGANIZATIONS_DDL = (
    'CREATE TABLE "Organizations" ("Id" TEXT NOT NULL CONSTRAINT "PK_Organizations" '
    'PRIMARY KEY, "Name" TEXT NOT NULL, "CreatedAt" TEXT NOT NULL);'
)


def log(msg: str = "") -> None:
    print(msg, flush=True)


def _read(path: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()


# ---------------------------------------------------------------------------------------------
# Installing the checkout (regular install) into the bench venv
# ---------------------------------------------------------------------------------------------


def _source_files() -> list[str]:
    files = [os.path.join(ROOT, "pyproject.toml"), os.path.join(ROOT, "README.md")]
    for top in ("helper", "store"):
        for folder, dirs, names in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            files += [os.path.join(folder, n) for n in sorted(names) if not n.endswith(".pyc")]
    return [f for f in files if os.path.isfile(f)]


def source_hash() -> str:
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(os.path.relpath(path, ROOT).encode() + b"\0")
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()[:16]


def _run_quiet(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise SystemExit(f"bench: {what} failed (exit {done.returncode}):\n  " + "\n  ".join(tail))


def site_packages(venv: str) -> str:
    py = os.path.join(venv, "bin", "python")
    out = subprocess.run(
        [py, "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def ensure_install(venv: str, reinstall: bool) -> str:
    """A regular install of the current checkout in ``venv``; returns the source hash."""
    py = os.path.join(venv, "bin", "python")
    fresh = not os.path.exists(py)
    if fresh:
        log(f"creating {os.path.relpath(venv, ROOT)} with {sys.executable} -m venv")
        _run_quiet([sys.executable, "-m", "venv", venv], "creating the bench venv")
    stamp_file = os.path.join(venv, "bench-source-hash")
    wanted = source_hash()
    have = _read(stamp_file).strip() if os.path.exists(stamp_file) else ""
    script = os.path.join(venv, "bin", SCRIPT)
    if fresh or reinstall or have != wanted or not os.path.exists(script):
        # Build from a copy: pip builds local projects in-tree (build/, *.egg-info), and the
        # checkout is being edited by others; the copy is also one consistent snapshot.
        with tempfile.TemporaryDirectory(prefix="rs-bench-src-") as tmp:
            src = os.path.join(tmp, "src")
            os.makedirs(src)
            for name in ("pyproject.toml", "README.md", "LICENSE"):
                if os.path.exists(os.path.join(ROOT, name)):
                    shutil.copy2(os.path.join(ROOT, name), src)
            for top in ("helper", "store"):
                shutil.copytree(
                    os.path.join(ROOT, top),
                    os.path.join(src, top),
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                )
            argv = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            if not fresh:
                argv += ["--force-reinstall", "--no-deps"]
            log(f"installing the checkout into {os.path.relpath(venv, ROOT)} (regular install)")
            _run_quiet(argv + [src], "pip install of the checkout")
        with open(stamp_file, "w") as fh:
            fh.write(wanted + "\n")
    site = site_packages(venv)
    editable = [n for n in os.listdir(site) if n.startswith("__editable__") and "readystack" in n]
    if editable:
        raise SystemExit(f"bench: {site} holds an editable install ({editable}); remove {venv}")
    if not os.path.exists(os.path.join(site, "readystack", "helper", "cli.py")):
        raise SystemExit(f"bench: readystack.helper is not installed in {site}")
    return wanted


def snapshot_binary(exe: str, tmp: str) -> tuple[str, str]:
    """Copy a PyInstaller onedir folder aside, so that one run measures one build.

    Returns (path to run, description); ("", reason) when it cannot be used. A file that is not
    in a onedir folder (no ``_internal`` next to it) is run where it is.
    """
    real = os.path.realpath(exe)
    folder = os.path.dirname(real)
    try:
        stat = os.stat(real)
        built = datetime.datetime.fromtimestamp(stat.st_mtime, datetime.UTC)
        about = f"{exe} (built {built:%Y-%m-%d %H:%M:%S} UTC, {stat.st_size:,} bytes)"
        if not os.path.isdir(os.path.join(folder, "_internal")):
            return real, about
        copy = os.path.join(tmp, "binary", os.path.basename(folder))
        shutil.copytree(folder, copy, symlinks=True)
        return os.path.join(copy, os.path.basename(real)), about + ", run from a copy"
    except (OSError, shutil.Error) as exc:
        return "", f"{exe} could not be copied ({exc}); binary cases skipped"


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


def is_hub_row(i: int, n: int) -> bool:
    """Some Docker Hub rows: index 5 and every 250th after it, never the last (the target)."""
    return i % 250 == 5 and i != n - 1


def make_db(path: str, n: int, seed: int = 6) -> None:
    rng = random.Random(seed * 100003 + n)
    conn = sqlite3.connect(path)
    from readystack.store.registries import SCHEMA

    conn.executescript(SCHEMA + ORGANIZATIONS_DDL)
    created = "2026-01-01 00:00:00.0000000"
    conn.execute('INSERT INTO "Organizations" VALUES (?, ?, ?)', (ORG, "bench", created))
    rows = []
    for i in range(n):
        guid = str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper()
        created = f"2026-01-01 00:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 10**7:07d}"
        if is_hub_row(i, n):
            url, patterns = "https://index.docker.io/v1/", [f"hubteam{i}/*", f"hubteam{i}/**"]
            default = int(i == 5)
        else:
            host = f"reg{i}.example.com"
            url = f"https://{host}"
            patterns = [f"team{i}/*", f"{host}/**"]
            if i % 3 == 0:
                patterns.insert(1, f"team{i}/app-*")
            default = 0
        rows.append(
            (
                guid,
                ORG,
                f"reg{i}",
                url,
                f"user{i}",
                f"secret-{i}",
                default,
                created,
                None,
                json.dumps(patterns),
                1,
            )
        )
    conn.executemany('INSERT INTO "Registries" VALUES (?,?,?,?,?,?,?,?,?,?,?)', rows)
    conn.commit()
    conn.close()


# ---------------------------------------------------------------------------------------------
# Process timing
# ---------------------------------------------------------------------------------------------


class Cmd:
    """One whole-process command: argv, stdin file, environment; timed with posix_spawn+wait4."""

    def __init__(
        self,
        key: str,
        label: str,
        argv: list[str],
        env: dict[str, str],
        stdin: str | None = None,
        expect: str | None = None,
        kind: str = "",
    ) -> None:
        self.key, self.label, self.argv, self.env = key, label, argv, env
        self.stdin = stdin or os.devnull
        self.expect = expect  # a substring the stdout must contain
        self.kind = kind
        self.samples: list[float] = []
        self.cpu: list[float] = []
        self.rss: list[int] = []
        self.failures = 0
        self.check = ""

    def spawn(self, stdout: str = os.devnull, stderr: str = os.devnull) -> int:
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, self.stdin, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_OPEN, 2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        ]
        return os.posix_spawn(self.argv[0], self.argv, self.env, file_actions=actions)

    def once(self) -> tuple[float, float, int]:
        """One run: (wall ms, CPU ms of the child, exit status).

        CPU ms is ru_utime + ru_stime from wait4 (the kernel scales them to the task's precise
        runtime): unlike wall time it does not count waiting for a CPU on a loaded machine.
        """
        t0 = time.perf_counter_ns()
        try:
            pid = self.spawn()
        except OSError:  # the program went away (a rebuild, say): a failed run, not a crash
            return float("nan"), float("nan"), 127
        _, status, usage = os.wait4(pid, 0)
        ms = (time.perf_counter_ns() - t0) / 1e6
        cpu = (usage.ru_utime + usage.ru_stime) * 1e3
        return ms, cpu, os.waitstatus_to_exitcode(status)

    def validate(self, tmp: str) -> bool:
        """Run once with output captured; remember what went wrong, if anything."""
        out, err = os.path.join(tmp, "check.out"), os.path.join(tmp, "check.err")
        try:
            pid = self.spawn(out, err)
        except OSError as exc:
            self.check = f"cannot run {self.argv[0]}: {exc.strerror}"
            return False
        _, status, _ = os.wait4(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        text = _read(out)
        if code != 0 or (self.expect is not None and self.expect not in text):
            errtext = _read(err).strip()
            self.check = f"exit {code}, stdout {text.strip()[:120]!r}, stderr {errtext[:160]!r}"
            return False
        return True


class Pair:
    """A paired comparison: case A against baseline B, alternating order, ratio per pair."""

    def __init__(self, case: Cmd, base: Cmd) -> None:
        self.case, self.base = case, base
        self.a: list[float] = []
        self.b: list[float] = []
        self.ratios: list[float] = []
        self.a_cpu: list[float] = []
        self.b_cpu: list[float] = []
        self.cpu_ratios: list[float] = []
        self.failures = 0

    def run(self, pairs: int, warmup: int) -> None:
        gc.disable()
        try:
            for i in range(warmup + pairs):
                first, second = (self.case, self.base) if i % 2 == 0 else (self.base, self.case)
                r1, r2 = first.once(), second.once()
                ra, rb = (r1, r2) if first is self.case else (r2, r1)
                if i < warmup:
                    continue
                if ra[0] != ra[0] or rb[0] != rb[0]:  # a program could not be started
                    self.failures += 1
                    continue
                for cmd, (ms, cpu, code) in ((self.case, ra), (self.base, rb)):
                    cmd.samples.append(ms)
                    cmd.cpu.append(cpu)
                    if code != 0:
                        cmd.failures += 1
                self.failures += int(ra[2] != 0) + int(rb[2] != 0)
                self.a.append(ra[0])
                self.b.append(rb[0])
                self.ratios.append(ra[0] / rb[0])
                self.a_cpu.append(ra[1])
                self.b_cpu.append(rb[1])
                if rb[1] > 0:
                    self.cpu_ratios.append(ra[1] / rb[1])
        finally:
            gc.enable()

    @property
    def ratio(self) -> float:
        return med(self.ratios)

    @property
    def cpu_ratio(self) -> float:
        return med(self.cpu_ratios)

    def line(self) -> str:
        return (
            f"  {self.case.label:<42} {med(self.a):7.2f} ms  vs {self.base.label:<44} "
            f"{med(self.b):7.2f} ms  paired {self.ratio:5.2f}x  (CPU {med(self.a_cpu):6.2f} / "
            f"{med(self.b_cpu):6.2f} ms, {self.cpu_ratio:5.2f}x)"
            + (f"   ({self.failures} failed runs)" if self.failures else "")
        )


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# Peak RSS needs its own runs. ru_maxrss survives exec, and posix_spawn/vfork children start out
# on the parent's memory, so wait4 from this (large) process would report this process's size for
# every child. GNU time forks from a ~1 MiB process and reports its child's wait4 ru_maxrss; the
# fallback trampoline is a bare interpreter (~8 MiB, so readings below that mean "at most that").
_TRAMPOLINE = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(sys.argv[1], sys.argv[1:])\n"
    "sys.stderr.write('%d\\n' % os.wait4(pid, 0)[2].ru_maxrss)\n"
)


def rss_prefix(py: str) -> tuple[list[str], str]:
    if os.access("/usr/bin/time", os.X_OK):
        return ["/usr/bin/time", "-f", "%M"], "GNU time -f %M"
    return [py, "-I", "-S", "-c", _TRAMPOLINE], f"fork+exec trampoline ({py} -I -S)"


def measure_rss(cmd: Cmd, prefix: list[str], runs: int, tmp: str) -> None:
    """Peak RSS (KiB) of ``cmd`` over ``runs`` runs, into cmd.rss."""
    err = os.path.join(tmp, "rss.err")
    wrapped = Cmd(cmd.key, cmd.label, prefix + cmd.argv, cmd.env, stdin=cmd.stdin)
    for _ in range(runs):
        try:
            pid = wrapped.spawn(stderr=err)
        except OSError:
            return
        os.wait4(pid, 0)
        try:
            cmd.rss.append(int(_read(err).strip().splitlines()[-1]))
        except (ValueError, IndexError):
            pass


# ---------------------------------------------------------------------------------------------
# The cycle (list + get each) and concurrency cases
# ---------------------------------------------------------------------------------------------


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
                    counts["err"] = _read(err).strip()[:200]
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
            text = _read(outs[k])
            if code != 0 or (get.expect and get.expect not in text):
                fails += 1
                err = _read(errs[k]).strip()
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


# ---------------------------------------------------------------------------------------------
# Instruction counts (valgrind callgrind): deterministic, unaffected by machine load
# ---------------------------------------------------------------------------------------------


def instructions(cmd: Cmd, valgrind: str) -> float:
    """Millions of user-space instructions executed, summed over every process of one run.

    The PyInstaller bootloader re-executes itself (to set LD_LIBRARY_PATH), hence
    --trace-children. The kernel's work (exec, page faults, I/O) is not counted.
    """
    argv = [
        valgrind,
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        "--trace-children=yes",
        *cmd.argv,
    ]
    for _ in range(3):  # callgrind now and then trips over the Go runtime's signals: retry
        with open(cmd.stdin, "rb") as fh:
            done = subprocess.run(
                argv,
                stdin=fh,
                env=cmd.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                check=False,
            )
        err = done.stderr.decode(errors="replace")
        counts = re.findall(r"Collected : (\d+)", err)
        if counts and "Assertion" not in err:
            return sum(int(c) for c in counts) / 1e6
    return float("nan")


# ---------------------------------------------------------------------------------------------
# -X importtime of the get path
# ---------------------------------------------------------------------------------------------


def importtime(argv: list[str], env: dict[str, str], stdin: str, runs: int) -> dict[str, list]:
    """Module -> [self us..., cumulative us..., depth] over ``runs`` runs of ``argv``."""
    found: dict[str, list] = {}
    for _ in range(runs):
        with open(stdin, "rb") as fh:
            done = subprocess.run(argv, stdin=fh, env=env, capture_output=True, check=False)
        for line in done.stderr.decode(errors="replace").splitlines():
            if not line.startswith("import time:") or "imported package" in line:
                continue
            self_us, cum_us, name = line[len("import time:") :].split("|", 2)
            depth = (len(name) - len(name.lstrip(" "))) // 2
            entry = found.setdefault(name.strip(), [[], [], depth])
            entry[0].append(int(self_us))
            entry[1].append(int(cum_us))
    return found


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def verdict(value: float, target: float, stretch: float | None = None) -> str:
    if value != value:  # NaN
        return "n/a"
    if value <= target:
        extra = ""
        if stretch is not None:
            extra = ", stretch met" if value <= stretch else f", stretch {stretch:g}x missed"
        return f"PASS ({(1 - value / target) * 100:.0f}% headroom{extra})"
    return f"FAIL (+{(value / target - 1) * 100:.0f}% over)"


def machine_info(py: str) -> dict[str, str]:
    ver = subprocess.run(
        [py, "-I", "-S", "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    cpu = ""
    try:
        for line in _read("/proc/cpuinfo").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    head = subprocess.run(
        ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", ROOT, "status", "--porcelain", "--", "helper", "store", "pyproject.toml"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ),
        "cpu": cpu or platform.processor() or "?",
        "os": f"{platform.system()} {platform.release()}",
        "python": f"{ver} ({os.path.realpath(py)}, via {os.path.relpath(py, ROOT)})",
        "commit": head + (" + uncommitted changes in helper/ store/" if dirty else ""),
        "loadavg": load,
    }


def plot(
    path: str, sizes: tuple[int, ...], series: dict[str, list[float]], flat: dict[str, float]
) -> str:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not importable here: latency.png not written (pip install matplotlib)"
    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=120)
    markers = iter("osD^v<>")
    for label, ys in series.items():
        pts = [(x, y) for x, y in zip(sizes, ys, strict=True) if y == y]
        if pts:
            ax.plot([x for x, _ in pts], [y for _, y in pts], marker=next(markers), label=label)
    styles = iter(["--", ":", "-.", (0, (1, 3))])
    for label, y in flat.items():
        if y == y:
            ax.axhline(y, linestyle=next(styles), color="grey", linewidth=1.2)
            ax.annotate(
                f"{label} {y:.1f} ms",
                (sizes[0], y),
                textcoords="offset points",
                xytext=(2, 3),
                fontsize=8,
                color="dimgrey",
            )
    ax.set_xscale("log")
    ax.set_xticks(list(sizes), [f"{s:,}" for s in sizes])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("registries in the table")
    ax.set_ylabel("whole-process median (ms)")
    ax.set_title("docker-credential-readystack get: latency vs registry count")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return f"wrote {os.path.relpath(path, ROOT)}"


# ---------------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------------


def main() -> int:  # noqa: C901 - one linear script
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=30, help="paired runs per comparison (30)")
    ap.add_argument("--warmup", type=int, default=3, help="warm-up pairs, discarded (3)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 5 pairs, 1 warm-up")
    ap.add_argument(
        "--cycles",
        type=int,
        default=None,
        help="list+get-each cycles, paired per process (default pairs/10, at least 3)",
    )
    ap.add_argument(
        "--rounds", type=int, default=None, help="rounds of 32 concurrent gets (default 5)"
    )
    ap.add_argument("--venv", default=DEFAULT_VENV, help="bench venv (bench/.venv)")
    ap.add_argument("--reinstall", action="store_true", help="reinstall even if unchanged")
    ap.add_argument(
        "--no-install",
        action="store_true",
        help="time the venv as it is (for A/B runs of a patched install); implies --venv",
    )
    ap.add_argument(
        "--no-instructions",
        action="store_true",
        help="skip the instruction counts (valgrind callgrind, about 25 s)",
    )
    ap.add_argument(
        "--exe",
        default=os.environ.get("READYSTACK_HELPER_EXE", DEFAULT_EXE),
        help="PyInstaller binary (READYSTACK_HELPER_EXE; default dist/…)",
    )
    ap.add_argument(
        "--go",
        default=shutil.which("docker-credential-pass") or "",
        help="Go anchor helper (docker-credential-pass)",
    )
    ap.add_argument("--out", default=DEFAULT_OUT, help="results folder (bench/results)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary databases")
    opts = ap.parse_args()
    if opts.quick:
        opts.pairs, opts.warmup = min(opts.pairs, 5), 1
    pairs, warmup = max(1, opts.pairs), max(0, opts.warmup)
    cycles = opts.cycles or (1 if opts.quick else max(3, pairs // 10))
    rounds = opts.rounds or (1 if opts.quick else 5)
    started = time.monotonic()

    venv = os.path.abspath(opts.venv)
    try:
        if opts.no_install:
            if not os.path.exists(os.path.join(venv, "bin", SCRIPT)):
                log(f"bench: --no-install, but {venv} has no {SCRIPT}")
                return 1
            src_hash = "as installed, --no-install"
        else:
            src_hash = ensure_install(venv, opts.reinstall)
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"bench: cannot set up the bench venv: {exc}")
        return 1
    py = os.path.join(venv, "bin", "python")
    script = os.path.join(venv, "bin", SCRIPT)
    exe = opts.exe if opts.exe and os.access(opts.exe, os.X_OK) else ""
    go = opts.go if opts.go and os.access(opts.go, os.X_OK) else ""
    info = machine_info(py)
    info["install"] = (
        f"regular pip install of the checkout into {os.path.relpath(venv, ROOT)} "
        f"(sources {src_hash})"
        if not opts.no_install
        else f"{venv} as it is (--no-install)"
    )
    log("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    log(f"pairs {pairs} (+{warmup} warm-up), cycles {cycles}, concurrency rounds {rounds}")

    tmp = tempfile.mkdtemp(prefix="rs-bench-")
    try:
        if exe:
            exe, info["binary"] = snapshot_binary(exe, tmp)
            log(f"binary: {info['binary']}")
        home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(home, ".docker"))
        dbs = {}
        for n in (*SIZES, CYCLE_HOSTS):
            dbs[n] = os.path.join(tmp, f"registries-{n}.db")
            make_db(dbs[n], n)
        conc_db = os.path.join(tmp, "concurrent-1000.db")
        shutil.copy(dbs[1000], conc_db)

        base_env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": home,
            "LANG": "C.UTF-8",
            "DOCKER_CONFIG": os.path.join(home, ".docker"),
            "XDG_DATA_HOME": os.path.join(home, "xdg"),
        }

        def env_for(db: str | None) -> dict[str, str]:
            return {**base_env, "READYSTACK_DB": db} if db else dict(base_env)

        def stdin_file(name: str, text: str) -> str:
            path = os.path.join(tmp, name)
            with open(path, "w") as fh:
                fh.write(text)
            return path

        bare = Cmd(
            "bare",
            "bare floor (python -I -S -c pass)",
            [py, "-I", "-S", "-c", "pass"],
            env_for(None),
        )
        console = Cmd(
            "console",
            'console floor (python -c "import re, sys")',
            [py, "-c", "import re, sys"],
            env_for(None),
        )

        def get_cmd(prefix: str, argv0: str, n: int, how: str, db: str | None = None) -> Cmd:
            last = n - 1
            target = f"reg{last}.example.com" + (f"/team{last}/app" if how == "image" else "")
            stdin = stdin_file(f"get-{n}-{how}.txt", target)
            label = f"{prefix} get {n:,} ({how})"
            return Cmd(
                f"{prefix}-get-{how}-{n}",
                label,
                [argv0, "get"],
                env_for(db or dbs[n]),
                stdin=stdin,
                expect=f'"user{last}"',
                kind=prefix,
            )

        src_get = {
            (how, n): get_cmd("source", script, n, how) for n in SIZES for how in ("host", "image")
        }
        version = Cmd(
            "source-version",
            "source version",
            [script, "version"],
            env_for(dbs[1000]),
            expect="docker-credential-readystack",
        )
        list_1000 = Cmd(
            "source-list-1000",
            "source list 1,000 registries",
            [script, "list"],
            env_for(dbs[1000]),
            expect='"reg999.example.com":"user999"',
        )
        go_version = (
            Cmd("go-version", "Go docker-credential-pass version", [go, "version"], env_for(None))
            if go
            else None
        )
        bin_get = {}
        bin_version = None
        if exe:
            bin_get = {
                (how, n): get_cmd("binary", exe, n, how) for n in SIZES for how in ("host", "image")
            }
            bin_version = Cmd(
                "binary-version",
                "binary version",
                [exe, "version"],
                env_for(dbs[1000]),
                expect="docker-credential-readystack",
            )

        comparisons: list[tuple[str, Pair]] = [("floors", Pair(console, bare))]
        for how in ("host", "image"):
            for n in SIZES:
                comparisons.append((f"get-{how}-{n}", Pair(src_get[how, n], console)))
        for how in ("host", "image"):
            comparisons.append((f"scale-{how}", Pair(src_get[how, 10000], src_get[how, 10])))
        comparisons.append(("version", Pair(version, console)))
        comparisons.append(("list-1000", Pair(list_1000, console)))
        if go_version:
            comparisons.append(("go", Pair(go_version, bare)))
            comparisons.append(("get-vs-go", Pair(src_get["host", 1000], go_version)))
        if exe:
            for n in SIZES:
                comparisons.append((f"bin-get-host-{n}", Pair(bin_get["host", n], bare)))
            comparisons.append(("bin-get-image-1000", Pair(bin_get["image", 1000], bare)))
            comparisons.append(("bin-scale", Pair(bin_get["host", 10000], bin_get["host", 10])))
            comparisons.append(("bin-version", Pair(bin_version, bare)))

        # Check every command once (output captured) before timing it.
        checked = set()
        for _, pair in comparisons:
            for cmd in (pair.case, pair.base):
                if cmd.key not in checked:
                    checked.add(cmd.key)
                    if not cmd.validate(tmp):
                        log(f"  warning: {cmd.label}: unexpected result ({cmd.check})")

        log("\npaired runs (case vs baseline, medians, median of per-pair ratios):")
        by_name = {}
        for name, pair in comparisons:
            pair.run(pairs, warmup)
            by_name[name] = pair
            log(pair.line())

        # peak RSS, in runs of its own
        prefix, rss_how = rss_prefix(py)
        rss_runs = 2 if opts.quick else 5
        rss_cmds = [bare, console, *src_get.values(), version, list_1000, *bin_get.values()]
        rss_cmds += [c for c in (bin_version, go_version) if c]
        for cmd in rss_cmds:
            measure_rss(cmd, prefix, rss_runs, tmp)
        log(
            f"\npeak RSS ({rss_how}, {rss_runs} runs, max): "
            + ", ".join(f"{c.label} {max(c.rss) / 1024:.1f} MiB" for c in rss_cmds if c.rss)
        )

        # list + get each, 100 hosts
        log(f"\nlist + get-each cycle, {CYCLE_HOSTS} registries ({cycles} paired cycles):")
        cyc_env = env_for(dbs[CYCLE_HOSTS])
        cyc_list = Cmd("cycle-list", "list", [script, "list"], cyc_env)
        out = os.path.join(tmp, "list.out")
        pid = cyc_list.spawn(out)
        os.wait4(pid, 0)
        try:
            keys = list(json.loads(_read(out)))
        except ValueError:
            keys = []
        gets = [
            Cmd(
                f"cycle-get-{i}",
                "get",
                [script, "get"],
                cyc_env,
                stdin=stdin_file(f"cycle-{i}.txt", key),
            )
            for i, key in enumerate(keys)
        ]
        cycle = None
        if keys:
            one = get_cmd("source", script, CYCLE_HOSTS, "host")
            cycle = cycle_case(cyc_list, gets, one, cycles, 0)  # everything is warm by now
            log(
                f"  list + {len(gets)} gets: {cycle['cycle_ms']:.0f} ms   "
                f"{cycle['processes']} x one get: {cycle['one_get_x_n_ms']:.0f} ms   "
                f"paired {cycle['ratio']:.3f}x   "
                f"({cycle['cycle_ms'] / cycle['processes']:.2f} ms per process)"
                + (f"   {cycle['failures']} failed" if cycle["failures"] else "")
            )
        else:
            log(f"  list returned nothing usable ({_read(out)[:100]!r}); cycle skipped")

        # 32 concurrent gets while store runs
        log(f"\n32 concurrent gets (1,000 registries) while store runs ({rounds} rounds):")
        conc_get = get_cmd("source", script, 1000, "host", db=conc_db)
        conc = concurrency_case(
            conc_get, env_for(conc_db), [script, "store"], tmp, rounds, 1 if rounds > 1 else 0
        )
        one_get = med(src_get["host", 1000].samples)
        nproc = int(info["nproc"])
        log(
            f"  wall {conc['wall_ms']:.0f} ms (32 x one get / {nproc} cores = "
            f"{32 * one_get / nproc:.0f} ms); get failures {conc['get_failures']}; "
            f"store runs {conc['store_runs']}, store failures {conc['store_failures']}"
        )
        for err in conc["errors"]:
            log(f"    {err}")

        # import trace of the get path (regular install)
        it_runs = 1 if opts.quick else 7
        stdin = src_get["host", 1000].stdin
        it_get = importtime(
            [py, "-X", "importtime", script, "get"], env_for(dbs[1000]), stdin, it_runs
        )
        it_img = importtime(
            [py, "-X", "importtime", script, "get"],
            env_for(dbs[1000]),
            src_get["image", 1000].stdin,
            1,
        )
        it_floor = importtime(
            [py, "-X", "importtime", "-c", "import re, sys, sqlite3"], env_for(None), os.devnull, 1
        )
        extra = [m for m in it_get if m not in it_floor]
        extra_img = [m for m in it_img if m not in it_floor and m not in it_get]
        denied = sorted(
            {m for m in (*it_get, *it_img) for d in DENY if m == d or m.startswith(d + ".")}
        )
        log(
            f"\nget imports {len(it_get)} modules; beyond `import re, sys, sqlite3`: "
            + ", ".join(extra)
            + (f"; the image path adds: {', '.join(extra_img)}" if extra_img else "")
        )
        log("deny-listed modules imported by get: " + (", ".join(denied) or "none"))

        # instruction counts, one run each (deterministic)
        valgrind = "" if opts.no_instructions else (shutil.which("valgrind") or "")
        ir_rows: list[tuple[str, float, str]] = []
        if valgrind:
            with_sqlite = Cmd(
                "console-sqlite",
                'python -c "import re, sys, sqlite3"',
                [py, "-c", "import re, sys, sqlite3"],
                env_for(None),
            )
            plan = [(bare, None), (console, bare), (with_sqlite, console), (version, console)]
            plan += [(src_get["host", n], console) for n in SIZES]
            plan += [(src_get["image", 1000], console), (list_1000, console)]
            if go_version:
                plan.append((go_version, bare))
            if exe:
                plan += [(bin_version, bare)] + [(bin_get["host", n], bare) for n in SIZES]
                plan.append((bin_get["image", 1000], bare))
            counted: dict[str, float] = {}
            for cmd, _ in plan:
                counted[cmd.key] = instructions(cmd, valgrind)
            for cmd, base in plan:
                mir = counted[cmd.key]
                vs = f"{mir / counted[base.key]:.3f}× {base.label.split(' (')[0]}" if base else ""
                ir_rows.append((cmd.label, mir, vs))
            for kind in (src_get, bin_get):
                if kind and kind["host", 10].key in counted:
                    big, small = counted[kind["host", 10000].key], counted[kind["host", 10].key]
                    ir_rows.append(
                        (f"{kind['host', 10000].label} vs 10", big, f"{big / small:.3f}× get 10")
                    )
            log("\ninstructions (valgrind callgrind, millions, one run each):")
            for label, mir, vs in ir_rows:
                log(f"  {label:<50} {mir:8.2f} M  {vs}")
        else:
            log(
                "\ninstruction counts skipped: "
                + ("--no-instructions" if opts.no_instructions else "valgrind not found")
            )

        # ---- summary ----------------------------------------------------------------------
        nan = float("nan")
        get_rss = [r for c in src_get.values() for r in c.rss]
        bin_rss = [r for c in bin_get.values() for r in c.rss]
        rss_mib = max(get_rss) / 1024 if get_rss else nan
        bin_rss_mib = max(bin_rss) / 1024 if bin_rss else nan
        # (case, median ms, ratio text, CPU text, target, result)
        rows: list[tuple[str, float, str, str, str, str]] = []

        def row(
            case: str, ms: float, vs: str, target: str = "", result: str = "", cpu: str = ""
        ) -> None:
            rows.append((case, ms, vs, cpu, target, result))

        def compared(
            case: str,
            name: str,
            floor: str,
            limit: float | None = None,
            stretch: float | None = None,
            digits: int = 2,
        ) -> None:
            """A row from paired comparison ``name``; judged on the wall-clock ratio."""
            p = by_name.get(name)
            if p is None:
                return
            target = ""
            if limit is not None:
                target = f"≤ {limit:g}×" + (f" (stretch {stretch:g}×)" if stretch else "")
            row(
                case,
                med(p.a),
                f"{p.ratio:.{digits}f}× {floor}",
                target,
                verdict(p.ratio, limit, stretch) if limit is not None else "",
                f"{med(p.a_cpu):.2f} ms, {p.cpu_ratio:.{digits}f}×",
            )

        p = by_name["floors"]
        row(bare.label, med(p.b), "1.00× bare floor", cpu=f"{med(p.b_cpu):.2f} ms, 1.00×")
        compared(console.label, "floors", "bare floor")
        for how in ("host", "image"):
            for n in SIZES:
                compared(
                    f"source `get` {n:,} registries, by {how}",
                    f"get-{how}-{n}",
                    "console floor",
                    *((1.25, 1.15) if n == 1000 else (None, None)),
                )
        for how in ("host", "image"):
            compared(f"source `get` 10,000 vs 10, by {how}", f"scale-{how}", "`get` 10", 1.25)
        compared("source `version`", "version", "console floor", 1.1)
        compared("source `list`, 1,000 registries", "list-1000", "console floor")
        if cycle:
            row(
                f"`list` + `get` × {len(gets)} ({CYCLE_HOSTS} registries), whole cycle",
                cycle["cycle_ms"],
                f"{cycle['ratio']:.3f}× {cycle['processes']} × one `get` "
                f"({cycle['one_get_x_n_ms']:.0f} ms)",
                "≤ 1.05×",
                verdict(cycle["ratio"], 1.05),
            )
        ok = conc["get_failures"] == 0 and conc["store_failures"] == 0
        row(
            "32 concurrent `get` (1,000) while `store` runs, wall",
            conc["wall_ms"],
            f"{conc['wall_ms'] / (32 * one_get / nproc):.2f}× 32 × one `get` / {nproc} cores",
            "0 failures",
            "PASS"
            if ok
            else f"FAIL ({conc['get_failures']} get, {conc['store_failures']} store failures)",
        )
        row(
            "peak RSS of source `get` (max over all runs)",
            nan,
            f"{rss_mib:.1f} MiB",
            "≤ 16 MiB",
            verdict(rss_mib, 16.0),
        )
        if exe:
            for n in SIZES:
                compared(
                    f"binary `get` {n:,} registries, by host",
                    f"bin-get-host-{n}",
                    "bare floor",
                    *((2.3, 2.0) if n == 1000 else (None, None)),
                )
            compared(
                "binary `get` 1,000 registries, by image",
                "bin-get-image-1000",
                "bare floor",
                2.3,
                2.0,
            )
            compared("binary `get` 10,000 vs 10", "bin-scale", "binary `get` 10", 1.25)
            compared("binary `version`", "bin-version", "bare floor", 1.5)
            row(
                "peak RSS of binary `get`",
                nan,
                f"{bin_rss_mib:.1f} MiB",
                "≤ 16 MiB",
                verdict(bin_rss_mib, 16.0),
            )
        else:
            row(
                "binary (PyInstaller onedir)",
                nan,
                info.get("binary")
                or f"not built: no `{os.path.relpath(DEFAULT_EXE, ROOT)}`, "
                "no READYSTACK_HELPER_EXE",
                "≤ 2.3× bare floor",
                "n/a",
            )
        if go_version:
            compared(go_version.label, "go", "bare floor")
            compared("source `get` 1,000 (host) vs Go", "get-vs-go", "Go `version`", digits=1)
        else:
            row(
                "Go docker-credential-pass version",
                nan,
                "not installed (apt-get install golang-docker-credential-helpers)",
            )
        row(
            "deny-listed imports in `get` (" + ", ".join(DENY) + ")",
            nan,
            ", ".join(denied) or "none",
            "none",
            "PASS" if not denied else "FAIL",
        )

        log("\n" + "=" * 100)
        for case, ms, vs, cpu, target, result in rows:
            ms_s = f"{ms:8.2f}" if ms == ms else "       –"
            log(
                f"{case:<56} {ms_s} ms  {vs:<34} {target:<24} {result}"
                + (f"   [CPU {cpu}]" if cpu else "")
            )

        # ---- files -----------------------------------------------------------------------
        os.makedirs(opts.out, exist_ok=True)
        sizes_series = {
            "source get (host)": [med(src_get["host", n].samples) for n in SIZES],
            "source get (image)": [med(src_get["image", n].samples) for n in SIZES],
        }
        if exe:
            sizes_series["binary get (host)"] = [med(bin_get["host", n].samples) for n in SIZES]
        flat = {"console floor": med(console.samples), "bare floor": med(bare.samples)}
        if go_version:
            flat["Go pass version"] = med(go_version.samples)
        plot_msg = plot(os.path.join(opts.out, "latency.png"), SIZES, sizes_series, flat)
        log(plot_msg)

        elapsed = time.monotonic() - started
        md = [
            "# docker-credential-readystack benchmark",
            "",
            f"`python bench/run.py{' --quick' if opts.quick else ''}"
            f"{'' if opts.pairs == 30 or opts.quick else f' --pairs {opts.pairs}'}` — "
            f"{info['date']}, {elapsed:.0f} s.",
            "",
            "| machine | |",
            "| --- | --- |",
            f"| CPUs (nproc) | {info['nproc']} × {info['cpu']} |",
            f"| OS | {info['os']} |",
            f"| Python | {info['python']} |",
            f"| install | {info['install']} |",
            f"| commit | {info['commit']} |",
            *([f"| binary | {info['binary']} |"] if info.get("binary") else []),
            f"| load average at the start | {info['loadavg']} |",
            "",
            f"Whole processes (posix_spawn → wait4), {pairs} alternating pairs (A B, B A, …) per "
            f"row after {warmup} warm-up pairs; **median ms** of the case, and the **median of the "
            "pair-by-pair ratios** against the baseline named. Both floors run the bench venv's "
            "interpreter. Databases: ReadyStackGo's DDL, one organization, uppercase GUID Ids, "
            "JSON `ImagePatterns` (2–3 per row), plaintext `Password`, host `reg{i}.example.com`, "
            "a Docker Hub row every 250; the question is the last row "
            "(`reg{last}.example.com`, or `reg{last}.example.com/team{last}/app` by image). "
            "Differences under ~1.5 ms between Python cases are noise on this machine.",
            "",
            "| case | median ms | paired ratio | target | result | CPU median, paired CPU ratio |",
            "| --- | ---: | --- | --- | --- | --- |",
        ]
        for case, ms, vs, cpu, target, result in rows:
            shown = f"{ms:.2f}" if ms == ms else "–"
            md.append(f"| {case} | {shown} | {vs} | {target} | {result} | {cpu} |")
        md += ["", "![latency vs registry count](latency.png)", ""]
        if cycle:
            md.append(
                f"`list` + `get`-each: {cycle['processes']} processes, "
                f"{cycle['cycle_ms'] / cycle['processes']:.2f} ms per process in the cycle vs "
                f"{cycle['one_get_x_n_ms'] / cycle['processes']:.2f} ms for the same `get` "
                f"repeated ({len(cycle['ratios'])} paired cycles)."
            )
        md.append(
            f"Concurrency: {conc['rounds']} rounds of 32 `get` spawned at once while `store` "
            f"ran back to back ({conc['store_runs']} stores); wall per round "
            + ", ".join(f"{w:.0f}" for w in conc["walls"])
            + " ms; "
            f"{conc['get_failures']} failed gets, {conc['store_failures']} failed stores."
        )
        md += [
            "",
            f"Peak RSS ({rss_how}, {rss_runs} runs per command, ru_maxrss of the child): "
            f"source `get` median "
            f"{med(get_rss) / 1024:.1f} MiB, max {rss_mib:.1f} MiB; bare floor "
            f"{med(bare.rss) / 1024:.1f} MiB; console floor {med(console.rss) / 1024:.1f} MiB"
            + (f"; binary `get` max {bin_rss_mib:.1f} MiB" if bin_rss else "")
            + (
                f"; Go `version` {max(go_version.rss) / 1024:.1f} MiB"
                if go_version and go_version.rss
                else ""
            )
            + (f"; `list` 1,000 {max(list_1000.rss) / 1024:.1f} MiB" if list_1000.rss else "")
            + ".",
            "",
            *(
                [
                    "## Instruction counts (valgrind callgrind)",
                    "",
                    "One run each; deterministic, so they show changes that machine load hides "
                    "in wall-clock medians. User space only: exec, page faults and other kernel "
                    "work are not counted, so these ratios run higher than wall-clock ratios.",
                    "",
                    "| command | million instructions | ratio |",
                    "| --- | ---: | --- |",
                    *(f"| {label} | {mir:.2f} | {vs} |" for label, mir, vs in ir_rows),
                    "",
                ]
                if ir_rows
                else []
            ),
            "## What `get` imports (regular install, `-X importtime`, 1,000 registries)",
            "",
            f'{len(it_get)} modules. Beyond `python -c "import re, sys, sqlite3"` '
            f"({len(it_floor)} modules) it imports: "
            + (", ".join(f"`{m}`" for m in extra) or "nothing")
            + "."
            + (
                f" A question by image adds: {', '.join(f'`{m}`' for m in extra_img)}."
                if extra_img
                else ""
            ),
            f"Deny-listed ({', '.join(DENY)}): {', '.join(denied) or 'none'}.",
            "",
            f"Largest cumulative import times (median of {it_runs} runs, µs; "
            "importtime overstates a little):",
            "",
            "| module | cumulative µs | self µs |",
            "| --- | ---: | ---: |",
        ]
        top = sorted(
            ((m, v) for m, v in it_get.items() if v[2] == 0),
            key=lambda mv: -statistics.median(mv[1][1]),
        )[:12]
        for m, v in top:
            md.append(f"| `{m}` | {statistics.median(v[1]):.0f} | {statistics.median(v[0]):.0f} |")
        md += [
            "",
            plot_msg.replace("wrote ", "Plot: ") if plot_msg.startswith("wrote") else plot_msg,
            "",
        ]
        if not go_version:
            md.append(
                "Go anchor: `docker-credential-pass` not found "
                "(`apt-get install golang-docker-credential-helpers`)."
            )
        if not exe:
            md.append(
                f"Binary: not measured; build it to `{os.path.relpath(DEFAULT_EXE, ROOT)}` "
                "or set `READYSTACK_HELPER_EXE`."
            )
        warnings = [
            f"{c.label}: {c.check}"
            for c in {id(c): c for _, p in comparisons for c in (p.case, p.base)}.values()
            if c.check
        ]
        if warnings:
            md += ["", "Output checks that failed (timings of these rows are not meaningful):", ""]
            md += [f"- {w}" for w in warnings]
        with open(os.path.join(opts.out, "results.md"), "w") as fh:
            fh.write("\n".join(md).rstrip() + "\n")
        raw = {
            "machine": info,
            "pairs": pairs,
            "warmup": warmup,
            "comparisons": {
                name: {
                    "case": p.case.label,
                    "baseline": p.base.label,
                    "case_ms": p.a,
                    "baseline_ms": p.b,
                    "ratios": p.ratios,
                    "case_cpu_ms": p.a_cpu,
                    "baseline_cpu_ms": p.b_cpu,
                    "cpu_ratios": p.cpu_ratios,
                    "case_rss_kib": p.case.rss,
                }
                for name, p in comparisons
            },
            "cycle": cycle,
            "concurrency": conc,
            "instructions_millions": {label: mir for label, mir, _ in ir_rows},
            "importtime_get": {
                m: {"self_us": v[0], "cumulative_us": v[1], "depth": v[2]}
                for m, v in it_get.items()
            },
            "rows": [
                {
                    "case": c,
                    "median_ms": (m if m == m else None),
                    "ratio": v,
                    "cpu": u,
                    "target": t,
                    "result": r,
                }
                for c, m, v, u, t, r in rows
            ],
        }
        with open(os.path.join(opts.out, "results.json"), "w") as fh:
            json.dump(raw, fh, indent=1)
        log(
            f"wrote {os.path.relpath(os.path.join(opts.out, 'results.md'), ROOT)} and "
            f"results.json ({elapsed:.0f} s)"
        )
    finally:
        if opts.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
