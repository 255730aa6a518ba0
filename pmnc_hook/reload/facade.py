"""``pmnc``: the facade whose attributes are the current versions of reloadable modules.

Each loaded module is a plain attribute of the one ``Pmnc`` instance, so an access to an
unchanged module is an ordinary instance-dict hit: no lock, no stat, no code of ours.
``__getattr__`` runs only on a miss (first access, an unknown name, or a module taken off
because a change-set holds it) and hands over to the registry. Attributes are set and removed
with ``object.__setattr__``/``object.__delattr__`` only, never through ``__dict__`` (touching
the instance dict makes every later hit slower on CPython 3.12+). While a module body runs
somewhere, the instance's class is ``RecordingPmnc``, which also notes hits (dependencies).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Optional

from pmnc_hook import _deferred
from pmnc_hook._errors import PmncHookError, UnknownModuleError

if TYPE_CHECKING:
    from pmnc_hook.reload.registry import Registry

__all__ = ("Pmnc", "bind", "pmnc", "record_accesses")

_registry: Optional[Registry] = None
# Set by ``recording``: told of every module access made while the facade records.
on_access: Optional[Callable[[str], None]] = None


class Pmnc:
    """``pmnc.<name>`` is the current version of the reloadable module ``<name>``."""

    def __getattr__(self, name: str) -> Any:
        registry = _registry
        if registry is None:
            if _deferred.pending() and not name.startswith("__"):
                _deferred.finish()  # the PMNC_HOOK_PATH start-up waits for this first use
                return getattr(self, name)
            raise UnknownModuleError(name, ())
        if name.startswith("__"):
            raise UnknownModuleError(name, registry.directories)
        try:
            return registry.access(name)
        except PmncHookError as exc:
            # Start the traceback here: the user's frames and this one, not the library's
            # way down to where the error was found (the cause keeps its own traceback).
            raise exc.with_traceback(None) from exc.__cause__

    def __dir__(self) -> list[str]:
        registry = _registry
        if registry is None:
            return []
        names = set(registry.loaded_names())
        for directory in registry.directories:
            try:
                for entry in os.scandir(directory):
                    stem, ext = os.path.splitext(entry.name)
                    if ext == ".py" and registry.owns_file(stem):
                        names.add(stem)
            except OSError:
                continue
        return sorted(names)

    def __repr__(self) -> str:
        registry = _registry
        if registry is None:
            return "<pmnc (pmnc_hook is not installed)>"
        return f"<pmnc over {', '.join(registry.directories)}>"


class RecordingPmnc(Pmnc):
    """The facade while a module body runs somewhere: hits are noted too (dependencies)."""

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        notify = on_access
        if notify is not None and not name.startswith("__"):
            notify(name)
        return value


pmnc = Pmnc()


def bind(registry: Optional[Registry]) -> None:
    """Make ``pmnc`` serve ``registry`` (``None``: nothing is installed)."""
    global _registry
    _registry = registry


def record_accesses(on: bool) -> None:
    """Switch the facade between plain hits and hits that are noted (``RecordingPmnc``)."""
    pmnc.__class__ = RecordingPmnc if on else Pmnc
