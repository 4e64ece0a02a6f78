"""The code's shape: imports point one way, no private name crosses modules, nothing grows big."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"helper": "readystack.helper", "store": "readystack.store"}
MAX_FILE_LINES, MAX_FUNCTION_LINES = 600, 80


def modules() -> dict[str, Path]:
    """Every module of both packages by dotted name."""
    found = {}
    for folder, package in PACKAGES.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join((package, *parts))] = path
    return found


def imports_of(name: str, path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import, inside functions too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{up}.{base}" if base else up
            taken = [alias.name for alias in node.names]
            # `from . import x` imports the module x itself.
            submodules = [f"{base}.{t}" for t in taken if f"{base}.{t}" in modules()]
            out += [(m, []) for m in submodules] or [(base, taken)]
    return out


def graph() -> dict[str, set[str]]:
    """Which of our modules each of our modules imports."""
    ours = modules()
    return {
        name: {m for m, _ in imports_of(name, path) if m in ours and m != name}
        for name, path in ours.items()
    }


def test_no_import_cycle_even_counting_imports_inside_functions() -> None:
    edges = graph()
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])


def test_store_never_imports_helper_and_nothing_imports_cli() -> None:
    for name, targets in graph().items():
        if name.startswith("readystack.store."):
            assert not [t for t in targets if t.startswith("readystack.helper")], name
        if name != "readystack.helper.__main__":  # `python -m readystack.helper` runs the cli
            assert "readystack.helper.cli" not in targets, name


# The helper's subpackages, lowest first: each may import only those before it (and store/).
LAYERS = ("readystack.helper.lookup", "readystack.helper.online", "readystack.helper.manage")


def test_lookup_never_imports_manage_or_online_and_online_never_imports_manage() -> None:
    for name, targets in graph().items():
        for rank, layer in enumerate(LAYERS):
            if name.startswith(layer + "."):
                above = [t for t in targets if t.startswith(LAYERS[rank + 1 :])]
                assert not above, f"{name} imports {above}, a layer above {layer}"


def test_every_helper_module_lives_in_a_layer_or_is_the_entry() -> None:
    entry = {"readystack.helper", "readystack.helper.__main__", "readystack.helper.cli"}
    for name in modules():
        if name.startswith("readystack.helper"):
            assert name in entry or name.startswith(LAYERS) or name in LAYERS, name


def test_no_private_name_is_imported_from_another_module() -> None:
    ours = modules()
    for name, path in ours.items():
        for module, taken in imports_of(name, path):
            if module in ours:
                private = [t for t in taken if t.startswith("_") and not t.endswith("__")]
                assert not private, f"{name} imports {private} from {module}"


@pytest.mark.parametrize("folder", ["helper", "store", "packaging", "bench"])
def test_no_source_file_over_600_lines_nor_function_over_80(folder: str) -> None:
    for path in sorted((ROOT / folder).rglob("*.py")):
        if any(part.startswith(".") for part in path.relative_to(ROOT).parts):
            continue  # a virtual environment the benchmark made, not our source
        lines = path.read_text().splitlines()
        assert len(lines) <= MAX_FILE_LINES, f"{path.relative_to(ROOT)}: {len(lines)} lines"
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                where = f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
                assert length <= MAX_FUNCTION_LINES, f"{where}: {length} lines"


def test_every_verb_of_the_table_is_in_the_help_and_dispatches() -> None:
    from readystack.helper import cli
    from readystack.helper.manage import admin, verbs

    text = cli.help_text()
    parser = admin.parser()
    for verb in verbs.VERBS:
        assert f"  {verb.words} " in text or text.count(f"  {verb.words}\n"), verb.words
        words = verb.words.split()
        operands = ["x"] if verb.synopsis.startswith(("NAME", "TARGET")) else []
        extra = ["--url", "u"] if verb.words == "registry add" else []
        extra += ["--to", "database"] if verb.words == "registry move-secrets" else []
        ns = parser.parse_args([*words, *operands, *extra])
        assert ns.verb_entry is verb
        module = __import__(f"readystack.helper.{verb.module}", fromlist=[verb.function])
        assert callable(getattr(module, verb.function)), verb


def test_every_exception_class_is_in_the_error_table_or_an_internal_signal_below_it() -> None:
    """store/errors.py is the table cli maps by; a class outside it would end as `X failed`."""
    import importlib

    from readystack.store import errors, verberrors

    homes = {errors.__name__, verberrors.__name__}

    for name in modules():
        if name.endswith("__main__"):
            continue  # importing it runs the executable
        for cls in vars(importlib.import_module(name)).values():
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                continue
            if cls.__module__ != name or name in homes:
                continue  # imported here, or the table itself
            where = f"{name}.{cls.__name__}"
            assert issubclass(cls, errors.Internal), (
                f"{where}: define it in store/errors.py (or verberrors.py, off a pull's path) with "
                "its exit code and stream, or derive it from errors.Internal when it never leaves "
                "its module"
            )
