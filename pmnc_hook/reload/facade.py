"""``pmnc``: the facade whose attributes are the current versions of reloadable modules.

Each loaded module is a plain attribute of the one ``Pmnc`` instance, so an access to an
unchanged module is an ordinary instance attribute hit: no lock, no stat, no code of ours, and
CPython 3.12+ specializes it like any instance attribute (``LOAD_ATTR_INSTANCE_VALUE``).
``__getattr__`` runs only on a miss (first access, an unknown name, or a module taken off
because a change-set holds it) and hands over to the registry.

The instance is never given another class and its ``__dict__`` is never touched: either
costs it its inline attribute values for good on 3.13+, and every later hit becomes an
unspecialized lookup (2-2.7 times a plain module attribute). Attributes are written only by
``put`` and ``take_off`` (the registry's), under ``write_lock``, with
``object.__setattr__``/``object.__delattr__``, and mirrored in ``_shown``.

While a module body runs somewhere, its reads through ``pmnc`` must be seen (its
dependencies): ``record_accesses(True)`` takes every attribute off, so every access is a miss
that goes through the registry (which notes it); ``put`` and ``take_off`` then change only
the mirror, and ``record_accesses(False)`` puts the mirror back on.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Optional

from pmnc_hook import _deferred
from pmnc_hook._errors import PmncHookError, UnknownModuleError

if TYPE_CHECKING:
    from pmnc_hook.reload.registry import Registry

__all__ = ("Pmnc", "bind", "pmnc", "put", "record_accesses", "take_off")

_registry: Optional[Registry] = None
# Held for every write to the facade's attributes and to the two below (a leaf lock).
write_lock = threading.Lock()
_shown: dict[str, object] = {}  # what is on the facade, or would be if it were not recording
_recording = False


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


pmnc = Pmnc()


def bind(registry: Optional[Registry]) -> None:
    """Make ``pmnc`` serve ``registry`` (``None``: nothing is installed)."""
    global _registry
    _registry = registry


def put(name: str, value: object) -> None:
    """Make ``pmnc.<name>`` a plain attribute holding ``value``."""
    with write_lock:
        _shown[name] = value
        if not _recording:
            object.__setattr__(pmnc, name, value)


def take_off(name: str) -> None:
    """Remove ``pmnc.<name>``: its next access is a miss (``__getattr__``)."""
    with write_lock:
        if _shown.pop(name, None) is not None and not _recording:
            object.__delattr__(pmnc, name)


def record_accesses(on: bool) -> None:
    """Take every attribute off (every access then goes through the registry, which notes
    it), or put them back."""
    global _recording
    with write_lock:
        if on == _recording:
            return
        _recording = on
        for name, value in _shown.items():
            if on:
                object.__delattr__(pmnc, name)
            else:
                object.__setattr__(pmnc, name, value)


def reset_after_fork() -> None:
    """In a forked child: no thread that is gone holds ``write_lock``."""
    global write_lock
    write_lock = threading.Lock()
