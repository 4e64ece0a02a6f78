"""The sync service and timer the .deb installs: valid units that run `sync` from the config."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert service["Service"]["ExecStart"] == "/usr/bin/docker-credential-readystack sync"
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
        pytest.skip("systemd-analyze not installed (package systemd)")
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
