"""The fault-injection suite's counts, printed at the end of every run (also in CI's log)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from .harness import COUNTS

ORDER = ("kills", "checks", "failures")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per writer or fault: kills injected, checks passed, failures, other counts."""
    if not COUNTS:
        return
    terminalreporter.section("faults injected and checks passed")
    for writer, counts in sorted(COUNTS.items()):
        named = [f"{k} {counts[k]}" for k in ORDER if k in counts]
        named += [f"{k} {v}" for k, v in sorted(counts.items()) if k not in ORDER]
        terminalreporter.write_line(f"{writer}: " + ", ".join(named))


@pytest.fixture
def kills(request: pytest.FixtureRequest) -> int:
    """Kills per writer: READYSTACK_FAULT_KILLS, else 2000 with --long, else 100."""
    from .harness import kills_wanted

    return kills_wanted(request.config)


@pytest.fixture
def fast_tmp(tmp_path: Path) -> Iterator[Path]:
    """A private folder in memory (/dev/shm) where there is one: these tests kill processes,
    they do not cut power, so the disk's fsync would only slow them (tests/faults/test_power_cut
    checks the fsyncs themselves)."""
    if not os.path.isdir("/dev/shm"):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="readystack-faults.", dir="/dev/shm"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
