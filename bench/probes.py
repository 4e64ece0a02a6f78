"""Probes beyond wall time: peak RSS, instruction counts (valgrind) and `-X importtime` of get."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from typing import NamedTuple

from readystack.helper.lookup.importbudget import denied_among

from . import log, read_text
from .cases import Commands
from .databases import SIZES
from .timing import Cmd

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
            cmd.rss.append(int(read_text(err).strip().splitlines()[-1]))
        except (ValueError, IndexError):
            pass


def peak_rss(c: Commands, runs: int) -> str:
    """Peak RSS of every timed command into its ``rss``; returns how it was measured."""
    prefix, how = rss_prefix(c.setup.py)
    cmds = c.timed()
    for cmd in cmds:
        measure_rss(cmd, prefix, runs, c.ws.tmp)
    log(
        f"\npeak RSS ({how}, {runs} runs, max): "
        + ", ".join(f"{x.label} {max(x.rss) / 1024:.1f} MiB" for x in cmds if x.rss)
    )
    return how


class InstructionRow(NamedTuple):
    """One line of the instruction-count table."""

    label: str
    millions: float
    ratio: str  # against the baseline named, "" for the bare floor


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


def instruction_counts(c: Commands, skip: bool) -> list[InstructionRow]:
    """One callgrind run per command, with ratios to its floor; [] without valgrind."""
    valgrind = "" if skip else (shutil.which("valgrind") or "")
    if not valgrind:
        log(
            "\ninstruction counts skipped: "
            + ("--no-instructions" if skip else "valgrind not found")
        )
        return []
    with_sqlite = Cmd(
        "console-sqlite",
        'python -c "import re, sys, sqlite3"',
        [c.setup.py, "-c", "import re, sys, sqlite3"],
        c.ws.env_for(None),
    )
    bare, console, src_get, bin_get = c.bare, c.console, c.src_get, c.bin_get
    plan = [(bare, None), (console, bare), (with_sqlite, console), (c.version, console)]
    plan += [(src_get["host", n], console) for n in SIZES]
    plan += [(src_get["image", 1000], console), (c.list_1000, console)]
    if c.go_version:
        plan.append((c.go_version, bare))
    if c.setup.exe:
        plan += [(c.bin_version, bare)] + [(bin_get["host", n], bare) for n in SIZES]
        plan.append((bin_get["image", 1000], bare))
    counted = {cmd.key: instructions(cmd, valgrind) for cmd, _ in plan}
    rows = []
    for cmd, base in plan:
        mir = counted[cmd.key]
        vs = f"{mir / counted[base.key]:.3f}× {base.label.split(' (')[0]}" if base else ""
        rows.append(InstructionRow(cmd.label, mir, vs))
    for kind in (src_get, bin_get):
        if kind and kind["host", 10].key in counted:
            big, small = counted[kind["host", 10000].key], counted[kind["host", 10].key]
            rows.append(
                InstructionRow(
                    f"{kind['host', 10000].label} vs 10", big, f"{big / small:.3f}× get 10"
                )
            )
    log("\ninstructions (valgrind callgrind, millions, one run each):")
    for label, mir, vs in rows:
        log(f"  {label:<50} {mir:8.2f} M  {vs}")
    return rows


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


class ImportTrace:
    """What `get` imports (by host, and what a question by image adds) beyond the floor."""

    def __init__(self, c: Commands, runs: int) -> None:
        py, script, env = c.setup.py, c.setup.script, c.ws.env_for(c.ws.dbs[1000])
        argv = [py, "-X", "importtime", script, "get"]
        self.runs = runs
        self.get = importtime(argv, env, c.src_get["host", 1000].stdin, runs)
        self.img = importtime(argv, env, c.src_get["image", 1000].stdin, 1)
        self.floor = importtime(
            [py, "-X", "importtime", "-c", "import re, sys, sqlite3"],
            c.ws.env_for(None),
            os.devnull,
            1,
        )
        self.extra = [m for m in self.get if m not in self.floor]
        self.extra_img = [m for m in self.img if m not in self.floor and m not in self.get]
        self.denied = denied_among((*self.get, *self.img))


def import_trace(c: Commands, runs: int) -> ImportTrace:
    """`-X importtime` of get on the regular install, logged."""
    it = ImportTrace(c, runs)
    log(
        f"\nget imports {len(it.get)} modules; beyond `import re, sys, sqlite3`: "
        + ", ".join(it.extra)
        + (f"; the image path adds: {', '.join(it.extra_img)}" if it.extra_img else "")
    )
    log("deny-listed modules imported by get: " + (", ".join(it.denied) or "none"))
    return it
