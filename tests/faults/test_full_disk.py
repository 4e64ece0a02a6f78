"""A full disk during a write: one clear line, exit 1, everything as it was; `get` still works.

A size-limited tmpfs that the test mounts (root only: skipped elsewhere, failing under CI=true)
holds the database, the replica and the Docker config; it is filled to the last byte, each
writer is run, and then, with space back, each writes again.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import rawdb
from e2e.tools import unavailable

from .harness import environment, get, integrity, login, logins, rows, run, tally

# What each writer's one line ends with: SQLite's words, or the system's.
FULL = (
    "database or disk is full",
    "No space left on device",
    "No space left on device; it was not changed",
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted for this test, unmounted after it."""
    if os.geteuid() != 0:
        unavailable("mounting a small tmpfs needs root (CI runs as root)")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], timeout=30, check=False)


def _fill(folder: Path) -> Path:
    """Fill the file system to its last byte; the filler file is returned, to free it later."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 512, 64, 1):  # big blocks, then the crumbs
            try:
                while os.write(fd, b"\0" * size):
                    pass
            except OSError:
                continue
    finally:
        os.close(fd)
    return filler


def _one_line(text: bytes) -> str:
    lines = text.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    return lines[0]


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.name != "filler"}


def test_every_writer_on_a_full_disk(small_disk: Path, tmp_path: Path) -> None:
    counts = tally("full disk (ENOSPC)")
    env = environment(small_disk)
    db = Path(env["READYSTACK_DB"])
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    assert run(["store"], env, login("ghcr.io", "kept")).returncode == 0
    add = ["registry", "add", "a1", "--url", "https://a1.example", "--username", "u"]
    assert run([*add, "--password-stdin"], env, b"pw\n").returncode == 0
    config.parent.mkdir(exist_ok=True)
    config.write_text(json.dumps({"auths": {}, "psFormat": "x"}) + "\n")
    # A SOURCE (on the ordinary disk) bigger than what will be left on the small one.
    source = tmp_path / "big.db"
    rawdb.make(source)
    for n in range(300):
        rawdb.insert(source, f"B{n}", f"big{n}", f"https://big{n}.example", "u", "x" * 900)
    filler = _fill(small_disk)
    before = _snapshot(small_disk)

    cases = {
        "store": (["store"], login("quay.io", "new"), "stdout"),
        "registry add": ([*add[:2], "a2", "--url", "https://a2.example", "--password-stdin"],
                         b"pw\n", "stderr"),
        "sync": (["sync", "--from", str(source)], b"", "stderr"),
        "configure-docker": (["configure-docker"], b"", "stderr"),
    }  # fmt: skip
    for name, (args, stdin, stream) in cases.items():
        proc = run(args, env, stdin)
        counts["ENOSPC cases"] += 1
        assert proc.returncode == 1, (name, proc)
        line = _one_line(getattr(proc, stream))
        assert line.endswith(FULL), (name, line)
        counts[f"{name}: one line, exit 1"] += 1
        assert _snapshot(small_disk) == before, name  # everything as it was, no file left
        integrity(db)
        assert get(env, "ghcr.io") == {"ServerURL": "ghcr.io", "Username": "me", "Secret": "kept"}
        counts["checks"] += 4
        print(f"full disk, {name}: {line}")

    filler.unlink()  # space is back: every write succeeds
    assert run(["store"], env, login("quay.io", "new")).returncode == 0
    assert run(cases["registry add"][0], env, b"pw\n").returncode == 0
    synced = run(["sync", "--from", str(source)], env)
    assert synced.returncode == 0, synced.stderr
    assert run(["configure-docker"], env).returncode == 0
    assert logins(db) == {"https://ghcr.io": "kept", "https://quay.io": "new"}
    assert len(rows(db)) == 302
    assert "big0.example" in json.loads(config.read_text())["credHelpers"]
    counts["checks"] += 4
