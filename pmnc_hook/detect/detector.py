"""Run change detection: one background thread that settles notices, sweeps, and supervises.

Two sources feed it: the native watcher's events, and stat sweeps over the loaded modules
(every ``poll`` seconds in poll mode; every ``BACKUP_SWEEP`` seconds in watch mode, to catch
what events miss). Every ``_TICK`` seconds it has the supervisor check the module directories
and the watcher. The rules for when a noticed file is judged, and how changes are grouped into
change-sets, are in ``settle.py``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Optional

from pmnc_hook._settings import SETTLE_SECONDS
from pmnc_hook.detect import polling
from pmnc_hook.detect.interfaces import Backend, BackendFactory, DetectMode, Notice, Target
from pmnc_hook.detect.settle import EMPTY_WAIT, WINDOW, Settler
from pmnc_hook.detect.supervise import Supervisor

__all__ = ("BACKUP_SWEEP", "Detector")

_log = logging.getLogger("pmnc_hook.detect")

# Read at each use (tests push it out of reach to prove that events alone find a change).
BACKUP_SWEEP = 5.0
_TICK = 1.0


class Detector:
    """Find changed module files and report them to ``target`` (the registry).

    ``make_backend``: makes the native watcher (``None``: stat polling only). ``poll``: seconds
    between sweeps instead of the watcher (``None``: the watcher, with polling as fallback).
    ``settle``, ``window``, ``empty_wait``: see ``settle.py``.
    """

    def __init__(
        self,
        target: Target,
        make_backend: Optional[BackendFactory],
        *,
        directories: Sequence[str] = (),
        poll: Optional[float],
        settle: float = SETTLE_SECONDS,
        window: float = WINDOW,
        empty_wait: float = EMPTY_WAIT,
    ) -> None:
        self._target = target
        self._settler = Settler(target, settle=settle, window=window, empty_wait=empty_wait)
        self._supervisor = Supervisor(make_backend, self.notify, directories, poll)
        self._thread: Optional[threading.Thread] = None
        self.ready = threading.Event()

    @property
    def directories(self) -> tuple[str, ...]:
        return self._supervisor.directories

    @property
    def mode(self) -> DetectMode:
        """How changes are found now: ``"watch"`` (events) or ``"poll"`` (stat sweeps)."""
        return self._supervisor.mode

    @property
    def poll(self) -> Optional[float]:
        """Seconds between sweeps in poll mode (set on fallback if the user gave none)."""
        return self._supervisor.poll

    @property
    def fallback_reason(self) -> Optional[str]:
        """Why the native watcher is not used, if it failed; ``None`` otherwise."""
        return self._supervisor.fallback_reason

    @property
    def backend(self) -> Optional[Backend]:
        return self._supervisor.backend

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the watcher (or polling) and the detector thread."""
        self._supervisor.start()
        self._thread = threading.Thread(target=self._run, name="pmnc_hook-detector", daemon=True)
        self._thread.start()
        self.ready.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the watcher and the detector thread, and join them."""
        self._settler.close()
        self._supervisor.stop(timeout)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def forget_after_fork(self) -> None:
        """In a forked child: let go of what this (the parent's) detector holds, without
        calling into its watcher or taking its locks."""
        self._supervisor.forget_after_fork()

    def threads_alive(self) -> bool:
        """Tell whether the detector thread is running."""
        return self._thread is not None and self._thread.is_alive()

    # -- notices --------------------------------------------------------------------------

    def notify(self, path: str, kind: Notice = Notice.EVENT) -> None:
        """Note that ``path`` may have changed; it is judged once it has settled."""
        self._settler.notice(path, kind)

    def sweep(self) -> None:
        """Stat every loaded module; notice those whose stat no longer proves them unchanged."""
        polling.sweep(self._target, self.notify)

    def _run(self) -> None:
        now = time.monotonic()
        next_sweep, next_tick = now + self._sweep_interval(), now + _TICK
        while self._settler.wait(min(next_sweep, next_tick)):
            now = time.monotonic()
            try:
                if now >= next_tick:
                    next_tick = now + _TICK
                    self._tick(now)
                if now >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + self._sweep_interval()
                self._settler.settle()
            except Exception:
                _log.exception("change detection failed; it goes on")

    def _sweep_interval(self) -> float:
        poll = self._supervisor.poll
        return poll if self.mode == "poll" and poll else BACKUP_SWEEP

    def _tick(self, now: float) -> None:
        """Have the supervisor check directories and watcher; re-check what a switch moved."""
        backend = self._supervisor.backend
        moved = set(self._supervisor.check())
        if self._supervisor.backend is not backend:
            # A new watcher, or none: a close event may have been missed in between.
            self._settler.forget_writers()
        if moved:
            for path, _ in self._target.watched():
                if os.path.dirname(path) in moved:
                    self.notify(path, Notice.EVENT)
        self._settler.report_long_writes(now)
