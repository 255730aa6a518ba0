"""Turn a module file's bytes into a fresh, executed module object.

``compile_source`` builds the AST only when the text can hold a directive, scans it, and
compiles that same tree; other sources compile straight from bytes. No bytecode cache is read
or written, so no stale ``.pyc`` can ever run. ``PmncLoader`` is what the import system sees
for ``import <namespace>.<name>``: it hands out the registry's current version.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.util
import linecache
import traceback
import types
from collections.abc import Mapping
from importlib.machinery import ModuleSpec
from typing import TYPE_CHECKING, Callable, Optional

from pmnc_hook.reload.directives import Directives, may_hold_directive, scan

if TYPE_CHECKING:
    from pmnc_hook.reload.source import Source

__all__ = ("PmncLoader", "compile_source", "execute", "failure_location", "new_module")

_PLAIN = Directives()


def compile_source(data: bytes, path: str) -> tuple[types.CodeType, Directives]:
    """Compile module source; directives are scanned before anything runs.

    Raises ``SyntaxError`` (also for bytes invalid in the declared encoding) or
    ``DirectiveError``.
    """
    if may_hold_directive(data):
        tree = ast.parse(data, filename=path)
        directives = scan(tree, path)
        return compile(tree, path, "exec", dont_inherit=True), directives
    return compile(data, path, "exec", dont_inherit=True), _PLAIN


def new_module(
    fullname: str, path: str, loader: importlib.abc.Loader, namespace: Mapping[str, object]
) -> types.ModuleType:
    """Create an empty module object for ``path`` with the injected names already bound."""
    module = types.ModuleType(fullname)
    spec = ModuleSpec(fullname, loader, origin=path)
    spec.has_location = True
    module.__spec__ = spec
    module.__loader__ = loader
    module.__file__ = path
    module.__cached__ = None  # type: ignore[attr-defined]
    module.__package__ = fullname.rpartition(".")[0]
    module.__dict__.update(namespace)
    return module


def execute(code: types.CodeType, module: types.ModuleType, source: Source) -> None:
    """Run the module body, and make tracebacks show exactly the lines that were compiled."""
    text = importlib.util.decode_source(source.data)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    key = source.fingerprint.key
    linecache.cache[source.path] = (key.size, key.mtime_ns / 1e9, lines, source.path)
    exec(code, module.__dict__)


class PmncLoader(importlib.abc.Loader):
    """The import system's view of one reloadable module: always its current version."""

    def __init__(self, name: str, path: str, current: Callable[[str], types.ModuleType]) -> None:
        self.name = name
        self.path = path
        self._current = current

    def create_module(self, spec: ModuleSpec) -> Optional[types.ModuleType]:
        """Return the current version, loading it first if needed."""
        return self._current(self.name)

    def exec_module(self, module: types.ModuleType) -> None:
        """Run nothing (the registry executed the body); undo the import system's spec swap.

        For ``import bar`` handed the managed module, the import system set ``__spec__`` to the
        alias's spec; the module keeps describing itself under its namespaced name.
        """
        if module.__spec__ is not None and module.__spec__.name != module.__name__:
            spec = ModuleSpec(module.__name__, self, origin=self.path)
            spec.has_location = True
            module.__spec__ = spec

    def get_filename(self, fullname: Optional[str] = None) -> str:
        """Return the module file's path."""
        return self.path

    def get_code(self, fullname: Optional[str] = None) -> types.CodeType:
        """Compile the module file as it is on disk now (for tools that run it themselves)."""
        with open(self.path, "rb") as f:
            return compile_source(f.read(), self.path)[0]

    def get_source(self, fullname: Optional[str] = None) -> str:
        """Return the module file's text as it is on disk now."""
        with open(self.path, "rb") as f:
            return importlib.util.decode_source(f.read())

    def is_package(self, fullname: Optional[str] = None) -> bool:
        """Reloadable modules are single files, never packages."""
        return False

    def __repr__(self) -> str:
        return f"<PmncLoader {self.name!r} from {self.path!r}>"


def failure_location(exc: BaseException, path: str) -> str:
    """Return ``file:line`` of the failure inside the module file if it can be found."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"{exc.filename or path}:{exc.lineno}"
    line = getattr(exc, "lineno", None)
    filename = getattr(exc, "filename", None)
    if isinstance(line, int) and filename:
        return f"{filename}:{line}"
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            found = frame.lineno
    return f"{path}:{found}" if found else path
