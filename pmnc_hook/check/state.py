"""PMNC003: module-level state changed at run time, which a reload would lose.

A module-level container (a literal, a comprehension, ``dict()``, ``deque()``...) changed by
a function, or a ``global`` name rebound by one, is state the next version starts without,
unless the module migrates it in ``pmnc_init`` or is not reloadable. Changes made while the
module loads (at module level, or in a function called or used as a decorator at module
level) are repeated by the reload, so they are not reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import NamedTuple, Optional

from pmnc_hook.check.findings import RawFinding, raw
from pmnc_hook.check.index import ParsedFile, Scope, parameters

__all__ = ("state",)

_MUTATORS = frozenset(
    {
        "add", "append", "appendleft", "clear", "difference_update", "discard", "extend",
        "extendleft", "insert", "intersection_update", "pop", "popitem", "popleft", "remove",
        "reverse", "rotate", "setdefault", "sort", "symmetric_difference_update", "update",
        "__setitem__", "__delitem__",
    }
)  # fmt: skip
_CONTAINER_CALLS = frozenset(
    {
        "list", "dict", "set", "bytearray", "defaultdict", "OrderedDict", "Counter", "deque",
        "ChainMap", "WeakValueDictionary", "WeakKeyDictionary", "WeakSet",
    }
)  # fmt: skip


def _root_name(node: ast.expr) -> Optional[str]:
    """Return ``N`` for ``N``, ``N[k]``, ``N[a][b]``; else ``None``."""
    while isinstance(node, ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_container(value: Optional[ast.expr]) -> bool:
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        return name in _CONTAINER_CALLS
    return False


def _containers(index: ParsedFile) -> set[str]:
    """Return the module-level names bound to containers."""
    containers: set[str] = set()
    for node in index.top:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and _is_container(node.value):
                    containers.add(target.id)
                elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(
                    node.value, (ast.Tuple, ast.List)
                ):
                    for elt, value in zip(target.elts, node.value.elts):
                        if isinstance(elt, ast.Name) and _is_container(value):
                            containers.add(elt.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            containers.update([node.target.id] if _is_container(node.value) else [])
    return containers


def state(index: ParsedFile) -> Iterator[RawFinding]:
    """PMNC003: report state changes in a reloadable module that has no ``pmnc_init``."""
    directives = index.directives
    if not index.as_module or not directives.reloadable or directives.stateful:
        return
    containers = _containers(index)
    if not containers and b"global" not in index.data:
        return
    # Functions called or used as decorators at import time fill state while loading.
    at_import: set[str] = set()
    for item in index.scope.own:
        if isinstance(item, ast.Call) and isinstance(item.func, ast.Name):
            at_import.add(item.func.id)
        elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            at_import.update(d.id for d in item.decorator_list if isinstance(d, ast.Name))
    pending: list[tuple[Scope, tuple[set[str], ...], bool]] = []
    for scope in index.scope.children:
        func = scope.owner
        exempt = not isinstance(func, (ast.Lambda, ast.Module)) and func.name in at_import
        pending.append((scope, (), exempt))
    while pending:
        scope, outer, exempt = pending.pop()
        names = _bindings(scope)
        if not exempt:
            yield from _changes(scope, containers, names, outer)
        inner = (*outer, names.bound - names.declared)
        pending.extend((child, inner, False) for child in scope.children)


class _Names(NamedTuple):
    bound: set[str]
    declared: set[str]  # global
    nonlocal_: set[str]

    def is_global(self, name: str, outer: tuple[set[str], ...]) -> bool:
        """Tell whether ``name`` in this function means the module-level name."""
        return name in self.declared or (
            name not in self.bound
            and name not in self.nonlocal_
            and not any(name in names for names in outer)
        )


def _bindings(scope: Scope) -> _Names:
    """Return the names one function binds, declares ``global`` and declares ``nonlocal``."""
    assert not isinstance(scope.owner, ast.Module)
    bound = {a.arg for a in parameters(scope.owner.args)}
    declared: set[str] = set()
    nonlocal_: set[str] = set()
    for node in scope.own:
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name.split(".")[0]) for a in node.names)
        elif isinstance(node, ast.Global):
            declared.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            nonlocal_.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        else:
            capture = getattr(node, "name", None) or getattr(node, "rest", None)
            if isinstance(capture, str) and not isinstance(node, ast.alias):
                bound.add(capture)  # match-statement captures
    return _Names(bound, declared, nonlocal_)


def _changes(
    scope: Scope, containers: set[str], names: _Names, outer: tuple[set[str], ...]
) -> Iterator[RawFinding]:
    """Report one function's rebinding of ``global`` names and changes to module containers."""
    for node in scope.own:
        if isinstance(node, ast.Name) and node.id in names.declared:
            if not isinstance(node.ctx, ast.Load):
                yield _state(node, node.id, f"global {node.id}; {node.id} = ...")
            continue
        target: Optional[str] = None
        what = ""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _MUTATORS:
                target = _root_name(node.func.value)
                what = f"{target}.{node.func.attr}(...)"
        elif isinstance(node, ast.Subscript) and not isinstance(node.ctx, ast.Load):
            target = _root_name(node.value)
            deleted = isinstance(node.ctx, ast.Del)
            what = f"del {target}[...]" if deleted else f"{target}[...] = ..."
        if target is not None and target in containers and names.is_global(target, outer):
            yield _state(node, target, what)


def _state(node: ast.AST, name: str, what: str) -> RawFinding:
    return raw(
        node,
        "PMNC003",
        f"module-level {name!r} changes at run time ({what}) and is lost when the "
        "module reloads; define pmnc_init(old_module, new_module, "
        "new_module_filename) to carry it over, or set __reloadable__ = False",
    )
