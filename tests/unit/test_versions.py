"""`version --verbose`: one line per library, and where each was loaded from."""

from __future__ import annotations

import sqlite3
import sys

import pytest
from readystack.helper import __version__
from readystack.helper.manage import versions


def test_the_first_line_is_the_version_line_and_sqlite_is_the_one_in_use() -> None:
    lines = versions.report().splitlines()
    assert lines[0] == f"docker-credential-readystack (docker-credential-readystack) {__version__}"
    assert lines[2].startswith(f"SQLite {sqlite3.sqlite_version} (")


def test_a_library_inside_the_bundle_is_marked_bundled(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    lib = next(p for p in versions._mapped() if os.path.basename(p).startswith("libsqlite3"))
    monkeypatch.setattr(sys, "_MEIPASS", os.path.dirname(lib), raising=False)
    assert versions._where("libsqlite3") == f"bundled: {lib}"
    monkeypatch.setattr(sys, "_MEIPASS", "/nowhere", raising=False)
    assert versions._where("libsqlite3") == lib


def test_a_library_not_mapped_is_reported_as_built_in() -> None:
    assert versions._where("libnothing-such") == "statically linked"
