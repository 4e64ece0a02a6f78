"""docker compose v2's images, learnt once per compose process by running its own `config`."""

from __future__ import annotations

import os
import stat
import time

from readystack.store.diag import debug
from readystack.store.errors import Internal

from . import composeargv

TYPE_CHECKING = False  # collections.abc serves annotations only: a lookup never imports it
if TYPE_CHECKING:
    from collections.abc import Callable

NAME = "docker-compose"  # the Go binary's name, as plugin and standalone alike
TIMEOUT = 5.0  # for the one `config` run
# Helpers started together wait this long for the run another one is making: its own timeout
# plus the time to start it under load. Every wait ends.
WAIT = TIMEOUT + 2.0
_POLL = 0.01
_RESULT_MAX = 1 << 20
# compose ranges over every service; a project with more images than this is read as uncertain.
_IMAGES_MAX = 4096


class Unknown(Internal):
    """The project's images cannot be known with certainty: the host ranking decides."""


def images(argv: list[str], pid: int | None = None) -> list[str]:
    """The images the compose process ``pid`` (the parent) pulls for its command line ``argv``."""
    pid = os.getppid() if pid is None else pid
    exe = _readlink(f"/proc/{pid}/exe")
    # The release asset is often linked under its own name (docker-compose-linux-x86_64).
    # Compose v1 is a Python script: its process is the interpreter, never this binary. (v1's
    # old frozen binaries would pass here, but have no `config --format json`: their run fails
    # and the host ranking decides.)
    if not os.path.basename(exe).startswith(NAME) or exe.endswith(" (deleted)"):
        raise Unknown("the parent is not the docker compose v2 binary")
    environ = _environ(pid)
    # plugin.RunningStandalone(): compose itself tells the two modes apart by this variable.
    plugin = "DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND" in environ
    command = composeargv.read(argv, plugin)
    if command is None:
        raise Unknown("the compose command line is not one whose images are certain")
    # PID and start time (in clock ticks) name one process for as long as the machine runs.
    key = f"compose-{pid}-{_start_time(pid)}"
    services = _cached(key, lambda: _run_config(exe, command, pid, environ))
    if command.named_only and command.services:
        missing = [s for s in command.services if s not in services]
        if missing:
            raise Unknown("a service named on the command line is not in the project")
        services = {s: services[s] for s in command.services}
    return [image for image in services.values() if image]


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError as exc:
        raise Unknown(f"cannot read {path}: {exc.strerror}") from None


