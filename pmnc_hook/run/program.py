"""Find the program to run and make its ``__main__`` module, as ``python SCRIPT`` / ``-m`` do.

The module carries what this Python's own ``python SCRIPT`` / ``python -m MODULE`` give
``__main__`` and nothing it dropped: ``__spec__`` is the source of truth; ``__cached__`` only
before 3.15 (3.15 neither sets nor reads it); a pre-made ``__annotations__`` only before 3.14
(PEP 649 makes it lazy).
"""

from __future__ import annotations

import builtins
import importlib.util
import os
import sys
import types
from dataclasses import dataclass
from importlib.machinery import ModuleSpec, PathFinder, SourceFileLoader, SourcelessFileLoader
from typing import Any, Optional

from pmnc_hook._errors import PmncHookError

__all__ = ("Program", "UsageError", "code", "locate_module", "locate_path")


class UsageError(PmncHookError):
    """The command line names nothing runnable, or a setting is bad; exit status 2."""


@dataclass
class Program:
    """The located program: its ``__main__`` module (not yet run) and where it lives."""

    module: types.ModuleType
    argv0: str
    path0: str  # what Python would put in sys.path[0]
    directory: str  # the default module directory
    exclude: tuple[str, ...]  # files that are the program itself, not reloadable modules


def _main_module(
    spec: Optional[ModuleSpec], file: Optional[str], loader: Any, package: Optional[str]
) -> types.ModuleType:
    module = types.ModuleType("__main__")
    attributes: dict[str, object] = {
        "__spec__": spec,
        "__file__": file,
        "__loader__": loader,
        "__package__": package,
    }
    if sys.version_info < (3, 15):
        attributes["__cached__"] = spec.cached if spec is not None else None
    if sys.version_info < (3, 14):
        attributes["__annotations__"] = {}
    module.__dict__.update(attributes)
    module.__builtins__ = builtins  # type: ignore[attr-defined]
    return module


def locate_path(target: str) -> Program:
    """Locate a script file, or a directory or zip file holding ``__main__.py``."""
    path = os.path.abspath(target)
    if os.path.isdir(path) or (os.path.isfile(path) and _is_zip(path)):
        spec = PathFinder.find_spec("__main__", [path])
        if spec is None or spec.loader is None:
            raise UsageError(f"can't find '__main__' module in {target!r}")
        module = _main_module(spec, spec.origin, spec.loader, "")
        directory = path if os.path.isdir(path) else os.path.dirname(path)
        return Program(module, target, path, directory, ())
    if not os.path.isfile(path):
        if os.path.exists(path):
            raise UsageError(f"can't open file {path!r}: not a regular file")
        raise UsageError(f"can't open file {path!r}: [Errno 2] No such file or directory")
    loader: Any
    if path.endswith(".pyc"):
        loader = SourcelessFileLoader("__main__", path)
    else:
        loader = SourceFileLoader("__main__", path)
    module = _main_module(None, path, loader, None)
    # Like Python, sys.path[0] is the directory of the script with symlinks resolved.
    real = os.path.realpath(path)
    return Program(module, target, os.path.dirname(real), os.path.dirname(real), (real,))


def _is_zip(path: str) -> bool:
    import zipfile

    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def locate_module(name: str) -> Program:
    """Find module ``name`` (a package: its ``__main__``) as ``python -m`` does.

    Imports the parent packages, as Python does; their errors propagate.
    """
    spec = _find_spec(name)
    if spec.submodule_search_locations is not None:
        main_name = name + ".__main__"
        main_spec = _find_spec(main_name)
        if main_spec.submodule_search_locations is not None:
            raise UsageError(f"cannot use package {name!r} as __main__ package")
        spec = main_spec
    if spec.loader is None or not hasattr(spec.loader, "get_code"):
        raise UsageError(f"no code object available for {name!r}")
    # As runpy does for python -m: __file__ and argv[0] are the origin, whatever it is.
    origin = spec.origin or name
    module = _main_module(spec, spec.origin, spec.loader, spec.parent)
    exclude = (os.path.realpath(origin),) if spec.has_location and os.path.isfile(origin) else ()
    return Program(module, origin, os.getcwd(), os.getcwd(), exclude)


def _find_spec(name: str) -> ModuleSpec:
    """Return the spec of ``name`` (importing its parent packages); UsageError if none."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise UsageError(f"error while finding module specification for {name!r} ({exc})") from None
    if spec is None:
        if name.endswith(".__main__"):
            package = name[: -len(".__main__")]
            raise UsageError(
                f"no module named {name}; {package!r} is a package and cannot be directly executed"
            )
        raise UsageError(f"no module named {name!r}")
    return spec


def code(program: Program) -> types.CodeType:
    """Return the program's code object (a script is compiled, never cached, as Python does)."""
    module = program.module
    loader = module.__loader__
    spec = module.__spec__
    if isinstance(loader, SourceFileLoader) and spec is None:
        filename = module.__file__
        assert filename is not None
        return compile(loader.get_data(filename), filename, "exec", dont_inherit=True)
    name = spec.name if spec is not None else "__main__"
    result = loader.get_code(name)  # type: ignore[union-attr]
    if result is None:
        raise UsageError(f"no code object available for {program.argv0!r}")
    assert isinstance(result, types.CodeType)
    return result
