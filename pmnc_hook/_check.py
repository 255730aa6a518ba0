"""``python -m pmnc_hook --check``: find what breaks reloading, statically, before it breaks.

Reads module files as bytes and parses them with ``ast.parse`` (PEP 263 cookies work), using
the loader's own directive scanner; nothing is imported or executed.

Which files are checked, and as what:

- A directory PATH is a module directory. Its ``*.py`` files whose stem can name a module
  (``is_module_name``) are its reloadable modules. Among them, a file that is evidently a
  program (a module-level ``if __name__ == "__main__":``, a ``#!`` first line, or a use of
  ``pmnc_hook.install``) is checked as a program file instead: the runner never reloads its
  script. Other ``*.py`` files there (``__init__.py``, ``my-tool.py``) are program files.
- Subdirectories of a directory PATH are searched recursively for program files, skipping
  hidden directories, ``__pycache__``, virtual environments (``venv``, any directory holding
  ``pyvenv.cfg``), ``build``, ``dist``, ``node_modules``, ``site-packages`` and directories
  that are module directories themselves.
- A file PATH is checked as a program file, or as what it is in its directory when that is a
  module directory. When only file PATHs are given, the module directories are
  ``PMNC_HOOK_PATH``'s, else the files' own directories.
- No PATH: the directories of ``PMNC_HOOK_PATH``, else the current directory.

Module findings (all codes) apply to reloadable modules; program files get PMNC001, PMNC002,
PMNC006 and PMNC007. In a module, ``pmnc`` is the injected facade unless the module rebinds
the name; elsewhere ``pmnc`` counts only when imported (``from pmnc_hook import pmnc``, or
``import pmnc_hook`` then ``pmnc_hook.pmnc``), so the injected-``pmnc`` modules of some other
module directory met while recursing are not checked against the wrong directories.

A ``# pmnc: ignore[PMNC003]`` (or ``[PMNC001,PMNC003]``, or a bare ``# pmnc: ignore``) comment
on the line a finding is reported at silences it there. Output is sorted by path, line and
column; paths are relative to the current directory when inside it, else absolute. Text
format: ``path:line:col: CODE message`` (``col`` 1-based, in characters). JSON format: an
array of objects with exactly the keys ``path``, ``line``, ``col``, ``code``, ``message``.
Exit status: 0 clean, 1 findings, 2 bad usage (unknown option or code, a missing PATH).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Optional, Union

from ._config import ENV_PATH, EnvSettings
from ._directives import INIT, find_directives, iter_module_level
from ._registry import is_module_name

__all__ = (
    "CODES",
    "Finding",
    "check_paths",
    "check_source",
    "format_json",
    "format_text",
    "main",
    "parse_codes",
    "select",
)

CODES: Mapping[str, str] = {
    "PMNC001": "direct import of a reloadable module",
    "PMNC002": "pmnc.<name> value captured at import time or in a default argument",
    "PMNC003": "module state changed at run time, with no pmnc_init to migrate it",
    "PMNC004": "pmnc_init with the wrong signature, or defined below module level",
    "PMNC005": "__reloadable__ not a literal, or set to different values",
    "PMNC006": "pmnc.<name> names no module in the module directories",
    "PMNC007": "the file cannot be read, decoded or parsed",
}

_FuncDef = Union[ast.FunctionDef, ast.AsyncFunctionDef]
_Func = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]
# How an import-time expression's value is used (see _File._values).
_USED, _KEPT, _DEFAULT = 0, 1, 2

_PACKAGE = "pmnc_hook"
_FACADE_MODULES = frozenset({"pmnc_hook", "pmnc_hook._facade"})
_NAMESPACE = "pmnc_hook.modules"
_SKIP_DIRS = frozenset({"__pycache__", "venv", "build", "dist", "node_modules", "site-packages"})
_IGNORE = re.compile(r"#\s*pmnc:\s*ignore\b\s*(?:\[([^\]]*)\])?", re.IGNORECASE)
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
# Builtins that cannot keep a reference to an argument once they return.
_NON_RETAINING = frozenset(
    {
        "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex",
        "dict", "dir", "divmod", "float", "format", "frozenset", "hasattr", "hash", "hex", "id",
        "int", "isinstance", "issubclass", "len", "list", "max", "min", "oct", "ord", "print",
        "repr", "round", "set", "sorted", "str", "sum", "tuple", "type", "vars",
    }
)  # fmt: skip


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where (1-based line and column, path as printed) and what to do."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def format(self) -> str:
        """Return the ``path:line:col: CODE message`` line."""
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


# -- one file ---------------------------------------------------------------------------


def _lines(data: bytes) -> list[str]:
    try:
        text = importlib.util.decode_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _suppressed(line: str, code: str) -> bool:
    for match in _IGNORE.finditer(line):
        listed = match.group(1)
        if listed is None or code in {c.strip().upper() for c in listed.split(",")}:
            return True
    return False


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


def _is_main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    sides = [test.left, *test.comparators]
    return (
        len(sides) == 2
        and isinstance(test.ops[0], ast.Eq)
        and any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
        and any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    )


# Per node class: (fields that may hold a node, fields holding lists of nodes, fields holding
# lists that may also hold None or str). Learnt from the first instance: ASDL sequences are
# always lists, and a field holding a str or number never holds a node.
_Fields = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_FIELDS: dict[type[ast.AST], _Fields] = {}
_SKIP_FIELDS = frozenset({"ctx", "op", "ops", "type_comment"})
_MIXED_LISTS = frozenset({"keys", "kw_defaults", "names", "kwd_attrs"})


def _fields(node: ast.AST) -> _Fields:
    single: list[str] = []
    lists: list[str] = []
    mixed: list[str] = []
    for name in node._fields:
        value = getattr(node, name, None)
        if name in _SKIP_FIELDS or isinstance(value, (str, bytes, int, float, complex)):
            continue
        if isinstance(value, list):
            (mixed if name in _MIXED_LISTS else lists).append(name)
        elif value is None or isinstance(value, ast.AST):
            single.append(name)
    found = _FIELDS[node.__class__] = (tuple(single), tuple(lists), tuple(mixed))
    return found


def _children(node: ast.AST) -> list[ast.AST]:
    """Return the child nodes, as ``ast.iter_child_nodes`` but faster and without ``ctx``."""
    single, lists, mixed = _FIELDS.get(node.__class__) or _fields(node)
    found: list[ast.AST] = []
    for name in single:
        value = getattr(node, name)
        if isinstance(value, ast.AST):
            found.append(value)
    for name in lists:
        found.extend(getattr(node, name))
    for name in mixed:
        found.extend(v for v in getattr(node, name) if isinstance(v, ast.AST))
    return found


class _Scope:
    """One function's (or the module's) own nodes, not entering nested functions."""

    __slots__ = ("children", "nested", "own", "owner")

    def __init__(self, owner: Union[ast.Module, _Func]) -> None:
        self.owner = owner
        self.own: list[ast.AST] = []
        self.nested: list[_Func] = []
        self.children: list[_Scope] = []


class _File:
    """The checks of one parsed file; findings carry 0-based byte columns until emitted."""

    def __init__(
        self,
        tree: ast.Module,
        data: bytes,
        modules: Mapping[str, str],
        *,
        as_module: bool,
        shadowed: Collection[str],
    ) -> None:
        self.tree = tree
        self.data = data
        self.modules = modules
        self.shadowed = shadowed
        self.found: list[tuple[int, int, str, str]] = []
        self.imports: list[Union[ast.Import, ast.ImportFrom]] = []
        self.attributes: list[ast.Attribute] = []
        self.inits: list[tuple[_FuncDef, Union[_Func, ast.ClassDef]]] = []
        self.type_only: set[int] = set()  # ids of imports under "if TYPE_CHECKING:"
        self.mentions_pmnc = b"pmnc" in data
        self.scope = self._walk(tree)
        self.facades, self.packages = self._facade_names()
        self.top = list(iter_module_level(tree.body))
        self.as_module = as_module and not self._is_program()
        if self.as_module and "pmnc" not in self.facades and not self._rebinds_pmnc():
            self.facades.add("pmnc")

    def _walk(self, tree: ast.Module) -> _Scope:
        """Split the tree into scopes, visiting each node once; note imports and the rest."""
        root = _Scope(tree)
        pending: list[tuple[_Scope, list[ast.AST]]] = [(root, list(tree.body))]
        while pending:
            scope, stack = pending.pop()
            self._walk_scope(scope, stack)
            for func in scope.nested:
                child = _Scope(func)
                scope.children.append(child)
                pending.append(
                    (child, list(func.body) if isinstance(func.body, list) else [func.body])
                )
        return root

    def _walk_scope(self, scope: _Scope, stack: list[ast.AST]) -> None:
        owner, own, nested = scope.owner, scope.own, scope.nested
        while stack:
            node = stack.pop()
            own.append(node)
            if isinstance(node, ast.Attribute):
                if self.mentions_pmnc:
                    self.attributes.append(node)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self.imports.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                nested.append(node)
                args = node.args
                stack.extend(d for d in args.kw_defaults if d is not None)
                stack.extend(args.defaults)
                if not isinstance(node, ast.Lambda):
                    stack.extend(node.decorator_list)
                    stack.extend(p.annotation for p in _params(args) if p.annotation)
                    stack.extend([node.returns] if node.returns else [])
                    stack.extend(getattr(node, "type_params", ()))
                    if node.name == INIT and not isinstance(owner, ast.Module):
                        self.inits.append((node, owner))
                continue
            elif isinstance(node, ast.If) and _dotted(node.test).endswith("TYPE_CHECKING"):
                self.type_only.update(
                    id(n)
                    for n in iter_module_level(node.body)
                    if isinstance(n, (ast.Import, ast.ImportFrom))
                )
            elif isinstance(node, ast.ClassDef):
                self.inits.extend(
                    (item, node)
                    for item in node.body
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and item.name == INIT
                )
            stack.extend(_children(node))

    def add(self, node: Union[ast.AST, tuple[int, int]], code: str, message: str) -> None:
        if isinstance(node, tuple):
            line, col = node
        else:
            line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        self.found.append((line, col, code, message))

    # -- names --------------------------------------------------------------------------

    def _facade_names(self) -> tuple[set[str], set[str]]:
        """Return the names bound to the facade and to the ``pmnc_hook`` package."""
        facades: set[str] = set()
        packages: set[str] = set()
        for node in self.imports:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == _PACKAGE:
                        packages.add(alias.asname or _PACKAGE)
                    elif alias.name.startswith(_PACKAGE + ".") and not alias.asname:
                        packages.add(_PACKAGE)
            elif node.level == 0 and node.module in _FACADE_MODULES:
                for alias in node.names:
                    if alias.name in ("pmnc", "*"):
                        facades.add(alias.asname or "pmnc")
        return facades, packages

    def _rebinds_pmnc(self) -> bool:
        for node in self.top:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                if any((a.asname or a.name.split(".")[0]) == "pmnc" for a in node.names):
                    return True
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == "pmnc" for t in targets):
                    return True
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (
                node.name == "pmnc"
            ):
                return True
        return False

    def _is_program(self) -> bool:
        if self.data.startswith(b"#!") or any(_is_main_guard(n) for n in self.top):
            return True
        for node in self.imports:
            is_ours = isinstance(node, ast.ImportFrom) and node.module == _PACKAGE
            if is_ours and any(a.name == "install" for a in node.names):
                return True
        return any(
            a.attr == "install" and isinstance(a.value, ast.Name) and a.value.id in self.packages
            for a in self.attributes
        )

    def is_facade(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in self.facades
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "pmnc"
            and isinstance(node.value, ast.Name)
            and node.value.id in self.packages
        )

    def chain(self, node: ast.expr) -> Optional[tuple[str, str]]:
        """For ``pmnc.<name>[.attr...]`` return (its text, ``<name>``); else ``None``."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            if self.is_facade(node.value):
                base = node.value
                return ".".join([_dotted(base), node.attr, *reversed(parts)]), node.attr
            parts.append(node.attr)
            node = node.value
        return None

    # -- PMNC001 ----------------------------------------------------------------------

    def direct_imports(self) -> None:
        for node in self.imports:
            if id(node) in self.type_only:
                continue  # never runs
            if isinstance(node, ast.Import):
                for alias in node.names:
                    top = alias.name.split(".")[0]
                    if alias.name.startswith(_NAMESPACE + "."):
                        self._direct(node, alias.name.split(".")[2], f"import {alias.name}")
                    elif top in self.modules and top not in self.shadowed:
                        self._direct(node, top, f"import {alias.name}")
            elif node.level == 0 and node.module:
                module = node.module
                if module == _NAMESPACE:
                    for alias in node.names:
                        if alias.name != "*":
                            self._direct(node, alias.name, f"from {module} import {alias.name}")
                elif module.startswith(_NAMESPACE + "."):
                    self._direct(node, module.split(".")[2], f"from {module} import ...")
                else:
                    top = module.split(".")[0]
                    if top in self.modules and top not in self.shadowed:
                        names = [a.name for a in node.names if a.name != "*"]
                        use = f"pmnc.{top}.{names[0]}" if names else f"pmnc.{top}"
                        self._direct(node, top, f"from {module} import ...", use)

    def _direct(self, node: ast.stmt, name: str, what: str, use: str = "") -> None:
        self.add(
            node,
            "PMNC001",
            f"'{what}' binds the version of reloadable module {name!r} loaded now and never "
            f"sees a reload; use {use or 'pmnc.' + name} at the point of use instead",
        )

    # -- PMNC002 ----------------------------------------------------------------------

    def captures(self) -> None:
        if not self.facades and not self.packages:
            return
        work: list[tuple[ast.expr, int]] = []
        stack = list(self.top)
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                if node.value is not None:
                    work.append((node.value, _KEPT))
                work.extend((t, _USED) for t in getattr(node, "targets", ()))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                work.extend((d, _USED) for d in node.decorator_list)
                work.extend((d, _DEFAULT) for d in _defaults(node.args))
            elif isinstance(node, ast.ClassDef):
                work.extend((d, _USED) for d in node.decorator_list)
                work.extend((b, _KEPT) for b in node.bases)
                work.extend((k.value, _KEPT) for k in node.keywords)
                stack.extend(iter_module_level(node.body))
            else:
                for child in _children(node):
                    if isinstance(child, ast.expr):
                        work.append((child, _USED))
                    elif isinstance(child, ast.withitem):
                        work.append((child.context_expr, _USED))
        self._values(work)

    def _values(self, work: list[tuple[ast.expr, int]]) -> None:
        """Report the ``pmnc`` values that expressions evaluated at import time keep.

        ``_KEPT``: the expression's value is stored; ``_DEFAULT``: stored as a default
        argument; ``_USED``: evaluated only (yet calls inside it may keep their arguments).
        """
        while work:
            node, how = work.pop()
            found = self.chain(node)
            if found is not None:
                if how != _USED:
                    self._captured(node, *found, default=how == _DEFAULT)
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
                    self.chain(func) is not None
                    or (isinstance(func, ast.Name) and func.id in _NON_RETAINING)
                )
                arg_how = _KEPT if keeps else _USED
                work.extend((arg, arg_how) for arg in node.args)
                work.extend((k.value, arg_how) for k in node.keywords)
                work.append((func, _USED))
            elif isinstance(node, ast.Lambda):
                work.extend((d, _DEFAULT) for d in _defaults(node.args))
            elif isinstance(node, ast.NamedExpr):
                work.append((node.value, _KEPT))
            else:
                for child in _children(node):
                    if isinstance(child, ast.expr):
                        work.append((child, _USED))
                    elif isinstance(child, ast.comprehension):
                        work.append((child.iter, _USED))
                        work.extend((cond, _USED) for cond in child.ifs)

    def _captured(self, node: ast.expr, text: str, name: str, *, default: bool) -> None:
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
        self.add(node, "PMNC002", message)

    # -- PMNC006 ----------------------------------------------------------------------

    def unknown_modules(self) -> None:
        for node in self.attributes:
            name = node.attr
            known = name in self.modules or name.startswith("__")
            if not known and self.is_facade(node.value):
                self.add(
                    node,
                    "PMNC006",
                    f"pmnc.{name}: there is no module {name}.py in the module directories; "
                    f"fix the name or create {name}.py",
                )

    # -- PMNC004, PMNC005 -------------------------------------------------------------

    def directives(self) -> tuple[bool, bool]:
        """Report directive problems; return (reloadable, stateful)."""
        found = find_directives(self.tree)
        for problem in found.problems:
            self.add((problem.line, problem.col), problem.code, problem.message)
        literal = [(line, flag) for line, flag in found.reloadable_lines if flag is not None]
        if literal:
            first_line, first = literal[0]
            for line, flag in literal[1:]:
                if flag != first:
                    self.add(
                        (line, 0),
                        "PMNC005",
                        f"__reloadable__ is set to {flag} here but to {first} on line "
                        f"{first_line} (False wins); keep a single __reloadable__ assignment",
                    )
        top = {id(node) for node in self.top}
        for func, owner in self.inits:
            if id(func) not in top:
                kind = "class" if isinstance(owner, ast.ClassDef) else "function"
                where = getattr(owner, "name", "<lambda>")
                self.add(
                    func,
                    "PMNC004",
                    f"pmnc_init inside {kind} {where!r} is never called on reload; move it to "
                    "module level: def pmnc_init(old_module, new_module, new_module_filename)",
                )
        return found.reloadable, found.stateful

    # -- PMNC003 ----------------------------------------------------------------------

    def state(self) -> None:
        containers: set[str] = set()
        for node in self.top:
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
        if not containers and b"global" not in self.data:
            return
        # Functions called or used as decorators at import time fill state while loading.
        at_import: set[str] = set()
        for item in self.scope.own:
            if isinstance(item, ast.Call) and isinstance(item.func, ast.Name):
                at_import.add(item.func.id)
            elif isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                at_import.update(d.id for d in item.decorator_list if isinstance(d, ast.Name))
        pending: list[tuple[_Scope, tuple[set[str], ...], bool]] = []
        for scope in self.scope.children:
            func = scope.owner
            exempt = not isinstance(func, (ast.Lambda, ast.Module)) and func.name in at_import
            pending.append((scope, (), exempt))
        while pending:
            scope, outer, exempt = pending.pop()
            inner = self._function_state(scope, containers, outer, exempt)
            pending.extend((child, inner, False) for child in scope.children)

    def _function_state(
        self, scope: _Scope, containers: set[str], outer: tuple[set[str], ...], exempt: bool
    ) -> tuple[set[str], ...]:
        """Report the state changes in one function; return the scopes its children see."""
        own = scope.own
        assert not isinstance(scope.owner, ast.Module)
        bound = {a.arg for a in _params(scope.owner.args)}
        declared: set[str] = set()
        nonlocal_: set[str] = set()
        for node in own:
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

        def is_global(name: str) -> bool:
            if name in declared:
                return True
            return (
                name not in bound
                and name not in nonlocal_
                and not any(name in scope for scope in outer)
            )

        if not exempt:
            for node in own:
                if isinstance(node, ast.Name) and node.id in declared:
                    if not isinstance(node.ctx, ast.Load):
                        self._state(node, node.id, f"global {node.id}; {node.id} = ...")
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
                if target is not None and target in containers and is_global(target):
                    self._state(node, target, what)
        return (*outer, bound - declared)

    def _state(self, node: ast.AST, name: str, what: str) -> None:
        self.add(
            node,
            "PMNC003",
            f"module-level {name!r} changes at run time ({what}) and is lost when the "
            "module reloads; define pmnc_init(old_module, new_module, "
            "new_module_filename) to carry it over, or set __reloadable__ = False",
        )

    # -- all --------------------------------------------------------------------------

    def run(self) -> list[tuple[int, int, str, str]]:
        self.direct_imports()
        self.captures()
        if self.attributes:
            self.unknown_modules()
        if self.as_module:
            reloadable, stateful = self.directives()
            if reloadable and not stateful:
                self.state()
        return self.found


