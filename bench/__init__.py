"""Start-up and scale benchmark for docker-credential-readystack (`python bench/run.py`)."""

from __future__ import annotations

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
SCRIPT = "docker-credential-readystack"


def log(msg: str = "") -> None:
    """One line of progress on stdout, flushed at once (a run takes minutes)."""
    print(msg, flush=True)


def read_text(path: str) -> str:
    """A small output file as text, undecodable bytes replaced."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read()
