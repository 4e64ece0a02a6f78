"""The config file: ``key = value`` lines, the user's file before the system's, env vars first."""

from __future__ import annotations

import os

from .conventions import SECRET_STORES, is_remote

TYPE_CHECKING = False  # collections.abc serves annotations only: a lookup never imports it
if TYPE_CHECKING:
    from collections.abc import Mapping

SYSTEM_FILE = "/etc/docker-credential-readystack/config"
KEYS = ("database", "secrets", "readonly", "image-hint", "sync-from")
# The environment variable that wins over the files, per key. `database` has its own discovery
# order (store/paths.py) and `sync-from` has no variable.
ENV_VARS = {
    "secrets": "READYSTACK_SECRETS",
    "readonly": "READYSTACK_READONLY",
    "image-hint": "READYSTACK_IMAGE_HINT",
}
TRUE = ("true", "1", "yes", "on")
FALSE = ("false", "0", "no", "off")
# Values each key accepts (case-insensitive), and how a refusal names them.
_ALLOWED = {
    "secrets": (SECRET_STORES, " or ".join(SECRET_STORES)),
    "readonly": (TRUE + FALSE, "true or false"),
    "image-hint": (TRUE + FALSE, "true or false"),
}
# A config file is a handful of lines; anything bigger is not one, and is not read past this.
_MAX_BYTES = 1 << 16


class _File:
    """One parsed config file: its values, where each came from, and what was wrong in it."""

    __slots__ = ("path", "values", "problems")

    def __init__(self, path: str) -> None:
        self.path = path
        self.values: dict[str, str] = {}
        self.problems: list[str] = []


# Each file is read at most once per process: a lookup lives for one question.
_cache: dict[str, _File] = {}


def user_file(environ: Mapping[str, str]) -> str:
    """``${XDG_CONFIG_HOME:-~/.config}/docker-credential-readystack/config``."""
    base = environ.get("XDG_CONFIG_HOME", "")
    if not base.startswith("/"):  # the XDG spec: a relative value is invalid and ignored
        base = os.path.join(home(environ), ".config")
    return os.path.join(base, "docker-credential-readystack", "config")


def home(environ: Mapping[str, str]) -> str:
    """The user's home: ``HOME``, else the password database's."""
    return environ.get("HOME") or os.path.expanduser("~")


def files(environ: Mapping[str, str]) -> list[str]:
    """The config files in the order they count: the user's, then the system's."""
    return [user_file(environ), SYSTEM_FILE]


def get(environ: Mapping[str, str], key: str) -> str | None:
    """The value of ``key``: its environment variable, else the user's file, else the system's."""
    found = lookup(environ, key)
    return found[0] if found else None


def lookup(environ: Mapping[str, str], key: str) -> tuple[str, str] | None:
    """``key``'s value and what set it (the variable's name or the file's path), or None."""
    assert key in KEYS, key
    var = ENV_VARS.get(key)
    if var and environ.get(var):
        return environ[var], var
    for path in files(environ):
        parsed = read(path)
        if key in parsed.values:
            return parsed.values[key], path
    return None


def enabled(environ: Mapping[str, str], key: str, default: bool) -> bool:
    """A true/false key read as a flag; an unrecognised value means ``default``."""
    value = (get(environ, key) or "").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    return default


