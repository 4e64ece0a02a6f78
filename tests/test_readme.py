"""README's first hour: commands that run as written, in the order a new user meets them."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def section(title: str) -> str:
    """The text of the `## title` section, up to the next `## `."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_the_readystackgo_host_commands_run_as_root_without_sudo() -> None:
    host = section("On a ReadyStackGo host")
    assert "sudo" not in host
    assert "They run as root" in host
    assert "\napt-get install ./dist/docker-credential-readystack_0.1.0_amd64.deb\n" in host
    assert "\ndocker-credential-readystack configure-docker --readystackgo\n" in host


def test_the_build_comes_before_the_archive_it_makes() -> None:
    install = section("Install")
    build = install.index("`packaging/build.sh` builds")
    assert build < install.index("**Release archive**") < install.index("--archive dist/")
    assert build < install.index("**Debian package**")


def test_path_is_set_once_after_command_one() -> None:
    head = README.split("\n## ", 1)[0]
    assert README.count('export PATH="$PWD/.venv/bin:$PATH"') == 1
    assert 'after command 1, run\n`export PATH="$PWD/.venv/bin:$PATH"` once' in head


def test_the_binary_tests_and_the_full_ci_run_are_documented() -> None:
    development = section("Development")
    assert "`READYSTACK_HELPER_EXE`" in development and "`READYSTACK_DEB`" in development
    blocks = re.findall(r"```sh\n(.*?)```", development, re.S)
    assert "CI=true bash .ci/run\n" in blocks
    second_pass = next(b for b in blocks if "READYSTACK_DEB=" in b)
    assert second_pass.strip().endswith("-m pytest tests/process tests/e2e tests/packaging")
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pytest tests/process tests/e2e tests/packaging" in ci
