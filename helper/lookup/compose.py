"""docker compose v2's images, learnt once per compose process by running its own `config`."""

from __future__ import annotations

import os
import time

from readystack.store import runtime
from readystack.store.diag import debug
from readystack.store.errors import Internal

TYPE_CHECKING = False  # collections.abc serves annotations only: a lookup never imports it
if TYPE_CHECKING:
    from collections.abc import Callable

    from .composeargv import Command

NAME = "docker-compose"  # the Go binary's name, as plugin and standalone alike
TIMEOUT = 5.0  # for the one `config` run
# Helpers started together wait this long for the run another one is making: its own timeout
# plus the time to start it under load. Every wait ends.
WAIT = TIMEOUT + 2.0
# How often a waiting helper looks whether the run ended. The 8 helpers of one pull all wait for
# it, and every millisecond of waiting delays every pull, while a look costs a few microseconds:
# every millisecond while a run takes as long as one does (30-60 ms alone, a few times that on a
# busy machine), then every 10 ms, so that a run that hangs until its timeout costs little.
_POLL = 0.001
_POLL_LATER = (0.3, 0.01)  # after this many seconds of waiting, this often
_RESULT_MAX = 1 << 20
# What `config` may print: far beyond any project (64 MiB); more is read as uncertain.
_OUTPUT_MAX = 64 << 20
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
    # PID and start time (in clock ticks) name one process for as long as the machine runs. Its
    # command line and environment never change, so the helper that makes the result reads them
    # once for all: the others, started together, only wait for it and read what it stored.
    key = f"compose-{pid}-{_start_time(pid)}"
    services = _cached(key, lambda: _learn(argv, exe, pid))
    return [image for image in services.values() if image]


def _learn(argv: list[str], exe: str, pid: int) -> bytes:
    """What the compose process pulls, to store: its services' images, or why they are unknown."""
    from . import composeargv  # only the helper making the result parses the command line

    try:
        environ = _environ(pid)
        # plugin.RunningStandalone(): compose itself tells the two modes apart by this variable.
        plugin = "DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND" in environ
        command = composeargv.read(argv, plugin)
        if command is None:
            raise Unknown("the compose command line is not one whose images are certain")
        found = _run_config(exe, command, pid, environ)
        if not (command.named_only and command.services):
            return found
        services = _decode(found)
        if any(s not in services for s in command.services):
            raise Unknown("a service named on the command line is not in the project")
        return _encode({s: services[s] for s in command.services})
    except Unknown as exc:
        # Kept like a result, so that the helpers waiting for it learn the same and need not
        # read the command line again.
        return _failure(str(exc))


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
    """A descriptor of this user's private runtime folder (store/runtime.py); or Unknown."""
    try:
        return runtime.private_dir(environ)
    except runtime.NotPrivate as exc:
        raise Unknown(str(exc)) from None


def _cached(key: str, make: Callable[[], bytes]) -> dict[str, str | None]:
    """The result stored under ``key``, made by ``make`` once while the others wait for it."""
    folder = runtime_dir()
    try:
        found = _read_result(folder, key)
        if found is None:
            found = _made(folder, key, make)
        return _decode(found)
    finally:
        os.close(folder)


