"""Apply the ``--check`` rules PMNC001-PMNC006 to one parsed file.

``find_problems`` returns raw findings, ``(line, col, code, message)`` with a 1-based line and
a 0-based column in UTF-8 bytes (as the AST gives them), in no particular order and before
suppression comments; the caller maps columns to characters and sorts. ``modules`` maps the
module names of the module directories to their files; ``as_module`` says that the file lies
in a module directory (module-only rules PMNC003-PMNC005 then apply, unless the file is
evidently a program); ``shadowed`` names what a direct import from this file finds next to
it instead of a module. ``CODES`` describes every code, PMNC007 (an unreadable or
unparsable file, reported by the caller) included.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from typing import Optional, Union

from pmnc_hook.check.parsed import ParsedFile, Scope, children, parameters
from pmnc_hook.reload.directives import find_directives, iter_module_level

__all__ = ("CODES", "RawFinding", "find_problems")

CODES: Mapping[str, str] = {
    "PMNC001": "direct import of a reloadable module",
    "PMNC002": "pmnc.<name> value captured at import time or in a default argument",
    "PMNC003": "module state changed at run time, with no pmnc_init to migrate it",
    "PMNC004": "pmnc_init with the wrong signature, or defined below module level",
    "PMNC005": "__reloadable__ not a literal, or set to different values",
    "PMNC006": "pmnc.<name> names no module in the module directories",
    "PMNC007": "the file cannot be read, decoded or parsed",
}

# (line, col, code, message): 1-based line, 0-based column in UTF-8 bytes.
RawFinding = tuple[int, int, str, str]

_NAMESPACE = "pmnc_hook.modules"
# How an import-time expression's value is used (see _Rules._values).
_USED, _KEPT, _DEFAULT = 0, 1, 2
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


class _Rules(ParsedFile):
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
        super().__init__(tree, data, modules, as_module=as_module, shadowed=shadowed)
        self.found: list[RawFinding] = []

    def add(self, node: Union[ast.AST, tuple[int, int]], code: str, message: str) -> None:
        if isinstance(node, tuple):
            line, col = node
        else:
            line, col = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        self.found.append((line, col, code, message))

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
                for child in children(node):
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
                for child in children(node):
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
        pending: list[tuple[Scope, tuple[set[str], ...], bool]] = []
        for scope in self.scope.children:
            func = scope.owner
            exempt = not isinstance(func, (ast.Lambda, ast.Module)) and func.name in at_import
            pending.append((scope, (), exempt))
        while pending:
            scope, outer, exempt = pending.pop()
            inner = self._function_state(scope, containers, outer, exempt)
            pending.extend((child, inner, False) for child in scope.children)

    def _function_state(
        self, scope: Scope, containers: set[str], outer: tuple[set[str], ...], exempt: bool
    ) -> tuple[set[str], ...]:
        """Report the state changes in one function; return the scopes its children see."""
        own = scope.own
        assert not isinstance(scope.owner, ast.Module)
        bound = {a.arg for a in parameters(scope.owner.args)}
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

    def run(self) -> list[RawFinding]:
        self.direct_imports()
        self.captures()
        if self.attributes:
            self.unknown_modules()
        if self.as_module:
            reloadable, stateful = self.directives()
            if reloadable and not stateful:
                self.state()
        return self.found


def find_problems(
    tree: ast.Module,
    data: bytes,
    modules: Mapping[str, str],
    *,
    as_module: bool,
    shadowed: Collection[str],
) -> list[RawFinding]:
    """Return the raw findings of the file whose bytes are ``data`` and tree ``tree``."""
    return _Rules(tree, data, modules, as_module=as_module, shadowed=shadowed).run()
