"""The module directories a program names in its ``pmnc_hook.install(...)`` calls, read
statically: what the program's ``pmnc.<name>`` uses (and the modules there) are checked
against.

Understood: a list, tuple or set literal (or a module-level name bound once to one) of
paths, each a string literal or a module-level name bound once to one of the forms
``__file__``, ``Path(...)``, ``p.parent``, ``p / "x"``, ``p.joinpath("x")``,
``p.resolve()``, ``p.absolute()``, ``str(p)``, ``os.fspath(p)``, ``os.path.dirname(p)``,
``os.path.join(p, "x")``, ``os.path.abspath(p)``, ``os.path.realpath(p)``. A relative path
is taken relative to the program's directory. Anything else (a path computed at run time)
makes the program's module directories unknown.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from typing import Optional

from pmnc_hook.check.index import ParsedFile, dotted

__all__ = ("installed_directories",)

_DEPTH = 8  # how many module-level names one path may go through
_SAME = frozenset({"resolve", "absolute", "abspath", "realpath", "normpath", "fspath", "str"})
_PATHS = frozenset({"Path", "PurePath", "PosixPath", "PurePosixPath"})


def installed_directories(index: ParsedFile, program: str) -> Optional[list[str]]:
    """Return the absolute directories that ``program``'s ``install(...)`` calls name.

    ``[]``: it names none (no call, or only calls without paths, which mean
    ``PMNC_HOOK_PATH``); ``None``: some call's paths cannot be read statically.
    """
    names = _module_level_names(index)
    found: list[str] = []
    for call in _install_calls(index):
        argument = call.args[0] if call.args else None
        for keyword in call.keywords:
            if keyword.arg == "paths":
                argument = keyword.value
        if argument is None or (isinstance(argument, ast.Constant) and argument.value is None):
            continue
        paths = _paths(_follow(argument, names, _DEPTH), program, names)
        if paths is None:
            return None
        found.extend(p for p in paths if p not in found)
    return found


def _install_calls(index: ParsedFile) -> Iterator[ast.Call]:
    if not index.installers and not index.packages:
        return
    for node in ast.walk(index.tree):
        if isinstance(node, ast.Call) and index.is_install(node.func):
            yield node


def _module_level_names(index: ParsedFile) -> dict[str, Optional[ast.expr]]:
    """Map each name bound at module level by a plain assignment to its value (``None``
    when it is bound more than once, so its value at the call is not known)."""
    names: dict[str, Optional[ast.expr]] = {}
    for node in index.top:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = None if target.id in names else node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names[node.target.id] = None if node.target.id in names else node.value
    return names


def _follow(node: ast.expr, names: dict[str, Optional[ast.expr]], depth: int) -> ast.expr:
    """Return what a module-level name stands for (the node itself if it is none)."""
    while isinstance(node, ast.Name) and depth > 0:
        value = names.get(node.id)
        if value is None:
            return node
        node, depth = value, depth - 1
    return node


def _paths(
    node: ast.expr, program: str, names: dict[str, Optional[ast.expr]]
) -> Optional[list[str]]:
    if not isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return None
    found: list[str] = []
    for element in node.elts:
        path = _path(element, program, names, _DEPTH)
        if path is None:
            return None
        found.append(_absolute(path, program))
    return found


def _absolute(path: str, program: str) -> str:
    """Return ``path`` made absolute: a relative one is taken from the program's directory."""
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(program)), path))


def _path(
    node: ast.expr, program: str, names: dict[str, Optional[ast.expr]], depth: int
) -> Optional[str]:
    """Return the path ``node`` evaluates to, if it can be told without running anything."""
    if depth <= 0:
        return None
    node = _follow(node, names, depth)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return program if node.id == "__file__" else None
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        base = _path(node.value, program, names, depth - 1)
        return None if base is None else os.path.dirname(_absolute(base, program))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _joined([node.left, node.right], program, names, depth)
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    func = node.func
    name = dotted(func).rsplit(".", 1)[-1]
    args = list(node.args)
    if isinstance(func, ast.Attribute) and name in ("resolve", "absolute", "joinpath"):
        args.insert(0, func.value)  # a method of a path: the path is the first argument
    if name in _SAME and len(args) == 1:
        return _path(args[0], program, names, depth - 1)
    if name == "dirname" and len(args) == 1:
        base = _path(args[0], program, names, depth - 1)
        return None if base is None else os.path.dirname(_absolute(base, program))
    if name in _PATHS or name in ("join", "joinpath"):
        return _joined(args, program, names, depth) if args else None
    return None


def _joined(
    parts: list[ast.expr], program: str, names: dict[str, Optional[ast.expr]], depth: int
) -> Optional[str]:
    values = [_path(part, program, names, depth - 1) for part in parts]
    if any(value is None for value in values):
        return None
    return os.path.join(*(value for value in values if value is not None))
