"""Turn a module file's bytes into a fresh, executed module object.

``compile_source`` builds the AST only when the text can hold a directive, scans it, and
compiles that same tree; other sources compile straight from bytes. No bytecode cache is read
or written, so no stale ``.pyc`` can ever run. ``new_module`` gives a module what the running
Python's own import system gives one (3.15: no ``__cached__``), ``__spec__`` first.
``PmncLoader`` is what the import system sees for ``import <namespace>.<name>``: it hands out
the registry's current version. ``failure_location`` says where in the file a load failed.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.util
import types
from collections.abc import Mapping
from importlib.machinery import ModuleSpec
from typing import TYPE_CHECKING, Callable, Optional

from pmnc_hook._errors import ModuleFileError, shown
from pmnc_hook.reload import lines
from pmnc_hook.reload.directives import Directives, may_hold_directive, scan
from pmnc_hook.reload.source import read_source

if TYPE_CHECKING:
    from pmnc_hook.reload.source import Source

__all__ = ("PmncLoader", "compile_source", "execute", "failure_location", "new_module")

_PLAIN = Directives()


def compile_source(data: bytes, path: str) -> tuple[types.CodeType, Directives]:
    """Compile module source; directives are scanned before anything runs.

    Raises ``SyntaxError`` (also for a bad coding cookie, bytes invalid in the declared
    encoding and NUL bytes, each placed at its line of ``path``) or ``DirectiveError``.
    """
    try:
        if may_hold_directive(data):
            tree = ast.parse(data, filename=path)
            directives = scan(tree, path)
            return compile(tree, path, "exec", dont_inherit=True), directives
        return compile(data, path, "exec", dont_inherit=True), _PLAIN
    except SyntaxError as exc:
        if not exc.lineno:
            _place(exc, data, path)
        raise
    except ValueError as exc:  # NUL bytes before 3.12 (3.12+: a SyntaxError with no line)
        error = SyntaxError(str(exc))
        _place(error, data, path)
        raise error from None


def _place(exc: SyntaxError, data: bytes, path: str) -> None:
    """Give ``exc`` the line that compile() could not name (0 or None) when it can be found."""
    line = _undecodable_line(data)
    if line:
        exc.filename = path
        exc.lineno = line
        exc.offset = None
        exc.text = data.splitlines()[line - 1].decode("latin-1")


def _undecodable_line(data: bytes) -> int:
    """Return the line of a NUL byte, a bad coding cookie (PEP 263) or the first byte the
    declared encoding cannot decode; 0 if none is found."""
    nul = data.find(b"\0")
    if nul >= 0:
        return data.count(b"\n", 0, nul) + 1
    import io
    import re
    import tokenize

    cookie = 0
    for number, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").splitlines()[:2], 1):
        if re.match(rb"[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+", raw):  # PEP 263
            cookie = number
            break
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        return data.count(b"\n", 0, exc.start) + 1
    except (SyntaxError, LookupError):
        return cookie or 1
    return cookie


def failure_location(exc: BaseException, path: str) -> str:
    """Return ``file:line`` where loading ``path`` failed, as exactly as it can be found.

    The innermost frame running the module file wins (also for a ``SyntaxError`` raised by an
    ``eval`` or ``ast.literal_eval`` in the body); then an error's own place (the file's
    ``SyntaxError``, a ``DirectiveError``); else just the file.
    """
    if isinstance(exc, SyntaxError) and exc.filename == path and exc.lineno:
        return f"{shown(path)}:{exc.lineno}"
    found = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            found = tb.tb_lineno
        tb = tb.tb_next
    if found:
        return f"{shown(path)}:{found}"
    line = getattr(exc, "lineno", None)
    filename = getattr(exc, "filename", None)
    pseudo = isinstance(filename, str) and filename.startswith("<") and filename.endswith(">")
    if isinstance(line, int) and line > 0 and isinstance(filename, str) and filename and not pseudo:
        return f"{shown(filename)}:{line}"
    return shown(path)


def new_module(
    fullname: str, path: str, loader: importlib.abc.Loader, namespace: Mapping[str, object]
) -> types.ModuleType:
    """Create an empty module object for ``path`` with the injected names already bound.

    Its import attributes are the running Python's own (``module_from_spec``): 3.15 sets no
    ``__cached__``; before it, ``__cached__`` is ``None`` (no bytecode is read or written).
    """
    spec = ModuleSpec(fullname, None, origin=path)
    spec.has_location = True
    module = importlib.util.module_from_spec(spec)  # loader None: no create_module() call
    spec.loader = loader
    module.__loader__ = loader
    if getattr(module, "__cached__", None) is not None:
        module.__cached__ = None  # type: ignore[attr-defined]
    module.__dict__.update(namespace)
    return module


def execute(code: types.CodeType, module: types.ModuleType, source: Source) -> None:
    """Run the module body; its tracebacks show exactly the lines that were compiled.

    After a failed body, call ``lines.restore`` on the published version and ``lines.retire``
    on this one; after publishing, ``lines.retire`` on the version it replaced.
    """
    lines.show(module, source.path, source.data)
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
            # A publication since create_module left the version handed there stale: put the
            # current one under the alias (the import system reads sys.modules again after).
            self._current(self.name)

    def get_filename(self, fullname: Optional[str] = None) -> str:
        """Return the module file's path."""
        return self.path

    def _data(self) -> bytes:
        source = read_source(self.path)
        if source is None:
            raise ModuleFileError(f"{shown(self.path)} is gone (deleted or renamed)", self.path)
        return source.data

    def get_code(self, fullname: Optional[str] = None) -> types.CodeType:
        """Compile the module file as it is on disk now (for tools that run it themselves)."""
        return compile_source(self._data(), self.path)[0]

    def get_source(self, fullname: Optional[str] = None) -> str:
        """Return the module file's text as it is on disk now."""
        return importlib.util.decode_source(self._data())

    def is_package(self, fullname: Optional[str] = None) -> bool:
        """Reloadable modules are single files, never packages."""
        return False

    def __repr__(self) -> str:
        return f"<PmncLoader {self.name!r} from {self.path!r}>"
