"""Reload listeners registered by installed distributions (entry-point group
``pmnc_hook.listeners``), loaded once per process; a broken one is logged and skipped."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from pmnc_hook._fork import at_fork
from pmnc_hook.reload.events import listeners

__all__ = ("GROUP", "load_listeners", "loaded")

GROUP = "pmnc_hook.listeners"

_log = logging.getLogger("pmnc_hook.plugins")
# Guards _loaded: listeners are loaded once per process, at the first install.
_lock = threading.Lock()
_loaded = False


def _after_fork_in_child() -> None:
    global _lock
    _lock = threading.Lock()


at_fork(after_in_child=_after_fork_in_child)


def _entry_points() -> list[Any]:
    if sys.version_info >= (3, 10):
        from importlib.metadata import entry_points
    else:  # pragma: no cover - exercised on 3.9 only
        from importlib_metadata import entry_points
    return list(entry_points(group=GROUP))


def loaded() -> bool:
    """Tell whether the entry-point listeners were loaded in this process."""
    return _loaded


def load_listeners() -> None:
    """Subscribe every entry-point listener (once per process)."""
    global _loaded
    with _lock:
        if _loaded:
            return
        _loaded = True
    try:
        points = _entry_points()
    except Exception:
        _log.exception("reading the %s entry points failed", GROUP)
        return
    for point in points:
        try:
            callback = point.load()
        except Exception:
            _log.exception("reload listener %s (%s) failed to load", point.name, point.value)
            continue
        if not callable(callback):
            _log.error("reload listener %s (%s) is not callable", point.name, point.value)
            continue
        listeners.subscribe(callback)
        _log.debug("reload listener %s (%s) subscribed", point.name, point.value)