def _dotted(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    parts.append(node.id if isinstance(node, ast.Name) else "?")
    return ".".join(reversed(parts))


def _defaults(args: ast.arguments) -> list[ast.expr]:
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


def _params(args: ast.arguments) -> list[ast.arg]:
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    params.extend(a for a in (args.vararg, args.kwarg) if a is not None)
    return params


def check_source(
    data: bytes,
    path: str = "<source>",
    *,
    modules: Union[Mapping[str, str], Collection[str]] = (),
    as_module: bool = True,
    shadowed: Collection[str] = (),
) -> list[Finding]:
    """Check one file's bytes; return its findings, sorted, suppression comments applied.

    ``modules``: the module names in the module directories (a mapping to their files or a
    collection of names). ``as_module``: the file lies in a module directory (it is still
    checked as a program if it is evidently one). ``shadowed``: names that a direct import
    from this file resolves to a file or package next to it rather than to a module.
    ``path`` is used as given.
    """
    names: Mapping[str, str] = (
        modules if isinstance(modules, Mapping) else {name: name for name in modules}
    )
    raw: list[tuple[int, int, str, str]]
    lines: Optional[list[str]] = None
    try:
        tree = ast.parse(data, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc) or type(exc).__name__
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        line = getattr(exc, "lineno", None) or 1
        col = getattr(exc, "offset", None) or 1
        raw = [
            (
                line,
                col,
                "PMNC007",
                f"cannot be parsed by Python {version}: {message}; fix it, or it cannot load",
            )
        ]
        lines = _lines(data)
        syntax = True
    else:
        syntax = False
        raw = _File(tree, data, names, as_module=as_module, shadowed=set(shadowed)).run()
    findings: set[Finding] = set()
    for line, col, code, message in raw:
        if lines is None:
            lines = _lines(data)
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if not syntax:  # AST columns are 0-based UTF-8 bytes; editors count characters
            if not text.isascii():
                col = len(text.encode("utf-8")[:col].decode("utf-8", "replace"))
            col += 1
        col = max(1, min(col, len(text) + 1))
        line = max(line, 1)
        if not _suppressed(text, code):
            findings.add(Finding(path, line, col, code, message))
    return sorted(findings)


# -- which files ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    path: str
    in_module_dir: bool


def _display(path: str) -> str:
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, cwd)
    return absolute


