"""Diagnostics: one-line warnings on stderr and the opt-in debug trace; never stdout."""

from __future__ import annotations

import os
import stat
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


# The log file's descriptor once opened; -1 when it is refused or cannot be opened.
_log_fd: int | None = None


def _open_log() -> int:
    """Open READYSTACK_LOG_FILE once: never through a symlink, only a private regular file."""
    global _log_fd
    if _log_fd is not None:
        return _log_fd
    _log_fd = -1
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        # 0600 whatever exists: O_NOFOLLOW refuses a symlink, so a link cannot choose the file.
        fd = os.open(_LOG_FILE, flags, 0o600)
    except OSError as exc:
        import errno  # only when the log cannot be opened: a lookup never needs it

        reason = "it is a symbolic link" if exc.errno == errno.ELOOP else exc.strerror
        _stderr(f"{NAME}: not writing the debug log to {_LOG_FILE}: {reason}")
        return -1
    info = os.fstat(fd)
    refusal = ""
    if not stat.S_ISREG(info.st_mode):
        refusal = "it is not a regular file"
    elif info.st_mode & 0o077:
        mode = stat.S_IMODE(info.st_mode)
        refusal = f"others can read it (mode {mode:04o}); chmod 600 it"
    if refusal:
        os.close(fd)
        _stderr(f"{NAME}: refusing to append the debug log to {_LOG_FILE}: {refusal}")
        return -1
    _log_fd = fd
    return fd


def _one_line(line: str) -> str:
    # One line per event: newlines inside a message would let a value forge extra lines.
    return line.replace("\r", " ").replace("\n", " ")


def _stderr(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _emit(line: str) -> bool:
    """Write one line to the log file, else stderr; True when it went to the log file."""
    if _LOG_FILE:
        fd = _open_log()
        if fd >= 0:
            try:
                os.write(fd, (line + "\n").encode("utf-8", "backslashreplace"))
                return True
            except OSError:
                pass  # an unwritable log file must not break a lookup; fall back to stderr
    _stderr(line)
    return False


def warn(message: str) -> None:
    """One line on stderr (and in the debug log file): a source was skipped or refused."""
    line = _one_line(f"{NAME}: {message}")
    if _emit(line):
        _stderr(line)  # a warning is for the person at the terminal too


def debug(message: str) -> None:
    """A debug trace line, written only when READYSTACK_LOG=debug or READYSTACK_LOG_FILE is set."""
    if DEBUG:
        _emit(_one_line(f"{NAME}: debug: {message}"))


def printable(text: object) -> str:
    """``text`` for a terminal: control characters (escape sequences, newlines) as ``\\x1b``."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in value)


def mask(secret: str | None) -> str:
    """How a secret is shown to people: never its text, only whether it is set."""
    if secret is None:
        return "<none>"
    if secret == "":
        return "<empty>"
    return f"<hidden, {len(secret)} char{'' if len(secret) == 1 else 's'}>"
