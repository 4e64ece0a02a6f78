"""The suite tests this checkout: the imported package is the checkout's code, byte for byte.

Under `pip install -e` the package is the checkout itself; under the regular install that
README's two commands make, it is a copy, and an edit made since the install would otherwise go
untested without a word. Reinstall (`.venv/bin/pip install '.[test]'`) or work editable
(`.venv/bin/pip install -e '.[test]'`, README "Development").
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"helper": "readystack.helper", "store": "readystack.store"}


def _installed_folder(package: str) -> Path:
    return Path(importlib.import_module(package).__file__ or "").parent


@pytest.mark.parametrize("folder", sorted(PACKAGES))
def test_every_module_the_suite_imports_is_the_checkouts(folder: str) -> None:
    installed = _installed_folder(PACKAGES[folder])
    source = ROOT / folder
    ours = {p.relative_to(source) for p in source.rglob("*.py")}
    theirs = {p.relative_to(installed) for p in installed.rglob("*.py")}
    assert ours == theirs, f"{installed} has other modules than {source}: reinstall"
    stale = [
        str(p) for p in sorted(ours) if (source / p).read_bytes() != (installed / p).read_bytes()
    ]
    assert not stale, f"{installed} is older than the checkout for {stale}: reinstall"