def database(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The ``database`` key as an absolute path, with the file that set it, or None."""
    found = lookup(environ, "database")
    if found is None:
        return None
    value, path = found
    return file_path(environ, value, path), path


def file_path(environ: Mapping[str, str], value: str, config: str) -> str:
    """A path written in the config file ``config``, made absolute (``~/`` is the home)."""
    if value == "~" or value.startswith("~/"):
        value = home(environ) + value[1:]
    # A relative path is relative to the config file's folder, not to wherever docker runs.
    return os.path.normpath(os.path.join(os.path.dirname(config), value))


def sync_source(environ: Mapping[str, str]) -> str | None:
    """``sync-from``: a libpq URI as written, or a path made absolute as for ``database``."""
    found = lookup(environ, "sync-from")
    if found is None:
        return None
    value, path = found
    if is_remote(value):
        return value
    return file_path(environ, value, path)


def problems(environ: Mapping[str, str]) -> list[str]:
    """Every unreadable file and malformed line, one sentence each, for ``doctor``."""
    found: list[str] = []
    for path in files(environ):
        found.extend(read(path).problems)
    return found


def read(path: str) -> _File:
    """``path`` parsed (cached); a missing file has no values and no problems."""
    parsed = _cache.get(path)
    if parsed is None:
        parsed = _cache[path] = _parse(path)
    return parsed


def forget() -> None:
    """Drop what was read, so that a changed file is read again (long-lived callers, tests)."""
    _cache.clear()


def _parse(path: str) -> _File:
    parsed = _File(path)
    try:
        data = _read_bytes(path)
    except FileNotFoundError:
        return parsed
    except OSError as exc:
        from .fileaccess import Distrusted

        if not isinstance(exc, Distrusted):
            parsed.problems.append(f"cannot read {path}: {exc.strerror or exc}")
            return parsed
        # Another user could have chosen where our secrets go: the whole file is ignored.
        parsed.problems.append(f"ignoring {path}: {exc}")
        from .diag import warn

        warn(f"ignoring the config file {path}: {exc}")
        return parsed
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.split(b"\n"), 1):
        problem = _parse_line(parsed.values, raw)
        if problem:
            parsed.problems.append(f"{path} line {number}: {problem}; line skipped")
    return parsed


def _read_bytes(path: str) -> bytes:
    # os.open instead of open(): no buffered reader object, fewer syscalls on every lookup.
    # O_NONBLOCK: a FIFO put at this path must not hang a pull (it reads as empty instead).
    # O_NOFOLLOW: a symlink planted here would let its author choose the file (or make doctor
    # quote one this user may read but should not show).
    flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise  # the usual case on every lookup: no file here, and nothing more to import
    except OSError as exc:
        import errno  # only when the open failed otherwise: a lookup never needs it

        if exc.errno == errno.ELOOP:
            from .fileaccess import Distrusted

            raise Distrusted("it is a symbolic link, which is not followed") from None
        raise
    try:
        from . import fileaccess  # only once a config file exists: most lookups have none

        # One fstat for the file; the folders above it only once the file exists and passes.
        why = fileaccess.distrust(os.fstat(fd), "it") or fileaccess.distrusted_folder(path)
        if why:
            raise fileaccess.Distrusted(
                f"{why}; only this user or root may write it and its folders"
            )
        chunks = []
        size = 0
        while size < _MAX_BYTES:
            try:
                chunk = os.read(fd, _MAX_BYTES - size)
            except BlockingIOError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _parse_line(values: dict[str, str], raw: bytes) -> str | None:
    try:
        line = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return "not UTF-8 text"
    if not line or line.startswith("#"):
        return None
    key, equals, value = line.partition("=")
    key = key.strip().lower()
    value = value.strip()
    if not equals:
        return "expected 'key = value'"
    if key not in KEYS:
        return f"unknown key {key!r} (known: {', '.join(KEYS)})"
    if not value:
        return f"{key} has no value"
    accepted, described = _ALLOWED.get(key, (None, ""))
    if accepted and value.lower() not in accepted:
        return f"{key} must be {described}"  # never the value: the file may not be ours to show
    values[key] = value
    return None


def check_value(key: str, value: str) -> None:
    """Refuse what would not read back as this one line: an unknown key, a control character."""
    # Not an assert: `python -O` drops those, and a newline here writes a second setting.
    from .verberrors import UnsafeValue  # only writers of the config file check values

    if key not in KEYS:
        raise UnsafeValue(f"{key!r} is not a key of the config file")
    if any(not ch.isprintable() for ch in value) or value != value.strip():
        raise UnsafeValue(
            f"refusing to write {key} into the config file: its value has a control character "
            "or leading or trailing blanks, which would not read back as written"
        )


def set_value(path: str, key: str, value: str) -> None:
    """Set ``key = value`` in the config file at ``path``, atomically, keeping every other line."""
    from .verberrors import UnsafeValue

    check_value(key, value)
    try:
        text = _read_bytes(path).decode("utf-8", "surrogateescape")
        mode = os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        text, mode = "", 0o644  # no secret in it: readable, like other tools' config files
    except OSError as exc:
        from .fileaccess import Distrusted

        if not isinstance(exc, Distrusted):
            raise
        raise UnsafeValue(f"refusing to edit the config file {path}: {exc}") from None
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    kept: list[str] = []
    written = False
    for line in lines:
        name, equals, _ = line.strip().partition("=")
        if equals and not line.lstrip().startswith("#") and name.strip().lower() == key:
            if not written:
                kept.append(f"{key} = {value}")
                written = True
            continue  # an older duplicate would only confuse the next reader
        kept.append(line)
    if not written:
        kept.append(f"{key} = {value}")
    _replace(path, "".join(line + "\n" for line in kept), mode)
    forget()


def _replace(path: str, text: str, mode: int) -> None:
    import tempfile

    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o755, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config.", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
