"""The package's shape (issue 14): small files, classes and functions; no import cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "pmnc_hook"
FILES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def top_level_imports(path: Path) -> set[str]:
    """Modules of pmnc_hook imported when ``path`` is imported (not inside functions, not
    only for type checking)."""
    found: set[str] = set()
    tree = ast.parse(path.read_bytes())
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in (
            ast.walk(node)
            if not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
            else ()
        ):
            if isinstance(inner, ast.Import):
                found.update(a.name for a in inner.names if a.name.startswith("pmnc_hook"))
            elif isinstance(inner, ast.ImportFrom) and inner.module:
                if inner.module.startswith("pmnc_hook"):
                    found.add(inner.module)
                    found.update(f"{inner.module}.{a.name}" for a in inner.names)
    known = {module_name(f) for f in FILES}
    return {name for name in found if name in known}


def test_at_least_four_subpackages():
    subpackages = [p.parent.name for p in PACKAGE.glob("*/__init__.py")]
    assert len(subpackages) >= 4, subpackages


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_size_limits(path):
    text = path.read_text()
    assert text.count("\n") <= 400, f"{path.name} has {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            limit = 250 if isinstance(node, ast.ClassDef) else 60
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= limit, f"{path.name}: {node.name} has {length} lines"


def test_no_import_cycle():
    graph = {module_name(f): top_level_imports(f) - {module_name(f)} for f in FILES}
    for name in graph:  # a package's __init__ is imported with its submodules: not a cycle
        graph[name] = {m for m in graph[name] if not name.startswith(m + ".")}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