def _skip_dir(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name.startswith(".") or name in _SKIP_DIRS or name.endswith(".egg-info"):
        return True
    return os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))


def _py_files(directory: str) -> list[str]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    return sorted(e.path for e in entries if e.name.endswith(".py") and e.is_file())


def _program_files(directory: str, module_dirs: Collection[str]) -> Iterator[str]:
    """Yield ``*.py`` files in the subdirectories of ``directory``, recursively."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False) or _skip_dir(entry):
            continue
        if os.path.realpath(entry.path) not in module_dirs:
            yield from _py_files(entry.path)
            yield from _program_files(entry.path, module_dirs)


def _resolve(
    paths: Optional[Sequence[str]], environ: Optional[Mapping[str, str]]
) -> tuple[list[str], list[_Target]]:
    """Return (module directories, files to check); raise OSError/ValueError for bad PATHs."""
    given = list(paths or ())
    for path in given:
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file or directory: {path}")
    dirs = [os.path.abspath(p) for p in given if os.path.isdir(p)]
    files = [os.path.abspath(p) for p in given if not os.path.isdir(p)]
    scanned = dirs
    if not dirs:
        env_paths = EnvSettings.read(environ).paths
        if env_paths:
            for path in env_paths:
                if not os.path.isdir(path):
                    raise NotADirectoryError(f"{ENV_PATH} names {path}, which is no directory")
            dirs = [os.path.abspath(p) for p in env_paths]
        elif files:
            dirs = [os.path.dirname(f) for f in files]
        else:
            dirs = [os.getcwd()]
        scanned = [] if files else dirs
    module_dirs = list(dict.fromkeys(dirs))
    real_dirs = {os.path.realpath(d) for d in module_dirs}
    targets: dict[str, _Target] = {}

    def add(path: str, in_module_dir: bool) -> None:
        real = os.path.realpath(path)
        if real not in targets or in_module_dir:
            targets[real] = _Target(path, in_module_dir)

    for directory in dict.fromkeys(scanned):
        for path in _py_files(directory):
            add(path, True)
        for path in _program_files(directory, real_dirs):
            add(path, False)
    for path in files:
        add(path, os.path.realpath(os.path.dirname(path)) in real_dirs)
    return module_dirs, list(targets.values())


def _is_module_file(path: str) -> bool:
    """Tell whether ``path``, in a module directory, is a file ``pmnc.<name>`` can load."""
    stem, ext = os.path.splitext(os.path.basename(path))
    return ext == ".py" and is_module_name(stem)


def _module_names(module_dirs: Sequence[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for directory in module_dirs:
        for path in _py_files(directory):
            if _is_module_file(path):
                names.setdefault(os.path.basename(path)[:-3], path)
    return names


def _neighbours(directory: str) -> frozenset[str]:
    """Return the names a direct import finds next to a file in ``directory``."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return frozenset()
    return frozenset(
        e.name[:-3] if e.name.endswith(".py") else e.name
        for e in entries
        if e.name.endswith(".py") or e.is_dir()
    )


