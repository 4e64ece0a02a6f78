"""The Secret Service lock: private, released, and a wait that always ends (no timing asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from readystack.store import diag, keyringlock


@pytest.fixture
def debugged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    said: list[str] = []
    monkeypatch.setattr(keyringlock, "debug", said.append)
    return said


# Another process holding the lock: POSIX record locks belong to a process, so this one's own
# second lockf would succeed and prove nothing.
HOLDER = (
    "import os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600); "
    "os.lockf(fd, os.F_LOCK, 0); print('held', flush=True); sys.stdin.read()"
)


@pytest.fixture
def held_elsewhere(runtime: Path) -> Iterator[subprocess.Popen[str]]:
    runtime.mkdir(mode=0o700)
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(runtime / keyringlock.NAME)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    try:
        yield proc
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # ends it
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()


class Clock:
    """time.monotonic and time.sleep for keyringlock: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += 1
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    # keyringlock's own name for the module only: pytest and subprocess keep the real clock.
    monkeypatch.setattr(
        keyringlock, "time", SimpleNamespace(monotonic=fake.monotonic, sleep=fake.sleep)
    )
    return fake


def test_a_free_lock_is_taken_in_a_private_folder_and_file(runtime: Path) -> None:
    with keyringlock.Held() as held:
        assert held is True
        assert runtime.stat().st_mode & 0o777 == 0o700
        assert (runtime / keyringlock.NAME).stat().st_mode & 0o777 == 0o600


def test_the_lock_is_released_when_the_read_ends(runtime: Path) -> None:
    with keyringlock.Held():
        pass
    # Another process can take it at once (F_TLOCK would fail while this one held it).
    probe = "import os, sys; fd = os.open(sys.argv[1], os.O_RDWR); os.lockf(fd, os.F_TLOCK, 0)"
    subprocess.run([sys.executable, "-c", probe, str(runtime / keyringlock.NAME)], check=True)


def test_a_held_lock_is_waited_for_a_bounded_time_then_the_read_goes_ahead(
    held_elsewhere: subprocess.Popen[str], clock: Clock, debugged: list[str]
) -> None:
    start = clock.now
    with keyringlock.Held() as held:
        assert held is False
    assert keyringlock.WAIT <= clock.now - start < keyringlock.WAIT + 0.1
    assert clock.slept >= keyringlock.WAIT / 0.1  # it tried again and again meanwhile
    assert debugged == [
        f"Secret Service read without the lock: another helper held it for over "
        f"{keyringlock.WAIT:g} s"
    ]


def test_a_lock_let_go_during_the_wait_is_taken(
    held_elsewhere: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch, debugged: list[str]
) -> None:
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:  # the other helper's read ends
            assert held_elsewhere.stdin is not None
            held_elsewhere.stdin.close()
            held_elsewhere.wait(timeout=30)

    monkeypatch.setattr(keyringlock, "time", SimpleNamespace(monotonic=time.monotonic, sleep=sleep))
    with keyringlock.Held() as held:
        assert held is True
    assert len(sleeps) == 3 and debugged == []


def test_a_runtime_folder_others_can_read_means_no_lock_and_no_wait(
    runtime: Path, clock: Clock, debugged: list[str]
) -> None:
    runtime.mkdir(mode=0o755)
    runtime.chmod(0o755)
    with keyringlock.Held() as held:
        assert held is False
    assert clock.slept == 0 and not (runtime / keyringlock.NAME).exists()
    assert debugged == [
        f"Secret Service read without the lock: the runtime folder {runtime} is not private "
        "to this user"
    ]


def test_a_symlink_as_the_lock_file_is_not_followed(
    runtime: Path, tmp_path: Path, debugged: list[str]
) -> None:
    runtime.mkdir(mode=0o700)
    target = tmp_path / "elsewhere"
    (runtime / keyringlock.NAME).symlink_to(target)
    with keyringlock.Held() as held:
        assert held is False
    assert not target.exists()
    assert debugged and "cannot open secretservice.lock" in debugged[0]


def test_without_an_xdg_runtime_dir_the_folder_is_under_tmp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    with keyringlock.Held() as held:
        assert held is True
    assert Path(f"/tmp/readystack-{os.getuid()}", keyringlock.NAME).exists()


def test_the_debug_line_reaches_the_debug_log(
    held_elsewhere: subprocess.Popen[str], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines: list[str] = []
    monkeypatch.setattr(diag, "DEBUG", True)
    monkeypatch.setattr(diag, "_emit", lambda line: lines.append(line) or False)
    with keyringlock.Held(wait=0.5):
        pass
    assert lines == [
        "docker-credential-readystack: debug: Secret Service read without the lock: another "
        "helper held it for over 0.5 s"
    ]
