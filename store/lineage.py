"""Is a program this helper? By realpath, and up the parent process chain (Linux /proc)."""

from __future__ import annotations

import os
import sys

# How far up the parent chain to look: the docker CLI, a shell, sudo, a wrapper or two.
MAX_ANCESTORS = 16
MODULE = "readystack.helper"


def own_paths() -> frozenset[str]:
    """The realpaths that are this helper: the script or binary run, and the frozen executable."""
    found = set()
    if sys.argv and sys.argv[0] and os.path.sep in sys.argv[0]:
        found.add(os.path.realpath(sys.argv[0]))
    if getattr(sys, "frozen", False):
        # The PyInstaller binary: sys.executable is the bootloader, which is this program.
        found.add(os.path.realpath(sys.executable))
    return frozenset(found)


def is_self(path: str) -> bool:
    """Whether ``path`` resolves to the executable that is running now."""
    return os.path.realpath(path) in own_paths()


def ancestor_is_self() -> bool:
    """Whether a parent process runs this helper: then this lookup was delegated back to us.

    Unlike READYSTACK_DELEGATED, the process chain survives a wrapper that clears the
    environment (`env -i`, sudo's env_reset). Outside Linux there is no /proc: False.
    """
    own = own_paths()
    pid = os.getppid()
    for _ in range(MAX_ANCESTORS):
        if pid <= 1:
            return False
        if _runs_helper(pid, own):
            return True
        pid = _parent_of(pid)
    return False


def _runs_helper(pid: int, own: frozenset[str]) -> bool:
    try:
        exe = os.path.realpath(f"/proc/{pid}/exe")
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read(8192).split(b"\0")
    except OSError:
        return False
    if exe in own:
        return True
    words = [os.fsdecode(a) for a in argv[:3]]
    if "-m" in words and MODULE in words:
        return True  # `python -m readystack.helper`
    cwd = f"/proc/{pid}/cwd"
    # An interpreter running the console script has the script as argv[0] or argv[1].
    return any(w and os.path.realpath(os.path.join(cwd, w)) in own for w in words[:2])


def _parent_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return 0
    # The command name (field 2) may hold spaces and parentheses: read after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 else 0
