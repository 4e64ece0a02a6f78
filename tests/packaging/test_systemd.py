"""The sync service and timer the .deb installs: valid units that run `sync` from the config."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from e2e.tools import unavailable

UNITS = Path(__file__).resolve().parents[2] / "packaging" / "systemd"
SERVICE = UNITS / "docker-credential-readystack-sync.service"
TIMER = UNITS / "docker-credential-readystack-sync.timer"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_the_service_runs_sync_with_the_source_from_the_config_file() -> None:
    service = _unit(SERVICE)
    assert service["Service"]["Type"] == "oneshot"
    # No --from: the source is `sync-from` in the config file, so no URI sits in the unit.
    assert (
        service["Service"]["ExecStart"] == "/usr/bin/docker-credential-readystack sync --timeout 30"
    )
    assert service["Service"]["UMask"] == "0077"
    assert "network-online.target" in service["Unit"]["After"]


def test_the_timer_repeats_and_is_installed_disabled() -> None:
    timer = _unit(TIMER)
    assert timer["Timer"]["OnUnitActiveSec"] and timer["Timer"]["OnBootSec"]
    assert timer["Install"]["WantedBy"] == "timers.target"
    assert "Install" not in _unit(SERVICE)  # only the timer is ever enabled


def test_systemd_accepts_both_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        unavailable("systemd-analyze not installed: apt-get install -y systemd")
    helper = os.environ.get("READYSTACK_HELPER_EXE") or str(
        Path(sys.executable).parent / "docker-credential-readystack"
    )
    # The same units, with ExecStart pointing at the helper under test (not installed in /usr/bin).
    for unit in (SERVICE, TIMER):
        text = unit.read_text().replace("/usr/bin/docker-credential-readystack", helper)
        (tmp_path / unit.name).write_text(text)
    proc = subprocess.run(
        [analyze, "verify", str(tmp_path / SERVICE.name), str(tmp_path / TIMER.name)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr


def test_a_stalled_round_ends_before_the_unit_is_killed() -> None:
    """TimeoutStartSec is above --timeout (DESIGN.md, "Every wait ends")."""
    service = _unit(SERVICE)["Service"]
    timeout = float(service["ExecStart"].split("--timeout", 1)[1].split()[0])
    assert float(service["TimeoutStartSec"]) > 4 * timeout


def test_the_service_is_hardened(tmp_path: Path) -> None:
    """`systemd-analyze security`: 9.1 UNSAFE before this hardening; now at most 3.0."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        unavailable("systemd-analyze not installed: apt-get install -y systemd")
    proc = subprocess.run(
        [analyze, "security", "--offline=true", str(SERVICE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout)
    assert found, proc.stdout + proc.stderr
    print(f"systemd-analyze security: {found.group(1)}")
    assert float(found.group(1)) <= 3.0, proc.stdout
    service = _unit(SERVICE)["Service"]
    assert service["ProtectSystem"] == "strict" and service["PrivateDevices"] == "yes"
    assert service["RestrictAddressFamilies"] == "AF_UNIX AF_INET AF_INET6"
