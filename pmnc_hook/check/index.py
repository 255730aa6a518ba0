"""Index one parsed file for the ``--check`` rules, in a single walk of its tree.

``ParsedFile`` splits the tree into scopes (a function's own nodes, not entering nested
functions) and notes what the rules read: imports (and which run only under
``if TYPE_CHECKING:``), attribute reads (only when the source mentions ``pmnc``), every
``pmnc_init`` not at module level, the names bound to the facade and to the ``pmnc_hook``
package, and whether the file is evidently a program, in which case it is not checked as a
module. Pure: nothing is imported or executed.
"""

from __future__ import annotations

import ast
from typing import Optional, Union

from pmnc_hook.reload.directives import INIT, Directives, find_directives, iter_module_level

__all__ = ("Func", "FuncDef", "ParsedFile", "Scope", "children", "dotted", "parameters")

FuncDef = Union[ast.FunctionDef, ast.AsyncFunctionDef]
Func = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda]

_PACKAGE = "pmnc_hook"
_FACADE_MODULES = frozenset({"pmnc_hook", "pmnc_hook.reload.facade"})

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


def children(node: ast.AST) -> list[ast.AST]:
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


def dotted(node: ast.expr) -> str:
    """Return ``a.b.c`` for an attribute chain, with ``?`` for a base that is not a name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    parts.append(node.id if isinstance(node, ast.Name) else "?")
    return ".".join(reversed(parts))


def parameters(args: ast.arguments) -> list[ast.arg]:
    """Return every parameter, ``*args`` and ``**kwargs`` last."""
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    params.extend(a for a in (args.vararg, args.kwarg) if a is not None)
    return params


class Scope:
    """One function's (or the module's) own nodes, not entering nested functions."""

    __slots__ = ("children", "nested", "own", "owner")

    def __init__(self, owner: Union[ast.Module, Func]) -> None:
        self.owner = owner
        self.own: list[ast.AST] = []
        self.nested: list[Func] = []
        self.children: list[Scope] = []


class ParsedFile:
    """One parsed file as the rules read it (see the module docstring); built in one walk."""

    def __init__(self, tree: ast.Module, data: bytes, *, as_module: bool) -> None:
        """Index ``tree`` (parsed from ``data``); ``as_module``: it lies in a module directory
        and its name can name a module (it is still indexed as a program if evidently one)."""
        self.tree = tree
        self.data = data
        self.imports: list[Union[ast.Import, ast.ImportFrom]] = []
        self.attributes: list[ast.Attribute] = []
        self.inits: list[tuple[FuncDef, Union[Func, ast.ClassDef]]] = []
        self.type_only: set[int] = set()  # ids of imports under "if TYPE_CHECKING:"
        self.mentions_pmnc = b"pmnc" in data
        self.scope = self._walk(tree)
        self.facades, self.packages, self.installers = self._bound_names()
        self.top = list(iter_module_level(tree.body))
        self.as_module = as_module and not self._is_program()
        if self.as_module and "pmnc" not in self.facades and not self._rebinds_pmnc():
            self.facades.add("pmnc")
        self._directives: Optional[Directives] = None

    @property
    def directives(self) -> Directives:
        """The module's directives and their problems (found once, on first use)."""
        if self._directives is None:
            self._directives = find_directives(self.tree)
        return self._directives

    def _walk(self, tree: ast.Module) -> Scope:
        """Split the tree into scopes, visiting each node once; note imports and the rest."""
        root = Scope(tree)
        pending: list[tuple[Scope, list[ast.AST]]] = [(root, list(tree.body))]
        while pending:
            scope, stack = pending.pop()
            self._walk_scope(scope, stack)
            for func in scope.nested:
                child = Scope(func)
                scope.children.append(child)
                pending.append(
                    (child, list(func.body) if isinstance(func.body, list) else [func.body])
                )
        return root

    def _walk_scope(self, scope: Scope, stack: list[ast.AST]) -> None:
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
                    stack.extend(p.annotation for p in parameters(args) if p.annotation)
                    stack.extend([node.returns] if node.returns else [])
                    stack.extend(getattr(node, "type_params", ()))
                    if node.name == INIT and not isinstance(owner, ast.Module):
                        self.inits.append((node, owner))
                continue
            elif isinstance(node, ast.If) and dotted(node.test).endswith("TYPE_CHECKING"):
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
            stack.extend(children(node))

    # -- names --------------------------------------------------------------------------

    def _bound_names(self) -> tuple[set[str], set[str], set[str]]:
        """Return the names bound to the facade, to the ``pmnc_hook`` package and to its
        ``install`` function."""
        facades: set[str] = set()
        packages: set[str] = set()
        installers: set[str] = set()
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
                    if alias.name == "install" and node.module == _PACKAGE:
                        installers.add(alias.asname or "install")
        return facades, packages, installers

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
        return bool(self.installers) or any(self.is_install(a) for a in self.attributes)

    def is_install(self, node: ast.expr) -> bool:
        """Tell whether ``node`` names ``pmnc_hook.install`` (as imported here)."""
        return self._names(node, self.installers, "install")

    def is_facade(self, node: ast.expr) -> bool:
        """Tell whether ``node`` names the ``pmnc`` facade (injected or imported)."""
        return self._names(node, self.facades, "pmnc")

    def _names(self, node: ast.expr, bound: set[str], attr: str) -> bool:
        """Tell whether ``node`` is a name in ``bound`` or ``pmnc_hook.<attr>``."""
        if isinstance(node, ast.Name):
            return node.id in bound
        return (
            isinstance(node, ast.Attribute)
            and node.attr == attr
            and isinstance(node.value, ast.Name)
            and node.value.id in self.packages
        )

    def chain(self, node: ast.expr) -> Optional[tuple[str, str]]:
        """For ``pmnc.<name>[.attr...]`` return (its text, ``<name>``); else ``None``."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            if self.is_facade(node.value):
                base = node.value
                return ".".join([dotted(base), node.attr, *reversed(parts)]), node.attr
            parts.append(node.attr)
            node = node.value
        return None