def check_paths(
    paths: Optional[Sequence[str]] = None, *, environ: Optional[Mapping[str, str]] = None
) -> list[Finding]:
    """Check the module directories and program files named by ``paths``; return findings.

    ``paths`` as on the command line (``None`` or empty: ``PMNC_HOOK_PATH`` from ``environ``,
    default ``os.environ``, else the current directory). Findings are sorted, with paths
    as printed. Raises ``OSError`` for a PATH that does not exist and ``ValueError`` for a
    malformed ``PMNC_HOOK_*`` variable.
    """
    module_dirs, targets = _resolve(paths, environ)
    modules = _module_names(module_dirs)
    neighbours: dict[str, frozenset[str]] = {}
    findings: list[Finding] = []
    for target in targets:
        shown = _display(target.path)
        shadowed: frozenset[str] = frozenset()
        if not target.in_module_dir:
            directory = os.path.dirname(target.path)
            if directory not in neighbours:
                neighbours[directory] = _neighbours(directory)
            shadowed = neighbours[directory]
        try:
            with open(target.path, "rb") as f:
                data = f.read()
        except OSError as exc:
            message = f"cannot be read: {exc.strerror or exc}; fix its permissions"
            findings.append(Finding(shown, 1, 1, "PMNC007", message))
            continue
        findings.extend(
            check_source(
                data,
                shown,
                modules=modules,
                as_module=target.in_module_dir and _is_module_file(target.path),
                shadowed=shadowed,
            )
        )
    return sorted(findings)