def _environ(pid: int) -> dict[str, str]:
    """The parent's environment as it was started (compose sets nothing it needs later)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as file:
            data = file.read(_RESULT_MAX + 1)
    except OSError as exc:
        raise Unknown(f"cannot read the parent's environment: {exc.strerror}") from None
    if len(data) > _RESULT_MAX:
        raise Unknown("the parent's environment is too large")
    environ = {}
    for entry in data.split(b"\0"):
        name, equals, value = entry.partition(b"=")
        if equals and name:
            environ[os.fsdecode(name)] = os.fsdecode(value)
    return environ


def _start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat: with the PID, it names one process for the machine's uptime."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            data = file.read(4096)
    except OSError as exc:
        raise Unknown(f"cannot read the parent's start time: {exc.strerror}") from None
    fields = data.rpartition(b")")[2].split()
    if len(fields) < 20 or not fields[19].isdigit():
        raise Unknown("the parent's start time is unreadable")
    return fields[19].decode()


def runtime_dir(environ: dict[str, str] | os._Environ[str] = os.environ) -> int:
    """A descriptor of this user's private runtime folder (0700, owned, no symlink); or Unknown."""
    base = environ.get("XDG_RUNTIME_DIR", "")
    if base.startswith("/"):
        path = os.path.join(base, "readystack")
    else:
        path = os.path.join("/tmp", f"readystack-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise Unknown(f"cannot make the runtime folder {path}: {exc.strerror}") from None
    try:
        # O_NOFOLLOW: a symlink planted by another user under /tmp is refused, never followed.
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        raise Unknown(f"cannot open the runtime folder {path}: {exc.strerror}") from None
    info = os.fstat(fd)
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        os.close(fd)
        raise Unknown(f"the runtime folder {path} is not private to this user")
    return fd


def _cached(key: str, run: Callable[[], bytes]) -> dict[str, str | None]:
    """The result stored under ``key``, made by ``run`` once while the others wait for it."""
    import fcntl

    folder = runtime_dir()
    try:
        found = _read_result(folder, key)
        if found is not None:
            return _decode(found)
        lock = os.open(
            key + ".lock",
            os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
            dir_fd=folder,
        )
        try:
            deadline = time.monotonic() + WAIT
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise Unknown("another helper's compose config run did not end") from None
                    time.sleep(_POLL)
            found = _read_result(folder, key)
            if found is None:
                found = run()
                _write_result(folder, key, found)
                _sweep(folder)
        finally:
            os.close(lock)  # releases the lock
        return _decode(found)
    finally:
        os.close(folder)


def _read_result(folder: int, key: str) -> bytes | None:
    try:
        fd = os.open(key + ".images", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unknown(f"cannot read the compose result: {exc.strerror}") from None
    try:
        if os.fstat(fd).st_uid != os.getuid():
            raise Unknown("the compose result belongs to another user")
        return os.read(fd, _RESULT_MAX)
    finally:
        os.close(fd)


def _write_result(folder: int, key: str, data: bytes) -> None:
    """All or nothing: a temporary file renamed over the name, so no reader sees half of it."""
    tmp = f"{key}.{os.getpid()}.tmp"
    fd = os.open(
        tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
        dir_fd=folder,
    )  # fmt: skip
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, key + ".images", src_dir_fd=folder, dst_dir_fd=folder)


def _sweep(folder: int) -> None:
    """Remove what compose processes that have ended left behind (their PID is gone)."""
    for name in os.listdir(folder):
        parts = name.split("-")
        if len(parts) < 3 or parts[0] != "compose" or not parts[1].isdigit():
            continue
        if not os.path.exists(f"/proc/{parts[1]}"):
            try:
                os.unlink(name, dir_fd=folder)
            except OSError:
                pass  # another helper removed it first


def _run_config(
    exe: str,
    command: composeargv.Command,
    pid: int,
    environ: dict[str, str],
    executable: str | None = None,
) -> bytes:
    """Run `config --format json` as the parent would; the result to store, failures included."""
    import subprocess

    from readystack.store.jsonread import BadJSON, read_json

    cwd = _readlink(f"/proc/{pid}/cwd")
    env = dict(environ)
    env.pop("DOCKER_CLI_PLUGIN_SOCKET", None)  # the CLI's socket is the parent's, not ours
    args = [exe, *command.prefix, "config", "--format", "json", *command.services]
    debug(f"image hint: running compose config ({len(args)} words) in the parent's folder")
    try:
        # The very file the parent runs (/proc/PID/exe, even if its path was replaced since),
        # in its own session, so that a timeout ends everything it started, pipes included.
        proc = subprocess.Popen(
            args, executable=executable or f"/proc/{pid}/exe", cwd=cwd, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
    except OSError as exc:
        return _failure(f"compose config did not start: {exc.strerror}")
    try:
        stdout, _ = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        import signal

        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return _failure(f"compose config took more than {TIMEOUT:g} s")
    if proc.returncode != 0:
        return _failure(f"compose config failed (exit {proc.returncode})")
    try:
        project = read_json(stdout)
        services = {
            name: (service or {}).get("image") for name, service in project["services"].items()
        }
    except (BadJSON, KeyError, TypeError, AttributeError):
        return _failure("compose config printed no project")
    return _encode(services)


# The stored result is lines of text, so that the helpers that only read it need no json: `ok`,
# then `SERVICE<TAB>IMAGE` per service (an empty IMAGE for a build-only service); or
# `error<TAB>WHY`.
_TAB, _NL = "\t", "\n"


def _failure(why: str) -> bytes:
    return f"error{_TAB}{why}{_NL}".encode()


def _encode(services: dict[str, object]) -> bytes:
    lines = ["ok"]
    for name, image in services.items():
        if image is not None and not isinstance(image, str):
            return _failure("a service's image is not a string")
        text = f"{name}{_TAB}{image or ''}"
        if text.count(_TAB) != 1 or _NL in text or "\0" in text:
            return _failure("a service's name or image holds a tab or a line break")
        lines.append(text)
    if len(lines) > _IMAGES_MAX:
        return _failure("the project has too many services")
    return (_NL.join(lines) + _NL).encode()


def _decode(data: bytes) -> dict[str, str | None]:
    try:
        lines = data.decode().split(_NL)
    except UnicodeDecodeError:
        raise Unknown("the stored compose result is unreadable") from None
    if not lines or lines[-1] != "":
        raise Unknown("the stored compose result is incomplete")
    head, rest = lines[0], lines[1:-1]
    if head.startswith("error" + _TAB):
        raise Unknown(head.partition(_TAB)[2])
    if head != "ok" or any(line.count(_TAB) != 1 for line in rest):
        raise Unknown("the stored compose result is unreadable")
    return {name: image or None for name, _, image in (line.partition(_TAB) for line in rest)}
