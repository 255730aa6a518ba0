"""The checker's own shape (issue 14): it reads the runtime's rules, never the runtime."""

from __future__ import annotations

import ast

import pytest
from conftest import REPO

CHECK = REPO / "pmnc_hook" / "check"
# What the checker may import of pmnc_hook: itself, and the pure rules it shares with the core.
ALLOWED = (
    "pmnc_hook.check",
    "pmnc_hook._names",
    "pmnc_hook._settings",
    "pmnc_hook.reload.directives",
)
FILES = sorted(CHECK.glob("*.py"))


def imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, "relative import"
            names.add(node.module)
    return names


def test_the_checker_has_its_files():
    assert {p.name for p in FILES} >= {"files.py", "index.py", "rules.py", "output.py"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_checker_imports_no_runtime(path):
    ours = {n for n in imported(ast.parse(path.read_bytes())) if n.split(".")[0] == "pmnc_hook"}
    stray = sorted(n for n in ours if not n.startswith(ALLOWED))
    assert stray == [], f"{path.name} imports {stray}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_checker_stays_within_size_limits(path):
    text = path.read_text()
    assert text.count("\n") <= 400
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            limit = 250 if isinstance(node, ast.ClassDef) else 60
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            assert length <= limit, f"{path.name}: {node.name} has {length} lines"