# -- output and command line ------------------------------------------------------------


def parse_codes(values: Iterable[str]) -> frozenset[str]:
    """Turn ``--select``/``--ignore`` values (comma-separated) into codes; ValueError if unknown."""
    codes = {c.strip().upper() for value in values for c in value.split(",") if c.strip()}
    unknown = sorted(codes - set(CODES))
    if unknown:
        raise ValueError(f"unknown code {', '.join(unknown)} (known: {', '.join(CODES)})")
    return frozenset(codes)


def select(
    findings: Iterable[Finding],
    selected: Optional[Collection[str]] = None,
    ignored: Collection[str] = (),
) -> list[Finding]:
    """Keep the findings whose code is selected (``None``: all) and not ignored."""
    return [
        f for f in findings if (selected is None or f.code in selected) and f.code not in ignored
    ]


def format_text(findings: Iterable[Finding]) -> str:
    """Return one ``path:line:col: CODE message`` line per finding."""
    return "".join(f.format() + "\n" for f in findings)


def format_json(findings: Iterable[Finding]) -> str:
    """Return a JSON array of ``{path, line, col, code, message}`` objects."""
    return json.dumps([asdict(f) for f in findings], indent=2) + "\n"


def _parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code}  {text}" for code, text in CODES.items())
    parser = argparse.ArgumentParser(
        prog="python -m pmnc_hook --check",
        description="Find what breaks reloading, statically: nothing is executed.",
        epilog=f"codes:\n{codes}\n\nexit status: 0 clean, 1 findings, 2 bad usage",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"module directories or program files (default: {ENV_PATH}, else .)",
    )
    parser.add_argument("--select", action="append", default=[], metavar="CODES",
                        help="report only these codes (comma-separated, repeatable)")  # fmt: skip
    parser.add_argument("--ignore", action="append", default=[], metavar="CODES",
                        help="do not report these codes (comma-separated, repeatable)")  # fmt: skip
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _write(text: str) -> None:
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))
    sys.stdout.flush()


def main(argv: Sequence[str]) -> int:
    """Run the checker with these arguments (those after ``--check``); return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        selected = parse_codes(args.select) or None
        ignored = parse_codes(args.ignore)
        findings = select(check_paths(args.paths), selected, ignored)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{parser.prog}: error: {exc}\n")
        return 2
    _write(format_json(findings) if args.format == "json" else format_text(findings))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
