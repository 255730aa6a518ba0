"""PMNC002: a ``pmnc.<name>`` value kept from import time (or in a default argument).

A value read through ``pmnc`` while the module loads and then stored (assigned, kept in a
container, a class base, a default argument, an argument of a call that may keep it) is the
version loaded then, and never sees a reload. Reading it and using it at once is fine.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Optional

from pmnc_hook.check.findings import RawFinding, raw
from pmnc_hook.check.index import ParsedFile, children
from pmnc_hook.reload.directives import iter_module_level

__all__ = ("captures",)

# How an import-time expression's value is used (see _values).
_USED, _KEPT, _DEFAULT = 0, 1, 2
# Builtins that cannot keep a reference to an argument once they return.
_NON_RETAINING = frozenset(
    {
        "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex",
        "dict", "dir", "divmod", "float", "format", "frozenset", "hasattr", "hash", "hex", "id",
        "int", "isinstance", "issubclass", "len", "list", "max", "min", "oct", "ord", "print",
        "repr", "round", "set", "sorted", "str", "sum", "tuple", "type", "vars",
    }
)  # fmt: skip

_Work = list[tuple[ast.expr, int]]


def defaults(args: ast.arguments) -> list[ast.expr]:
    """Return a signature's default values, keyword-only ones included."""
    return [*args.defaults, *(d for d in args.kw_defaults if d is not None)]


def _kept_parts(node: ast.expr) -> Optional[tuple[list[ast.expr], list[ast.expr]]]:
    """For an expression whose value is kept, return (parts whose values it keeps, parts
    only evaluated), or ``None`` if it keeps no part's value as such (e.g. a call's result).
    """
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return list(node.elts), []
    if isinstance(node, ast.Dict):
        return [k for k in node.keys if k is not None] + list(node.values), []
    if isinstance(node, (ast.Starred, ast.NamedExpr)):
        return [node.value], []
    if isinstance(node, ast.IfExp):
        return [node.body, node.orelse], [node.test]
    if isinstance(node, ast.BoolOp):
        return list(node.values), []
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        kept = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        used = [c.iter for c in node.generators] + [i for c in node.generators for i in c.ifs]
        return kept, used
    return None


def captures(index: ParsedFile) -> Iterator[RawFinding]:
    """PMNC002: report every ``pmnc.<name>`` value that import-time code keeps."""
    if not index.facades and not index.packages:
        return
    work: _Work = []
    stack = list(index.top)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            if node.value is not None:
                work.append((node.value, _KEPT))
            work.extend((t, _USED) for t in getattr(node, "targets", ()))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            work.extend((d, _USED) for d in node.decorator_list)
            work.extend((d, _DEFAULT) for d in defaults(node.args))
        elif isinstance(node, ast.ClassDef):
            work.extend((d, _USED) for d in node.decorator_list)
            work.extend((b, _KEPT) for b in node.bases)
            work.extend((k.value, _KEPT) for k in node.keywords)
            stack.extend(iter_module_level(node.body))
        else:
            _evaluated(node, work)
    yield from _values(index, work)


def _evaluated(node: ast.AST, work: _Work) -> None:
    """Queue the expressions directly inside ``node`` as evaluated only."""
    for child in children(node):
        if isinstance(child, ast.expr):
            work.append((child, _USED))
        elif isinstance(child, ast.withitem):
            work.append((child.context_expr, _USED))
        elif isinstance(child, ast.comprehension):
            work.append((child.iter, _USED))
            work.extend((cond, _USED) for cond in child.ifs)


def _values(index: ParsedFile, work: _Work) -> Iterator[RawFinding]:
    """Report the ``pmnc`` values that expressions evaluated at import time keep.

    ``_KEPT``: the expression's value is stored; ``_DEFAULT``: stored as a default
    argument; ``_USED``: evaluated only (yet calls inside it may keep their arguments).
    """
    while work:
        node, how = work.pop()
        found = index.chain(node)
        if found is not None:
            if how != _USED:
                yield _captured(node, *found, default=how == _DEFAULT)
            continue
        if how != _USED:
            parts = _kept_parts(node)
            if parts is not None:
                work.extend((part, how) for part in parts[0])
                work.extend((part, _USED) for part in parts[1])
                continue
        if isinstance(node, ast.Call):
            func = node.func
            keeps = not (
                index.chain(func) is not None
                or (isinstance(func, ast.Name) and func.id in _NON_RETAINING)
            )
            arg_how = _KEPT if keeps else _USED
            work.extend((arg, arg_how) for arg in node.args)
            work.extend((k.value, arg_how) for k in node.keywords)
            work.append((func, _USED))
        elif isinstance(node, ast.Lambda):
            work.extend((d, _DEFAULT) for d in defaults(node.args))
        elif isinstance(node, ast.NamedExpr):
            work.append((node.value, _KEPT))
        else:
            _evaluated(node, work)


def _captured(node: ast.expr, text: str, name: str, *, default: bool) -> RawFinding:
    if default:
        message = (
            f"default argument {text} is evaluated once, when the function is "
            f"defined, and keeps that version after {name!r} reloads; default to None "
            f"and read {text} inside the function"
        )
    else:
        message = (
            f"{text} is captured at import time and keeps that version after "
            f"{name!r} reloads; read {text} at the point of use instead"
        )
    return raw(node, "PMNC002", message)
