"""Command-line options of the benchmark, with the counts --quick derives from them."""

from __future__ import annotations

import argparse
import os
import shutil

from . import BENCH, ROOT, SCRIPT

DEFAULT_VENV = os.path.join(BENCH, ".venv")
DEFAULT_OUT = os.path.join(BENCH, "results")
DEFAULT_EXE = os.path.join(ROOT, "dist", SCRIPT, SCRIPT)
DEFAULT_PAIRS = 30
DESCRIPTION = (
    'Start-up and scale benchmark for docker-credential-readystack (issue 6, DESIGN.md "Budgets").'
)


def parser() -> argparse.ArgumentParser:
    """The flags of `python bench/run.py`."""
    ap = argparse.ArgumentParser(description=DESCRIPTION)
    ap.add_argument(
        "--pairs", type=int, default=DEFAULT_PAIRS, help="paired runs per comparison (30)"
    )
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
    ap.add_argument(
        "--compose-only",
        action="store_true",
        help="only the docker compose pull case (needs dockerd, docker-registry, compose v2)",
    )
    return ap


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """The options, plus the derived counts: pairs, warmup, cycles, rounds, rss_runs, it_runs."""
    opts = parser().parse_args(argv)
    if opts.quick:
        opts.pairs, opts.warmup = min(opts.pairs, 5), 1
    opts.pairs, opts.warmup = max(1, opts.pairs), max(0, opts.warmup)
    opts.cycles = opts.cycles or (1 if opts.quick else max(3, opts.pairs // 10))
    opts.rounds = opts.rounds or (1 if opts.quick else 5)
    opts.rss_runs = 2 if opts.quick else 5
    opts.it_runs = 1 if opts.quick else 7
    opts.rt_runs = 2 if opts.quick else 5
    return opts
