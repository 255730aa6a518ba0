"""The rules PMNC001-PMNC006, one function each, over one indexed file.

Each rule takes the file's index (``ParsedFile``) and, where it needs them, what the file is
checked against (``Context``), and yields raw findings (see ``findings.RawFinding``) in no
particular order. ``find_problems`` runs them all. Module-only rules (PMNC003-PMNC005) apply
when the index says the file is checked as a module. PMNC007 (a file that cannot be read or
parsed) is reported by ``source.check_source``, which never gets as far as the rules.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field

from pmnc_hook.check.captures import captures
from pmnc_hook.check.findings import RawFinding, raw
from pmnc_hook.check.index import ParsedFile
from pmnc_hook.check.state import state

__all__ = ("Context", "direct_imports", "directives", "find_problems", "unknown_modules")

_NAMESPACE = "pmnc_hook.modules"


@dataclass(frozen=True)
class Context:
    """What one file is checked against.

    ``modules``: the module names of its module directories, mapped to their files.
    ``complete``: those are all the directories the file runs with; when they are not known
    (a program whose ``install()`` arguments cannot be read statically) they are a guess,
    good enough for PMNC001, and PMNC006 is not reported. ``searched``: those directories
    as printed. ``shadowed``: names that a direct import from the file finds next to it
    rather than a module. ``others``: names there that are no module file, mapped to what
    they are (``"mods/util is a directory"``).
    """

    modules: Mapping[str, str]
    searched: tuple[str, ...] = ()
    shadowed: Collection[str] = frozenset()
    others: Mapping[str, str] = field(default_factory=dict)
    complete: bool = True


def find_problems(index: ParsedFile, context: Context) -> list[RawFinding]:
    """Return the raw findings of every rule for the file ``index`` describes."""
    found = [*direct_imports(index, context), *captures(index)]
    found.extend(unknown_modules(index, context))
    found.extend(directives(index))
    found.extend(state(index))
    return found


# -- PMNC001 ------------------------------------------------------------------------------


def direct_imports(index: ParsedFile, context: Context) -> Iterator[RawFinding]:
    """PMNC001: report imports that bind a reloadable module's current version."""

    def is_module(top: str) -> bool:
        return top in context.modules and top not in context.shadowed

    for node in index.imports:
        if id(node) in index.type_only:
            continue  # never runs
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if alias.name.startswith(_NAMESPACE + "."):
                    yield _direct(node, alias.name.split(".")[2], f"import {alias.name}")
                elif is_module(top):
                    yield _direct(node, top, f"import {alias.name}")
        elif node.level == 0 and node.module:
            module = node.module
            if module == _NAMESPACE:
                for alias in node.names:
                    if alias.name != "*":
                        yield _direct(node, alias.name, f"from {module} import {alias.name}")
            elif module.startswith(_NAMESPACE + "."):
                yield _direct(node, module.split(".")[2], f"from {module} import ...")
            elif is_module(module.split(".")[0]):
                top = module.split(".")[0]
                names = [a.name for a in node.names if a.name != "*"]
                use = f"pmnc.{top}.{names[0]}" if names else f"pmnc.{top}"
                yield _direct(node, top, f"from {module} import ...", use)


def _direct(node: ast.stmt, name: str, what: str, use: str = "") -> RawFinding:
    return raw(
        node,
        "PMNC001",
        f"'{what}' binds the version of reloadable module {name!r} loaded now and never "
        f"sees a reload; use {use or 'pmnc.' + name} at the point of use instead",
    )


# -- PMNC004, PMNC005 -----------------------------------------------------------------------


def directives(index: ParsedFile) -> Iterator[RawFinding]:
    """PMNC004, PMNC005: report malformed directives and misplaced ``pmnc_init``."""
    if not index.as_module:
        return
    found = index.directives
    for problem in found.problems:
        yield raw((problem.line, problem.col), problem.code, problem.message)
    literal = [(line, flag) for line, flag in found.reloadable_lines if flag is not None]
    if literal:
        first_line, first = literal[0]
        for line, flag in literal[1:]:
            if flag != first:
                yield raw(
                    (line, 0),
                    "PMNC005",
                    f"__reloadable__ is set to {flag} here but to {first} on line "
                    f"{first_line} (False wins); keep a single __reloadable__ assignment",
                )
    top = {id(node) for node in index.top}
    for func, owner in index.inits:
        if id(func) not in top:
            kind = "class" if isinstance(owner, ast.ClassDef) else "function"
            where = getattr(owner, "name", "<lambda>")
            yield raw(
                func,
                "PMNC004",
                f"pmnc_init inside {kind} {where!r} is never called on reload; move it to "
                "module level: def pmnc_init(old_module, new_module, new_module_filename)",
            )


# -- PMNC006 ------------------------------------------------------------------------------


def unknown_modules(index: ParsedFile, context: Context) -> Iterator[RawFinding]:
    """PMNC006: report ``pmnc.<name>`` where no module directory holds ``<name>.py``."""
    modules = context.modules
    if not context.complete:
        return
    if context.searched:
        where = f"in the module directories searched: {', '.join(context.searched)}"
    else:
        where = "among the modules given"
    for node in index.attributes:
        name = node.attr
        known = name in modules or name.startswith("__")
        if not known and index.is_facade(node.value):
            other = f" ({context.others[name]})" if name in context.others else ""
            yield raw(
                node,
                "PMNC006",
                f"pmnc.{name}: pmnc has no module {name!r}: no file {name}.py {where}{other}; "
                f"fix the name or create {name}.py",
            )
