"""Diagnostics: one-line warnings on stderr and the opt-in debug trace; never stdout."""

from __future__ import annotations

import os
import sys

from .conventions import NAME

# The environment is read once per process: the helper lives for one lookup.
_ENV = os.environ
_LOG_FILE = _ENV.get("READYSTACK_LOG_FILE", "")
DEBUG = (
    bool(_LOG_FILE)
    or _ENV.get("READYSTACK_LOG", "").lower() == "debug"
    or (_ENV.get("Logging__LogLevel__ReadyStackGo.Infrastructure.Docker", "").lower() == "debug")
)


def _emit(line: str) -> None:
    # One line per event: newlines inside a message would let a value forge extra lines.
    line = line.replace("\r", " ").replace("\n", " ")
    if _LOG_FILE:
        try:
            fd = os.open(_LOG_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8", "backslashreplace"))
            finally:
                os.close(fd)
            return
        except OSError:
            pass  # an unwritable log file must not break a lookup; fall back to stderr
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def warn(message: str) -> None:
    """One line on stderr (and in the debug log file): a source was skipped or refused."""
    _emit(f"{NAME}: {message}")
    if _LOG_FILE:
        try:
            sys.stderr.write(f"{NAME}: {message}".replace("\n", " ") + "\n")
        except (OSError, ValueError):
            pass


def debug(message: str) -> None:
    """A debug trace line, written only when READYSTACK_LOG=debug or READYSTACK_LOG_FILE is set."""
    if DEBUG:
        _emit(f"{NAME}: debug: {message}")


def mask(secret: str | None) -> str:
    """How a secret is shown to people: never its text, only whether it is set."""
    if secret is None:
        return "<none>"
    return "<empty>" if secret == "" else f"<hidden, {len(secret)} chars>"
