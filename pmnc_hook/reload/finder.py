"""The ``sys.meta_path`` finder: owns the namespace package, and catches direct imports.

It answers "not mine" at once for every name that is neither in the namespace package nor a
bare top-level name with a file in a module directory. ``import bar``, where Python would load
a managed ``bar.py``, is handed the managed module (with a ``PmncHookWarning`` at the
importing line) instead of creating a second, unmanaged copy; in strict mode it is refused.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
import threading
import types
from collections.abc import Sequence
from importlib.machinery import ModuleSpec, PathFinder
from typing import TYPE_CHECKING, Optional

from pmnc_hook._errors import DirectImportError, caller_outside, warn_at_caller
from pmnc_hook.reload.loader import PmncLoader

if TYPE_CHECKING:
    from pmnc_hook.reload.registry import Registry

__all__ = ("PmncFinder",)


class _NamespaceLoader(importlib.abc.Loader):
    """Hands out the namespace package module created at install time."""

    def __init__(self, module: types.ModuleType) -> None:
        self.module = module

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        return self.module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


# Modules whose frames stand between a finder and whoever asked it (pmnc_hook's own finders).
_MACHINERY = ("importlib.", "_frozen_importlib", "pmnc_hook.")


def _runpy_is_asking(name: str) -> bool:
    """Tell whether ``runpy`` (``python -m``, ``runpy.run_module``) is looking ``name`` up.

    Under ``python -m`` runpy's frames are at the bottom of every stack, so what counts is the
    nearest frame outside the import machinery: runpy's, with ``name`` as the module it runs.
    """
    frame: Optional[types.FrameType] = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        machinery = module == "importlib" or module.startswith(_MACHINERY)
        if not machinery or module.startswith("pmnc_hook.modules."):
            return module == "runpy" and frame.f_locals.get("mod_name") == name
        frame = frame.f_back
    return False


class PmncFinder(importlib.abc.MetaPathFinder):
    """Find specs for the namespace package's modules and for direct imports of them."""

    def __init__(self, registry: Registry, namespace: types.ModuleType, strict: bool) -> None:
        self.registry = registry
        self.namespace = namespace
        self.prefix = namespace.__name__ + "."
        self.strict = strict
        self._busy = threading.local()

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]] = None,
        target: Optional[types.ModuleType] = None,
    ) -> Optional[ModuleSpec]:
        """Return a spec for a managed module, or ``None`` ("not mine")."""
        if fullname == self.namespace.__name__:
            return ModuleSpec(fullname, _NamespaceLoader(self.namespace), is_package=True)
        if fullname.startswith(self.prefix):
            name = fullname[len(self.prefix) :]
            found = self.registry.resolve(name)
            if found is None:
                return None
            loader = PmncLoader(name, found[0], self.registry.current_module)
            spec = ModuleSpec(fullname, loader, origin=found[0])
            spec.has_location = True
            return spec
        if path is not None or "." in fullname or getattr(self._busy, "on", False):
            return None
        return self._direct_import(fullname)

    def _direct_import(self, name: str) -> Optional[ModuleSpec]:
        managed = self.registry.owns_file(name)
        if managed is None or _runpy_is_asking(name):
            return None  # python -m <name> runs the file as __main__: not an import
        self._busy.on = True
        try:
            ordinary = PathFinder.find_spec(name)
        finally:
            self._busy.on = False
        if ordinary is None or not ordinary.origin or not os.path.isfile(ordinary.origin):
            return None
        try:
            if not os.path.samefile(ordinary.origin, managed):
                return None
        except OSError:
            return None
        filename, lineno, _ = caller_outside()
        if self.strict:
            raise DirectImportError(
                f"{filename}:{lineno}: 'import {name}' would bypass reloading: {managed} is a "
                f"reloadable module; write pmnc.{name} instead (strict mode refuses direct "
                "imports)",
                name=name,
                path=managed,
            )
        warn_at_caller(
            f"'import {name}' gets the reloadable module {managed} as it is now: calls through "
            f"this name will not see reloads; write pmnc.{name} instead"
        )
        loader = PmncLoader(name, managed, lambda n: self.registry.add_alias(name, n))
        spec = ModuleSpec(name, loader, origin=managed)
        spec.has_location = True
        return spec
