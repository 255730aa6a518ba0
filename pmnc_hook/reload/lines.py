"""What tracebacks show: every version's own source lines, never the file's newer ones.

Tracebacks look lines up in ``linecache`` by the code's filename. An entry holding a real
mtime is evicted by ``linecache.checkcache`` as soon as the file changes or goes, and then
the disk's current text (or nothing) is printed for code that ran other lines. So:

- ``show(module, path, data)`` registers the lines of the version about to run under its real
  path with mtime ``None`` (an entry ``checkcache`` keeps): tracebacks of the published version
  name the real file and show the lines it was compiled from, whatever happens on disk.
- ``retire(module, label)``, when a version stops being the published one (superseded, or its
  build failed), gives its functions code named ``"<path> (<label>)"`` and registers its lines
  under that name; the entry goes when the last such code object does. Every function of that
  version is found by its globals (``gc.get_referrers``), also closures and callbacks handed out
  long ago. Frames already running (a suspended generator, a thread inside a call) keep the
  real path: code objects of a running frame cannot be changed.
- ``restore(module)`` makes ``module``'s lines what its path shows again (after a failed build
  replaced them); ``release(module)``, when the hook is uninstalled, gives the path back to
  linecache's own handling.
"""

from __future__ import annotations

import gc
import importlib.util
import linecache
import sys
import types
import weakref
from typing import Any, NamedTuple, Optional

__all__ = ("release", "restore", "retire", "show")


class _Shown(NamedTuple):
    path: str
    entry: tuple[int, None, list[str], str]


# The lines each live version was compiled from, until it is retired. Weak: a module object
# that is dropped takes its record with it. Single dict operations, atomic under the GIL.
_shown: weakref.WeakKeyDictionary[types.ModuleType, _Shown] = weakref.WeakKeyDictionary()

# alias -> weak references to the renamed code objects; the alias's linecache entry is dropped
# with the last of them. This dict is what keeps the references (and their callbacks) alive.
_retired: dict[str, set[weakref.ref[types.CodeType]]] = {}


def _lines(data: bytes) -> list[str]:
    lines = importlib.util.decode_source(data).splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines


def show(module: types.ModuleType, path: str, data: bytes) -> None:
    """Make tracebacks of code compiled from ``data`` under ``path`` show these lines."""
    entry = (len(data), None, _lines(data), path)  # mtime None: checkcache keeps it
    _shown[module] = _Shown(path, entry)
    linecache.cache[path] = entry


def restore(module: types.ModuleType) -> None:
    """Make ``module``'s path show ``module``'s own lines again (it is the published version)."""
    shown = _shown.get(module)
    if shown is not None:
        linecache.cache[shown.path] = shown.entry


def release(module: types.ModuleType) -> None:
    """Let go of ``module``'s path (the hook is uninstalled): linecache reads it from disk again.

    Versions already retired keep their own names and lines.
    """
    shown = _shown.pop(module, None)
    if shown is not None and linecache.cache.get(shown.path) is shown.entry:
        del linecache.cache[shown.path]


def retire(*versions: tuple[types.ModuleType, str]) -> None:
    """Rename the code of each ``(module, label)`` version to ``"<path> (<label>)"``.

    Call it once those versions are no longer published (several at once: one pass). The
    functions of a version are found from its namespace (module-level functions, methods,
    ``__wrapped__``); only when its globals are referenced more often than those account
    for (closures handed out, a running frame's function) is the garbage collector asked for
    every referrer: one pass over the objects it tracks, about 25-45 ms per million.
    """
    work: list[tuple[_Shown, str, list[types.FunctionType]]] = []
    scan: list[tuple[dict[str, Any], list[types.FunctionType]]] = []
    for module, label in versions:
        shown = _shown.pop(module, None)
        if shown is None:
            continue
        functions = _functions_in(module)
        if functions is None:
            functions = []
            scan.append((module.__dict__, functions))
        work.append((shown, label, functions))
    if scan:
        everywhere = gc.get_referrers(*(namespace for namespace, _ in scan))
        for namespace, functions in scan:
            functions.extend(
                f
                for f in everywhere
                if isinstance(f, types.FunctionType) and f.__globals__ is namespace
            )
    for shown, label, functions in work:
        _rename_version(shown, label, functions)


def _rename_version(shown: _Shown, label: str, functions: list[types.FunctionType]) -> None:
    alias = _unique(f"{shown.path} ({label})")
    renamed: dict[int, tuple[types.CodeType, types.CodeType]] = {}
    for function in functions:
        if function.__code__.co_filename == shown.path:
            function.__code__ = _renamed(function.__code__, alias, renamed)
    if not renamed:
        return
    size, _, lines, _ = shown.entry
    linecache.cache[alias] = (size, None, lines, alias)
    _keep_while_alive(alias, [new for _, new in renamed.values()])


def _functions_in(module: types.ModuleType) -> Optional[list[types.FunctionType]]:
    """Return the functions of ``module``'s version, found from its namespace alone, if that
    provably finds them all; else ``None``.

    Every function holds one reference to its globals: when the namespace's references,
    beyond its module's own, are exactly the functions found, no other function exists.
    """
    references = _references(module) - _references(_CONTROL)  # before a local holds one
    namespace = module.__dict__
    found: dict[int, types.FunctionType] = {}
    seen: set[int] = set()
    stack: list[object] = list(namespace.values())
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            if obj.__globals__ is namespace:
                found[id(obj)] = obj
            stack.extend(v for k, v in vars(obj).items() if k == "__wrapped__")
        elif isinstance(obj, (staticmethod, classmethod)):
            stack.append(obj.__func__)
        elif isinstance(obj, property):
            stack.extend((obj.fget, obj.fset, obj.fdel))
        elif isinstance(obj, type) and obj.__module__ == module.__name__:
            stack.extend(vars(obj).values())
    if references == len(found):
        return list(found.values())
    return None


_CONTROL = types.ModuleType("pmnc_hook.reload.lines.control")  # a namespace only its module holds


def _references(module: types.ModuleType) -> int:
    return sys.getrefcount(module.__dict__)


def _unique(alias: str) -> str:
    candidate, n = alias, 1
    while candidate in _retired or candidate in linecache.cache:
        n += 1
        candidate = f"{alias[:-1]}, {n})"
    return candidate


def _renamed(
    code: types.CodeType, alias: str, done: dict[int, tuple[types.CodeType, types.CodeType]]
) -> types.CodeType:
    """Return ``code`` (and the code nested in it, for closures made later) under ``alias``."""
    seen = done.get(id(code))
    if seen is not None:
        return seen[1]
    consts: list[Any] = [
        _renamed(c, alias, done)
        if isinstance(c, types.CodeType) and c.co_filename == code.co_filename
        else c
        for c in code.co_consts
    ]
    new = code.replace(co_filename=alias, co_consts=tuple(consts))
    done[id(code)] = (code, new)  # the original stays referenced: its id is not reused
    return new


def _keep_while_alive(alias: str, codes: list[types.CodeType]) -> None:
    refs: set[weakref.ref[types.CodeType]] = set()

    def gone(ref: weakref.ref[types.CodeType]) -> None:
        refs.discard(ref)
        if not refs:
            _retired.pop(alias, None)
            linecache.cache.pop(alias, None)

    refs.update(weakref.ref(code, gone) for code in codes)
    _retired[alias] = refs
