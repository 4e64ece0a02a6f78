"""Report: the summary rows against the budgets, the console table, results.md/.json, the plot."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import time
from typing import NamedTuple

from readystack.helper.lookup.importbudget import GET_DENIED

from . import ROOT, log, read_text, sections
from .cases import Commands
from .databases import CYCLE_HOSTS, SIZES
from .options import DEFAULT_EXE, DEFAULT_PAIRS
from .probes import ImportTrace, InstructionRow
from .timing import Pair, med

NAN = float("nan")


class Row(NamedTuple):
    """One line of the summary table."""

    case: str
    ms: float  # the case's median wall time, NaN when the row is not a timing
    vs: str  # the paired ratio and its baseline (or the measured value)
    cpu: str = ""  # CPU median and paired CPU ratio
    target: str = ""
    result: str = ""


class Results:
    """Everything one run measured (run.py adds each of bench/sections.py's by its name)."""

    def __init__(
        self,
        opts: argparse.Namespace,
        info: dict[str, str],
        cmds: Commands,
        compared: list[tuple[str, Pair]],
        rss_how: str,
        cycle: dict | None,
        conc: dict,
        imports: ImportTrace,
        instructions: list[InstructionRow],
        regtest: dict | None = None,
    ) -> None:
        self.opts, self.info, self.cmds = opts, info, cmds
        self.regtest = regtest
        self.compared = compared
        self.by_name = dict(compared)
        self.rss_how, self.cycle, self.conc = rss_how, cycle, conc
        self.imports, self.instructions = imports, instructions
        self.get_rss = [r for c in cmds.src_get.values() for r in c.rss]
        self.bin_rss = [r for c in cmds.bin_get.values() for r in c.rss]
        self.rss_mib = max(self.get_rss) / 1024 if self.get_rss else NAN
        self.bin_rss_mib = max(self.bin_rss) / 1024 if self.bin_rss else NAN


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
        for line in read_text("/proc/cpuinfo").splitlines():
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


class _Rows:
    """Collects summary rows; ``compared`` makes one from a paired comparison."""

    def __init__(self, by_name: dict[str, Pair]) -> None:
        self.by_name = by_name
        self.rows: list[Row] = []

    def add(self, *args: str | float, **kwargs: str) -> None:
        self.rows.append(Row(*args, **kwargs))

    def compared(
        self,
        case: str,
        name: str,
        floor: str,
        limit: float | None = None,
        stretch: float | None = None,
        digits: int = 2,
    ) -> None:
        """A row from paired comparison ``name``; judged on the wall-clock ratio."""
        p = self.by_name.get(name)
        if p is None:
            return
        target = ""
        if limit is not None:
            target = f"≤ {limit:g}×" + (f" (stretch {stretch:g}×)" if stretch else "")
        self.add(
            case,
            med(p.a),
            f"{p.ratio:.{digits}f}× {floor}",
            cpu=f"{med(p.a_cpu):.2f} ms, {p.cpu_ratio:.{digits}f}×",
            target=target,
            result=verdict(p.ratio, limit, stretch) if limit is not None else "",
        )


def _source_rows(r: Results, out: _Rows) -> None:
    c = r.cmds
    p = r.by_name["floors"]
    out.add(c.bare.label, med(p.b), "1.00× bare floor", cpu=f"{med(p.b_cpu):.2f} ms, 1.00×")
    out.compared(c.console.label, "floors", "bare floor")
    for how in ("host", "image"):
        for n in SIZES:
            out.compared(
                f"source `get` {n:,} registries, by {how}",
                f"get-{how}-{n}",
                "console floor",
                *((1.25, 1.15) if n == 1000 else (None, None)),
            )
    for how in ("host", "image"):
        out.compared(f"source `get` 10,000 vs 10, by {how}", f"scale-{how}", "`get` 10", 1.25)
    out.compared("source `get` 1,000, WAL database", "wal-get-1000", "console floor", 1.25, 1.15)
    out.compared(
        "source `get` 1,000, WAL, ReadyStackGo writing",
        "wal-writer-get-1000",
        "console floor",
        1.25,
        1.15,
    )
    out.compared(
        "source `get` 1,000, database from the config file",
        "config-get-1000",
        "console floor",
        1.25,
        1.15,
    )
    out.compared(
        "source `get` 1,000, by host, docker parent (image hint)",
        "get-hint-1000",
        "console floor",
        1.25,
        1.15,
    )
    out.compared(
        "source `get` 1,000, by host, READYSTACK_IMAGE_HINT=0", "get-hint-off-1000", "console floor"
    )
    out.compared("source `get` with the image hint vs hint off", "hint-vs-off", "hint off")
    out.compared("source `version`", "version", "console floor", 1.1)
    out.compared("source `list`, 1,000 registries", "list-1000", "console floor")


def _load_rows(r: Results, out: _Rows) -> None:
    cycle, conc = r.cycle, r.conc
    if cycle:
        out.add(
            f"`list` + `get` × {cycle['processes'] - 1} ({CYCLE_HOSTS} registries), whole cycle",
            cycle["cycle_ms"],
            f"{cycle['ratio']:.3f}× {cycle['processes']} × one `get` "
            f"({cycle['one_get_x_n_ms']:.0f} ms)",
            target="≤ 1.05×",
            result=verdict(cycle["ratio"], 1.05),
        )
    one_get = med(r.cmds.src_get["host", 1000].samples)
    nproc = int(r.info["nproc"])
    ok = conc["get_failures"] == 0 and conc["store_failures"] == 0
    out.add(
        "32 concurrent `get` (1,000) while `store` runs, wall",
        conc["wall_ms"],
        f"{conc['wall_ms'] / (32 * one_get / nproc):.2f}× 32 × one `get` / {nproc} cores",
        target="0 failures",
        result="PASS"
        if ok
        else f"FAIL ({conc['get_failures']} get, {conc['store_failures']} store failures)",
    )
    rt = r.regtest
    if rt:
        out.add(
            f"`registry test` of {rt['rows']} rows that all time out",
            rt["wall_ms_32"],
            f"{rt['ratio_to_timeout']:.2f}× one timeout ({rt['timeout_s']:g} s); "
            f"{rt['ratio_to_one_row']:.2f}× 1 row",
            target="≤ 1.5×",
            result=verdict(rt["ratio_to_timeout"], 1.5)
            if not rt["failures"]
            else f"FAIL ({rt['failures']} runs did not report every row unreachable)",
        )
    out.add(
        "peak RSS of source `get` (max over all runs)",
        NAN,
        f"{r.rss_mib:.1f} MiB",
        target="≤ 16 MiB",
        result=verdict(r.rss_mib, 16.0),
    )


def _binary_rows(r: Results, out: _Rows) -> None:
    if not r.cmds.setup.exe:
        out.add(
            "binary (PyInstaller onedir)",
            NAN,
            r.info.get("binary")
            or f"not built: no `{os.path.relpath(DEFAULT_EXE, ROOT)}`, no READYSTACK_HELPER_EXE",
            target="≤ 2.0× bare floor",
            result="n/a",
        )
        return
    for n in SIZES:
        out.compared(
            f"binary `get` {n:,} registries, by host",
            f"bin-get-host-{n}",
            "bare floor",
            *((2.0, None) if n == 1000 else (None, None)),
        )
    out.compared("binary `get` 1,000 registries, by image", "bin-get-image-1000", "bare floor", 2.0)
    out.compared(
        "binary `get` 1,000, by host, docker parent (image hint)",
        "bin-get-hint-1000",
        "bare floor",
        2.0,
    )
    out.compared("binary `get` 10,000 vs 10", "bin-scale", "binary `get` 10", 1.25)
    out.compared("binary `version`", "bin-version", "bare floor", 1.5)
    out.add(
        "peak RSS of binary `get`",
        NAN,
        f"{r.bin_rss_mib:.1f} MiB",
        target="≤ 16 MiB",
        result=verdict(r.bin_rss_mib, 16.0),
    )


def _anchor_rows(r: Results, out: _Rows) -> None:
    go_version = r.cmds.go_version
    if go_version:
        out.compared(go_version.label, "go", "bare floor")
        out.compared("source `get` 1,000 (host) vs Go", "get-vs-go", "Go `version`", digits=1)
    else:
        out.add(
            "Go docker-credential-pass version",
            NAN,
            "not installed (apt-get install golang-docker-credential-helpers)",
        )
    denied = r.imports.denied
    out.add(
        f"deny-listed imports in `get` ({len(GET_DENIED)} modules, helper/lookup/importbudget.py)",
        NAN,
        ", ".join(denied) or "none",
        target="none",
        result="PASS" if not denied else "FAIL",
    )


def summary(r: Results) -> list[Row]:
    """The summary table: every case with its ratio, target and verdict."""
    out = _Rows(r.by_name)
    _source_rows(r, out)
    _load_rows(r, out)
    _binary_rows(r, out)
    _anchor_rows(r, out)
    sections.add_rows(r, out.add, verdict)
    return out.rows


def print_table(rows: list[Row]) -> None:
    """The summary on the console."""
    log("\n" + "=" * 100)
    for row in rows:
        ms_s = f"{row.ms:8.2f}" if row.ms == row.ms else "       –"
        log(
            f"{row.case:<56} {ms_s} ms  {row.vs:<34} {row.target:<24} {row.result}"
            + (f"   [CPU {row.cpu}]" if row.cpu else "")
        )


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


def _md_head(r: Results, elapsed: float) -> list[str]:
    opts, info = r.opts, r.info
    return [
        "# docker-credential-readystack benchmark",
        "",
        f"`python bench/run.py{' --quick' if opts.quick else ''}"
        f"{'' if opts.pairs == DEFAULT_PAIRS or opts.quick else f' --pairs {opts.pairs}'}` — "
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
        f"Whole processes (posix_spawn → wait4), {opts.pairs} alternating pairs (A B, B A, …) per "
        f"row after {opts.warmup} warm-up pairs; **median ms** of the case, and the **median of "
        "the pair-by-pair ratios** against the baseline named. Both floors run the bench venv's "
        "interpreter. Databases: ReadyStackGo's DDL, one organization, uppercase GUID Ids, "
        "JSON `ImagePatterns` (2–3 per row), plaintext `Password`, host `reg{i}.example.com`, "
        "a Docker Hub row every 250; the question is the last row "
        "(`reg{last}.example.com`, or `reg{last}.example.com/team{last}/app` by image). "
        "Differences under ~1.5 ms between Python cases are noise on this machine.",
        "",
    ]


def _md_table(rows: list[Row]) -> list[str]:
    md = [
        "| case | median ms | paired ratio | target | result | CPU median, paired CPU ratio |",
        "| --- | ---: | --- | --- | --- | --- |",
    ]
    for row in rows:
        shown = f"{row.ms:.2f}" if row.ms == row.ms else "–"
        md.append(f"| {row.case} | {shown} | {row.vs} | {row.target} | {row.result} | {row.cpu} |")
    return md + ["", "![latency vs registry count](latency.png)", ""]


def _md_load(r: Results) -> list[str]:
    cycle, conc, c = r.cycle, r.conc, r.cmds
    md = []
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
    go_version = c.go_version
    md += [
        "",
        f"Peak RSS ({r.rss_how}, {r.opts.rss_runs} runs per command, ru_maxrss of the child): "
        f"source `get` median "
        f"{med(r.get_rss) / 1024:.1f} MiB, max {r.rss_mib:.1f} MiB; bare floor "
        f"{med(c.bare.rss) / 1024:.1f} MiB; console floor {med(c.console.rss) / 1024:.1f} MiB"
        + (f"; binary `get` max {r.bin_rss_mib:.1f} MiB" if r.bin_rss else "")
        + (
            f"; Go `version` {max(go_version.rss) / 1024:.1f} MiB"
            if go_version and go_version.rss
            else ""
        )
        + (f"; `list` 1,000 {max(c.list_1000.rss) / 1024:.1f} MiB" if c.list_1000.rss else "")
        + ".",
        "",
    ]
    return md


def _md_instructions(rows: list[InstructionRow]) -> list[str]:
    if not rows:
        return []
    return [
        "## Instruction counts (valgrind callgrind)",
        "",
        "One run each; deterministic, so they show changes that machine load hides "
        "in wall-clock medians. User space only: exec, page faults and other kernel "
        "work are not counted, so these ratios run higher than wall-clock ratios.",
        "",
        "| command | million instructions | ratio |",
        "| --- | ---: | --- |",
        *(f"| {row.label} | {row.millions:.2f} | {row.ratio} |" for row in rows),
        "",
    ]


def _md_imports(it: ImportTrace) -> list[str]:
    md = [
        "## What `get` imports (regular install, `-X importtime`, 1,000 registries)",
        "",
        f'{len(it.get)} modules. Beyond `python -c "import re, sys, sqlite3"` '
        f"({len(it.floor)} modules) it imports: "
        + (", ".join(f"`{m}`" for m in it.extra) or "nothing")
        + "."
        + (
            f" A question by image adds: {', '.join(f'`{m}`' for m in it.extra_img)}."
            if it.extra_img
            else ""
        ),
        f"Deny-listed ({', '.join(GET_DENIED)}): {', '.join(it.denied) or 'none'}.",
        "",
        f"Largest cumulative import times (median of {it.runs} runs, µs; "
        "importtime overstates a little):",
        "",
        "| module | cumulative µs | self µs |",
        "| --- | ---: | ---: |",
    ]
    top = sorted(
        ((m, v) for m, v in it.get.items() if v[2] == 0),
        key=lambda mv: -statistics.median(mv[1][1]),
    )[:12]
    for m, v in top:
        md.append(f"| `{m}` | {statistics.median(v[1]):.0f} | {statistics.median(v[0]):.0f} |")
    return md


def _md_notes(r: Results, plot_msg: str) -> list[str]:
    md = [
        "",
        plot_msg.replace("wrote ", "Plot: ") if plot_msg.startswith("wrote") else plot_msg,
        "",
    ]
    if not r.cmds.go_version:
        md.append(
            "Go anchor: `docker-credential-pass` not found "
            "(`apt-get install golang-docker-credential-helpers`)."
        )
    if not r.cmds.setup.exe:
        md.append(
            f"Binary: not measured; build it to `{os.path.relpath(DEFAULT_EXE, ROOT)}` "
            "or set `READYSTACK_HELPER_EXE`."
        )
    warnings = [
        f"{c.label}: {c.check}"
        for c in {id(c): c for _, p in r.compared for c in (p.case, p.base)}.values()
        if c.check
    ]
    if warnings:
        md += ["", "Output checks that failed (timings of these rows are not meaningful):", ""]
        md += [f"- {w}" for w in warnings]
    return md


def markdown(r: Results, rows: list[Row], plot_msg: str, elapsed: float) -> str:
    """results.md: the machine, the summary table, the load cases, instructions, imports."""
    md = _md_head(r, elapsed) + _md_table(rows) + _md_load(r)
    md += _md_instructions(r.instructions) + _md_imports(r.imports) + _md_notes(r, plot_msg)
    return "\n".join(md).rstrip() + "\n"


def raw(r: Results, rows: list[Row]) -> dict:
    """results.json: every sample, and the summary rows."""
    return {
        "machine": r.info,
        "pairs": r.opts.pairs,
        "warmup": r.opts.warmup,
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
            for name, p in r.compared
        },
        "cycle": r.cycle,
        "concurrency": r.conc,
        "registry_test": r.regtest,
        **sections.raw(r),
        "instructions_millions": {row.label: row.millions for row in r.instructions},
        "importtime_get": {
            m: {"self_us": v[0], "cumulative_us": v[1], "depth": v[2]}
            for m, v in r.imports.get.items()
        },
        "rows": [
            {
                "case": row.case,
                "median_ms": (row.ms if row.ms == row.ms else None),
                "ratio": row.vs,
                "cpu": row.cpu,
                "target": row.target,
                "result": row.result,
            }
            for row in rows
        ],
    }


