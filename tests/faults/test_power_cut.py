"""A power cut, simulated by its precondition: the new file and its folder reach the disk in order.

After a power cut only what was fsynced is certain. The replica (and config.json) are replaced
by writing a new file, fsync(new), rename(new, old), fsync(folder): if the cut comes before the
rename, the old file is whole; after the folder's fsync, the new one is. strace records the
system calls of a real `sync` and `configure-docker`; the test checks their order.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import rawdb
from e2e.tools import unavailable

from .harness import HELPER, environment, login, run, tally

CALLS = "trace=fsync,fdatasync,rename,renameat,renameat2"


def _traced(args: list[str], env: dict[str, str], log: Path) -> list[str]:
    strace = shutil.which("strace")
    if strace is None:
        unavailable("strace not installed: apt-get install -y strace")
    proc = subprocess.run(
        [strace, "-f", "-y", "-qq", "-e", CALLS, "-o", str(log), str(HELPER), *args],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return [line for line in log.read_text().splitlines() if "= 0" in line]


def _order(calls: list[str], target: Path, temp_pattern: str) -> tuple[int, int, int]:
    """Where fsync(new), rename(new, target) and fsync(folder) are in ``calls``."""
    renames = [i for i, c in enumerate(calls) if "rename" in c and f'"{target}"' in c]
    assert len(renames) == 1, calls
    rename = renames[0]
    temp = re.search(r'rename\w*\((?:[^,"]+, )?"([^"]+)"', calls[rename])
    assert temp and re.search(temp_pattern, temp.group(1)), calls[rename]
    new_synced = [i for i, c in enumerate(calls) if "sync(" in c and f"<{temp.group(1)}>" in c]
    folder_synced = [i for i, c in enumerate(calls) if "fsync(" in c and f"<{target.parent}>)" in c]
    assert new_synced and folder_synced, calls
    return new_synced[-1], rename, folder_synced[-1]


def test_the_replica_is_fsynced_renamed_then_its_folder_fsynced(tmp_path: Path) -> None:
    counts = tally("power cut (strace order)")
    env = environment(tmp_path)
    dest = Path(env["READYSTACK_DB"])
    assert run(["store"], env, login("mine.example", "mine")).returncode == 0
    source = tmp_path / "source.db"
    rawdb.make(source)
    rawdb.insert(source, "S1", "shared", "https://shared.example")
    calls = _traced(["sync", "--from", str(source)], env, tmp_path / "sync.trace")
    new, rename, folder = _order(calls, dest, r"/\.registries\.db\..*\.sync$")
    assert new < rename < folder, calls
    counts["checks"] += 1


def test_config_json_is_fsynced_renamed_then_its_folder_fsynced(tmp_path: Path) -> None:
    counts = tally("power cut (strace order)")
    env = environment(tmp_path)
    add = ["registry", "add", "h", "--url", "https://h.example", "--username", "u"]
    assert run([*add, "--password-stdin"], env, b"pw\n").returncode == 0
    config = Path(env["DOCKER_CONFIG"]) / "config.json"
    calls = _traced(["configure-docker"], env, tmp_path / "config.trace")
    new, rename, folder = _order(calls, config, r"/\.config\.json\.")
    assert new < rename < folder, calls
    counts["checks"] += 1
