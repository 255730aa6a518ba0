"""Find the directives of a module in its AST, before anything executes.

Directives: ``__reloadable__ = True|False`` anywhere at module level, and a module-level
``def pmnc_init(old_module, new_module, new_module_filename)``. Pure functions over source
and trees: nothing here imports or runs module code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional, Union

from pmnc_hook._errors import DirectiveError

__all__ = ("Directives", "Problem", "find_directives", "may_hold_directive", "scan")

RELOADABLE = "__reloadable__"
INIT = "pmnc_init"

_FuncDef = Union[ast.FunctionDef, ast.AsyncFunctionDef]


def may_hold_directive(source: bytes) -> bool:
    """Tell whether the source text can hold a directive at all (the cheap pre-test)."""
    return b"__reloadable__" in source or b"pmnc_init" in source


@dataclass(frozen=True)
class Problem:
    """A malformed directive: where it is and what is wrong."""

    line: int
    col: int
    code: str
    message: str


@dataclass(frozen=True)
class Directives:
    """What a module declares about itself."""

    reloadable: bool = True
    stateful: bool = False
    reloadable_lines: tuple[tuple[int, Optional[bool]], ...] = ()
    init_line: Optional[int] = None
    problems: tuple[Problem, ...] = field(default=())


def iter_module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Yield statements that run at module level, entering if/try/with/for/while/match."""
    for node in body:
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in ("body", "orelse", "finalbody"):
            inner = getattr(node, name, None)
            if isinstance(inner, list):
                yield from iter_module_level([s for s in inner if isinstance(s, ast.stmt)])
        for handler in getattr(node, "handlers", ()) or ():
            yield from iter_module_level(handler.body)
        for case in getattr(node, "cases", ()) or ():
            yield from iter_module_level(case.body)


def _names_bound(target: ast.expr) -> Iterator[ast.Name]:
    if isinstance(target, ast.Name):
        yield target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _names_bound(elt)
    elif isinstance(target, ast.Starred):
        yield from _names_bound(target.value)


def _literal_bool(value: Optional[ast.expr]) -> Optional[bool]:
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value.value
    return None


def init_signature_problem(func: _FuncDef) -> Optional[str]:
    """Say what is wrong with a ``pmnc_init`` definition's signature, or ``None``."""
    if isinstance(func, ast.AsyncFunctionDef):
        return "pmnc_init must be a plain 'def', not 'async def': it runs during the reload"
    args = func.args
    positional = len(args.posonlyargs) + len(args.args)
    required = positional - len(args.defaults)
    kw_required = sum(1 for d in args.kw_defaults if d is None)
    if kw_required or required > 3 or (positional < 3 and args.vararg is None):
        return (
            "pmnc_init must accept three positional arguments: "
            "def pmnc_init(old_module, new_module, new_module_filename)"
        )
    return None


class _Found:
    """What ``find_directives`` has seen so far."""

    def __init__(self) -> None:
        self.values: list[tuple[int, Optional[bool]]] = []
        self.problems: list[Problem] = []
        self.init_line: Optional[int] = None
        self.stateful = False

    def init(self, line: int) -> None:
        self.stateful = True
        self.init_line = self.init_line or line

    def reloadable(self, node: ast.AST, value: Optional[ast.expr], plain: bool = True) -> None:
        flag = _literal_bool(value) if plain else None
        line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        self.values.append((line, flag))
        if flag is None:
            self.problems.append(
                Problem(
                    line,
                    col,
                    "PMNC005",
                    "__reloadable__ must be the literal True or False "
                    "(write '__reloadable__ = False' on a line of its own)",
                )
            )

    def assignment(self, node: ast.Assign) -> None:
        for target in node.targets:
            for name in _names_bound(target):
                if name.id == RELOADABLE:
                    self.reloadable(name, node.value, plain=target is name)
                elif name.id == INIT:
                    self.init(name.lineno)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            self.assignment(node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if node.target.id == RELOADABLE:
                self.reloadable(node, node.value)
            elif node.target.id == INIT and node.value is not None:
                self.init(node.lineno)
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            if node.target.id == RELOADABLE:
                self.reloadable(node.target, None, plain=False)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == INIT:
            self.init(node.lineno)
            problem = init_signature_problem(node)
            if problem:
                self.problems.append(Problem(node.lineno, node.col_offset, "PMNC004", problem))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound == INIT:
                    self.init(node.lineno)
                elif bound == RELOADABLE:
                    self.reloadable(node, None, plain=False)


def find_directives(tree: ast.Module) -> Directives:
    """Collect the module's directives and every problem with them (raises nothing)."""
    found = _Found()
    for node in iter_module_level(tree.body):
        found.statement(node)
    return Directives(
        reloadable=all(flag is not False for _, flag in found.values),
        stateful=found.stateful,
        reloadable_lines=tuple(found.values),
        init_line=found.init_line,
        problems=tuple(found.problems),
    )


def scan(tree: ast.Module, filename: str) -> Directives:
    """Return the module's directives; raise ``DirectiveError`` for the first malformed one."""
    found = find_directives(tree)
    if found.problems:
        first = found.problems[0]
        raise DirectiveError(first.message, filename=filename, lineno=first.line)
    return found
