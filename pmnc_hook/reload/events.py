"""Reload events and their listeners: ``on_reload`` callbacks and entry-point listeners."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Callable, Optional

__all__ = ("Listeners", "ReloadEvent", "listeners")

_log = logging.getLogger("pmnc_hook.events")


@dataclass(frozen=True)
class ReloadEvent:
    """One load attempt of one module.

    ``version`` is the version published after the attempt; ``generation`` the generation
    published then; ``changeset`` the names attempted together, sorted (``(name,)`` for a
    first load). ``rollback_of``/``restores``: for a rollback, the version it undid and the
    version whose source it published again.
    """

    name: str
    filename: str
    version: int
    ok: bool
    error: Optional[BaseException]
    duration: float
    generation: int = 0
    changeset: tuple[str, ...] = ()
    rollback_of: Optional[int] = None
    restores: Optional[int] = None


Listener = Callable[[ReloadEvent], object]


class Listeners:
    """The callbacks told about every load attempt; one that raises is logged and skipped."""

    def __init__(self) -> None:
        # Guards _callbacks; emit() copies under it and calls outside it.
        self._lock = threading.Lock()
        self._callbacks: list[Listener] = []
        self._plugins_loaded = False

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` after every load attempt; return the unsubscribe function."""
        if not callable(callback):
            raise TypeError(f"on_reload() needs a callable, got {callback!r}")
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                try:
                    self._callbacks.remove(callback)
                except ValueError:
                    pass

        return unsubscribe

    def emit(self, event: ReloadEvent) -> None:
        """Tell every listener; never raises. Entry-point listeners load at the first event."""
        if not self._plugins_loaded:
            from pmnc_hook.reload import plugins

            plugins.load_listeners()
            self._plugins_loaded = plugins.loaded()
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(event)
            except Exception:
                _log.exception(
                    "reload listener %r failed on the event for pmnc.%s", callback, event.name
                )

    def reset_after_fork(self) -> None:
        """Re-create the lock, which a vanished thread may have held at the fork."""
        self._lock = threading.Lock()


listeners = Listeners()
