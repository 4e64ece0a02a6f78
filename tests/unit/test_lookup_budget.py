"""The lookup path's import budget, checked where code is written: statically, per module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from readystack.helper.lookup.importbudget import denied_among

LOOKUP = Path(__file__).resolve().parents[2] / "helper" / "lookup"
# Lookup modules that `get` never imports: the kubelet answers its own verb (it reads a JSON
# request and takes options), and importbudget is the list itself. Their imports are checked by
# tests/process/test_imports.py for the verbs that run them.
NOT_ON_GET = {"kubelet.py", "importbudget.py"}


def module_level_imports(tree: ast.Module) -> list[str]:
    """Absolute modules imported when the module loads: its body, not function bodies."""
    found: list[str] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.append(node.module)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue  # annotations only: never imported at run time
        elif isinstance(node, ast.If | ast.Try | ast.With):
            for field in ("body", "orelse", "handlers", "finalbody"):
                for child in getattr(node, field, []):
                    todo += child.body if isinstance(child, ast.ExceptHandler) else [child]
    return found


@pytest.mark.parametrize(
    "path", sorted(p for p in LOOKUP.glob("*.py") if p.name not in NOT_ON_GET), ids=str
)
def test_no_lookup_module_imports_a_denied_module_when_it_loads(path: Path) -> None:
    imported = module_level_imports(ast.parse(path.read_text()))
    assert not denied_among(imported), f"{path.name} imports {denied_among(imported)} at load"


def test_the_check_sees_an_import_added_at_module_level() -> None:
    tree = ast.parse("import re\ntry:\n    import json\nexcept ImportError:\n    pass\n")
    assert denied_among(module_level_imports(tree)) == ["json"]


def test_the_check_leaves_function_bodies_and_type_checking_alone() -> None:
    code = "if TYPE_CHECKING:\n    import typing\ndef f():\n    import json\n"
    assert module_level_imports(ast.parse(code)) == []