def write(r: Results, started: float) -> None:
    """The console summary, then latency.png, results.md and results.json in --out."""
    rows = summary(r)
    print_table(rows)
    out = r.opts.out
    os.makedirs(out, exist_ok=True)
    c = r.cmds
    sizes_series = {
        "source get (host)": [med(c.src_get["host", n].samples) for n in SIZES],
        "source get (image)": [med(c.src_get["image", n].samples) for n in SIZES],
    }
    if c.setup.exe:
        sizes_series["binary get (host)"] = [med(c.bin_get["host", n].samples) for n in SIZES]
    flat = {"console floor": med(c.console.samples), "bare floor": med(c.bare.samples)}
    if c.go_version:
        flat["Go pass version"] = med(c.go_version.samples)
    plot_msg = plot(os.path.join(out, "latency.png"), SIZES, sizes_series, flat)
    log(plot_msg)
    elapsed = time.monotonic() - started
    with open(os.path.join(out, "results.md"), "w") as fh:
        fh.write(markdown(r, rows, plot_msg, elapsed))
    with open(os.path.join(out, "results.json"), "w") as fh:
        json.dump(raw(r, rows), fh, indent=1)
    log(
        f"wrote {os.path.relpath(os.path.join(out, 'results.md'), ROOT)} and "
        f"results.json ({elapsed:.0f} s)"
    )