def _made(folder: int, key: str, make: Callable[[], bytes]) -> bytes:
    """Make the result under the lock, or wait for the helper holding it and read its result."""
    import fcntl

    try:
        lock = os.open(
            key + ".lock",
            os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
            dir_fd=folder,
        )
    except OSError as exc:
        raise Unknown(f"cannot open the compose lock: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                found = _read_result(folder, key)  # made while this one was starting
                if found is None:
                    found = make()
                    _write_result(folder, key, found)
                    _sweep(folder)
                return found
            # Another helper makes it: a shared lock is granted to every waiter at once when it
            # lets go, and the result is stored by then.
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    _pause(deadline)
            found = _read_result(folder, key)
            if found is not None:
                return found
            # It ended without storing one (it was killed): make it here.
            fcntl.flock(lock, fcntl.LOCK_UN)
            _pause(deadline)
    except OSError as exc:
        raise Unknown(f"cannot keep the compose result: {exc.strerror}") from None
    finally:
        os.close(lock)  # releases the lock


def _pause(deadline: float) -> None:
    left = deadline - time.monotonic()
    if left < 0:
        raise Unknown("another helper's compose config run did not end")
    time.sleep(_POLL if WAIT - left < _POLL_LATER[0] else _POLL_LATER[1])


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
    command: Command,
    pid: int,
    environ: dict[str, str],
    executable: str | None = None,
) -> bytes:
    """Run `config --format json` as the parent would; the result to store, failures included."""
    env = dict(environ)
    env.pop("DOCKER_CLI_PLUGIN_SOCKET", None)  # the CLI's socket is the parent's, not ours
    # Go's collector runs a few times while compose loads; at GOGC=400 it hardly does, which
    # saves a quarter of the run (about 10 of 40 ms of CPU here), and the heap stays bounded.
    # It changes nothing compose prints; a GOGC the user set is kept.
    env.setdefault("GOGC", "400")
    args = [exe, *command.prefix, "config", "--format", "json", *command.services]
    debug(f"image hint: running compose config ({len(args)} words) in the parent's folder")
    try:
        # The very file the parent runs (/proc/PID/exe, even if its path was replaced since),
        # in its own session, so that a timeout ends everything it started, pipes included.
        run = _spawn(args, executable or f"/proc/{pid}/exe", _readlink(f"/proc/{pid}/cwd"), env)
    except OSError as exc:
        return _failure(f"compose config did not start: {exc.strerror}")
    try:
        status, stdout = _output(run, time.monotonic() + TIMEOUT)
    finally:
        os.close(run[1])
    if status is None:
        return _failure(f"compose config took more than {TIMEOUT:g} s")
    if stdout is None:
        return _failure("compose config printed more than a project")
    if status != 0:
        return _failure(f"compose config failed (exit {status})")
    from readystack.store.jsonread import BadJSON, read_json

    try:
        project = read_json(stdout)
        services = {
            name: (service or {}).get("image") for name, service in project["services"].items()
        }
    except (BadJSON, KeyError, TypeError, AttributeError):
        return _failure("compose config printed no project")
    return _encode(services)


def _spawn(args: list[str], executable: str, cwd: str, env: dict[str, str]) -> tuple[int, int]:
    """Start ``args`` in ``cwd``, in a session of its own; its PID and its stdout's read end."""
    # posix_spawn rather than subprocess: importing subprocess alone costs the helper that runs
    # compose 19 M instructions, on the path every helper of the pull waits for. posix_spawn has
    # no working folder of its own, so this process steps into it for the spawn and back.
    here = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    read_end, write_end = os.pipe()  # both close on exec; the child gets a copy as stdout
    try:
        os.chdir(cwd)
        try:
            pid = os.posix_spawn(
                executable, args, env, setsid=True,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, write_end, 1),
                    (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
                ],
            )  # fmt: skip
        finally:
            os.fchdir(here)
    except OSError:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
        os.close(here)
    return pid, read_end


def _output(run: tuple[int, int], deadline: float) -> tuple[int | None, bytes | None]:
    """The exit status and stdout of ``run``; (None, None) once it outlives the deadline."""
    import select

    pid, read_end = run
    poller = select.poll()
    poller.register(read_end, select.POLLIN)
    chunks: list[bytes] = []
    size = 0
    while size <= _OUTPUT_MAX:
        left = deadline - time.monotonic()
        if left <= 0 or not poller.poll(left * 1000):
            return _kill(pid), None
        chunk = os.read(read_end, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    else:
        _kill(pid)
        return -1, None
    # Its stdout is closed: it is ending.
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status), b"".join(chunks)
        if time.monotonic() > deadline:
            return _kill(pid), None
        time.sleep(_POLL)


def _kill(pid: int) -> None:
    """End the run and everything it started (its session's process group), and reap it."""
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


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
