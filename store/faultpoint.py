"""Named points where the fault tests stop or kill a writer; inert in the shipped product.

tests/faults/ proves "a writer killed at any instant loses nothing" (DESIGN.md, "Guarantees under
faults") by killing writers exactly at these steps. A point acts only when all three hold:
- ``READYSTACK_TEST_FAULT_POINT`` names it (``STEP`` to SIGKILL there, ``STEP:stop`` to SIGSTOP
  there, so a test can act on the world, e.g. end the server's session, and then SIGCONT);
- ``PYTEST_CURRENT_TEST`` is set: pytest sets it while a test runs, and nothing else does;
- the program is not the PyInstaller binary (``sys.frozen``): the binary and the .deb never
  kill themselves, whatever their environment says.
Writers import this module at their steps. The same rule (``knob``) makes other test-only
settings inert outside a test: a keyring `get` reads one only once keyring's read has begun.
"""

from __future__ import annotations

import os
import signal
import sys

VARIABLE = "READYSTACK_TEST_FAULT_POINT"
# Every point, in the order a writer passes them (tests/faults enumerates these).
POINTS = (
    "after-begin",  # the write transaction holds its lock; nothing written yet
    "after-row-write",  # a row was inserted, updated or deleted; not committed
    "before-commit",  # every statement ran; COMMIT is next
    "mid-copy",  # a COPY into PostgreSQL is under way
    "after-replica-fsync",  # the new replica is written and fsynced; not renamed yet
    "after-replica-rename",  # the new replica is in place; its folder not fsynced yet
    "after-config-fsync",  # config.json's new version is fsynced beside it; not renamed yet
    "after-config-rename",  # config.json was replaced; its folder not fsynced yet
    "after-new-secret",  # move-secrets wrote the new place; the old one is not cleared yet
)


def knob(variable: str) -> str | None:
    """A test-only setting's value: None unless pytest runs a test and this is not the binary."""
    value = os.environ.get(variable)
    if not value or "PYTEST_CURRENT_TEST" not in os.environ or getattr(sys, "frozen", False):
        return None
    return value


def reached(step: str) -> None:
    """Stop or die here if, and only if, a fault test asked for exactly this step."""
    wanted = knob(VARIABLE)
    if wanted is None:
        return
    name, _, action = wanted.partition(":")
    if name != step:
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # what was said before the point is what a killed writer said
    os.kill(os.getpid(), signal.SIGSTOP if action == "stop" else signal.SIGKILL)
