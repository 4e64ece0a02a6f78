"""`get`s of keyring rows at once, and a locked keyring whose prompt never appears (gnome-keyring).

gnome-keyring 42.1 aborts now and then under concurrent clients (store/keyringlock.py), so our
helpers read one at a time under a lock; and keyring's read, which waits for an unlock prompt
without a timeout, ends at secrets.READ_DEADLINE (shortened here by its test-only knob).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from readystack.store import keyringlock, secrets

from .sandbox import Sandbox, output
from .secretservice import SecretService
from .test_keyring_fastpath import HELPER, HOST, LABEL, _add

pytestmark = pytest.mark.e2e

PROCESSES, GETS = 4, 25  # 100 gets through the executable, 4 at a time: ~10 s under load


def _log_since(bus: SecretService, offset: int) -> str:
    with bus.log.open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def test_gets_at_once_are_all_answered_by_the_same_gnome_keyring(
    sandbox: Sandbox, bus: SecretService
) -> None:
    _add(sandbox, "kr", f"http://{HOST}", "s3cret")
    assert bus.keyring is not None
    pid, logged = bus.owner_pid(), bus.log.stat().st_size
    (sandbox.root / "host").write_text(HOST)
    loop = f"for i in $(seq {GETS}); do {HELPER} get < host || echo FAILED; echo; done"
    env = {**sandbox.env, "READYSTACK_LOG": "debug"}
    procs = [
        subprocess.Popen(
            ["sh", "-c", loop],
            cwd=sandbox.root,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(PROCESSES)
    ]
    answers, debug = [], ""
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        answers += [json.loads(line) if line.startswith("{") else line for line in out.split()]
        debug += err
    expected = {"ServerURL": HOST, "Username": "alice", "Secret": "s3cret"}
    assert answers == [expected] * (PROCESSES * GETS)
    assert "without the lock" not in debug  # every get held it
    assert bus.keyring.poll() is None and bus.owner_pid() == pid
    said = _log_since(bus, logged)
    assert "CRITICAL" not in said and "Activating service" not in said, said
    lock = Path(sandbox.env["XDG_RUNTIME_DIR"], "readystack", keyringlock.NAME)
    assert lock.stat().st_mode & 0o777 == 0o600


# Holds the helpers' lock in another process until its stdin closes.
HOLDER = (
    "import os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600); "
    "os.lockf(fd, os.F_LOCK, 0); print('held', flush=True); sys.stdin.read()"
)


def test_a_get_waits_for_the_lock_a_bounded_time_then_reads(
    sandbox: Sandbox, bus: SecretService
) -> None:
    """The executable takes the lock the others hold; held too long, it reads anyway."""
    _add(sandbox, "kr", f"http://{HOST}", "s3cret")
    folder = Path(sandbox.env["XDG_RUNTIME_DIR"], "readystack")
    folder.mkdir(mode=0o700, exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder / keyringlock.NAME)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        start = time.monotonic()
        proc = sandbox.run([HELPER, "get"], stdin=HOST, env={"READYSTACK_LOG": "debug"})
        waited = time.monotonic() - start
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
    assert proc.returncode == 0, output(proc)
    assert json.loads(proc.stdout)["Secret"] == "s3cret"
    assert waited >= keyringlock.WAIT
    assert (
        f"{HELPER}: debug: Secret Service read without the lock: another helper held it for "
        f"over {keyringlock.WAIT:g} s\n"
    ) in proc.stderr


@pytest.fixture
def locked(sandbox: Sandbox, bus: SecretService) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """A keyring row 'kr' in a locked collection, whose unlock prompt is accepted by a prompter
    that never shows it (silentprompter.py): (the row's Id, the prompter)."""
    import secretstorage

    row_id = _add(sandbox, "kr", f"http://{HOST}", "s3cret")
    prompter = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("silentprompter.py"))],
        stdout=subprocess.PIPE, text=True, env={**os.environ, **bus.env},
    )  # fmt: skip
    try:
        assert prompter.stdout is not None and prompter.stdout.readline() == "ready\n"
        with closing(secretstorage.dbus_init()) as conn:
            secretstorage.get_default_collection(conn).lock()
        yield row_id, prompter
    finally:
        prompter.kill()
        prompter.wait(timeout=30)
        assert prompter.stdout is not None
        prompter.stdout.close()


DEADLINE = 2.0  # the knob's value: READ_DEADLINE (45 s) would make the test slow


def _said(seconds: float) -> str:
    return (
        f"the keyring did not answer in {seconds:g} s (a locked keyring waiting for a password "
        "prompt that no one answers, or a Secret Service that hangs); the secret is only in that "
        "keyring: run this where its Secret Service answers (the D-Bus session of the user who "
        "stored it)"
    )


def test_a_prompt_that_never_appears_ends_at_the_deadline(
    locked: tuple[str, subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    row_id, prompter = locked
    monkeypatch.setenv(secrets.DEADLINE_KNOB, f"{DEADLINE:g}")
    start = time.monotonic()
    with pytest.raises(secrets.SecretStoreError) as caught:
        secrets.get(LABEL, row_id, HOST)
    assert time.monotonic() - start >= DEADLINE
    assert str(caught.value) == _said(DEADLINE)
    assert prompter.stdout is not None
    assert prompter.stdout.readline() == "BeginPrompting\n"  # the prompt was under way


def test_the_helper_ends_a_prompt_that_never_appears_with_one_line(
    sandbox: Sandbox, locked: tuple[str, subprocess.Popen[str]]
) -> None:
    if os.environ.get("READYSTACK_HELPER_EXE"):
        pytest.skip("the binary ignores test-only knobs: it would wait the full READ_DEADLINE")
    proc = sandbox.run(
        [HELPER, "get"], stdin=HOST, env={secrets.DEADLINE_KNOB: f"{DEADLINE:g}"}, timeout=30
    )
    assert (proc.returncode, proc.stdout) == (1, "credentials not found in native keychain\n")
    assert proc.stderr == f"{HELPER}: skipping registry 'kr': {_said(DEADLINE)}\n"
    prompter = locked[1]
    assert prompter.stdout is not None
    assert prompter.stdout.readline() == "BeginPrompting\n"
