"""Turn raw change notices into settled "this module changed" marks on the registry.

Two sources feed it: the native watcher's events, and a stat sweep over the loaded modules
(every ``poll`` seconds in poll mode; every ``BACKUP_SWEEP`` seconds in watch mode, to catch
what events miss: queue overflows, network file systems whose watches never fire). A noticed
path is confirmed only after it has settled: no event and an unchanged stat for
``SETTLE_SECONDS``, so a file caught half-written is never published. Confirming compares the
content with the published version and keeps the bytes it read for the reload.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import Callable, Optional, Protocol

from pmnc_hook._settings import DEFAULT_POLL_FALLBACK, SETTLE_SECONDS
from pmnc_hook.reload.source import Fingerprint, StatKey, Unsettled, stat_key

__all__ = ("BACKUP_SWEEP", "Detector")

_log = logging.getLogger("pmnc_hook.detect")

BACKUP_SWEEP = 5.0
_TICK = 1.0
# A file written in place is still open until its close event: wait that long at most for it.
MAX_OPEN_WAIT = 10.0


class Target(Protocol):
    """What the detector needs from the registry."""

    def watched(self) -> list[tuple[str, Optional[Fingerprint]]]: ...

    def confirm(
        self, path: str, *, settled: bool, expect: Optional[StatKey] = None
    ) -> Optional[str]: ...

    def commit(self) -> list[str]: ...


class Backend(Protocol):
    """A native watcher: ``start`` raises if it cannot run."""

    def start(self) -> None: ...

    def alive(self) -> bool: ...

    def stop(self, timeout: Optional[float] = ...) -> None: ...

    def housekeeping(self) -> None: ...

    def forget_after_fork(self) -> None: ...


def _identity(directory: str) -> Optional[tuple[str, int, int]]:
    """Return what a module directory is now (its real path and inode), ``None`` if missing."""
    try:
        st = os.stat(directory)
    except OSError:
        return None
    return os.path.realpath(directory), st.st_dev, st.st_ino


class Detector:
    """One background thread: settles notices, sweeps, and keeps the watcher working.

    Every ``_TICK`` seconds it checks what each module directory is: a symlink switched to
    another release, or a directory moved away and replaced, restarts the watcher on what the
    path names now and re-checks every loaded module of that directory. A watcher that cannot
    start, or whose thread dies, is replaced by stat polling, with one warning saying why.
    """

    def __init__(
        self,
        target: Target,
        make_backend: Optional[Callable[[Callable[[str, Optional[bool]], None]], Backend]],
        *,
        directories: Sequence[str] = (),
        poll: Optional[float],
        settle: float = SETTLE_SECONDS,
    ) -> None:
        self._target = target
        self._make_backend = make_backend
        self.directories = tuple(directories)
        self.poll = poll
        self.settle = settle
        # Guards _pending and _stopping; _wake is signalled on new notices and on stop.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        # path -> (deadline, stat key when noticed, since when it looks open for writing)
        self._pending: dict[str, tuple[float, Optional[StatKey], Optional[float]]] = {}
        self._stopping = False
        self._thread: Optional[threading.Thread] = None
        self._identities = {d: _identity(d) for d in self.directories}
        self._restarted_at = 0.0
        self.backend: Optional[Backend] = None
        self.mode = "poll"
        self.fallback_reason: Optional[str] = None
        self.ready = threading.Event()

    # -- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the watcher (or polling) and the detector thread."""
        if self.poll is None and self._make_backend is not None:
            self._start_backend("the native watcher could not start")
        self._thread = threading.Thread(target=self._run, name="pmnc_hook-detector", daemon=True)
        self._thread.start()
        self.ready.set()

    def _start_backend(self, failure: str) -> bool:
        assert self._make_backend is not None
        try:
            backend = self._make_backend(self.notify)
            backend.start()
        except Exception as exc:
            self._fall_back(f"{failure}: {exc!r}", exc)
            return False
        self.backend = backend
        self.mode = "watch"
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the watcher and the detector thread, and join them."""
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.stop(timeout)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def forget_after_fork(self) -> None:
        """In a forked child: let go of what this (the parent's) detector holds, without
        calling into its watcher or taking its locks."""
        backend, self.backend = self.backend, None
        if backend is not None:
            try:
                backend.forget_after_fork()
            except Exception:
                _log.debug("releasing the parent's watcher failed", exc_info=True)

    def threads_alive(self) -> bool:
        """Tell whether the detector thread is running."""
        return self._thread is not None and self._thread.is_alive()

    def _fall_back(self, reason: str, exc: Optional[BaseException] = None) -> None:
        interval = self.poll or DEFAULT_POLL_FALLBACK
        self.poll = interval
        self.mode = "poll"
        if self.fallback_reason is not None:
            return  # one warning, not one per failure
        self.fallback_reason = reason
        hint = " Check that the module directories exist and are readable."
        text = str(exc) if exc is not None else ""
        if isinstance(exc, ImportError):
            hint = " Install watchdog for instant change detection."
        elif (isinstance(exc, OSError) and exc.errno in (24, 28)) or "inotify" in text.lower():
            hint = (
                " The inotify limits are exhausted: raise them, e.g. "
                "sysctl fs.inotify.max_user_watches=524288 and "
                "sysctl fs.inotify.max_user_instances=1024."
            )
        _log.warning(
            "%s; falling back to stat polling every %.2f s (changes are still reloaded).%s",
            reason,
            interval,
            hint,
        )

    # -- notices ------------------------------------------------------------------------------

    def notify(self, path: str, writing: Optional[bool] = None) -> None:
        """Note that ``path`` may have changed; it is confirmed once it has settled.

        ``writing``: True for a write event (the file may still be open), False for an event
        that ends a write (closed, moved into place, deleted), None when unknown (a sweep).
        """
        key = stat_key(path)
        now = time.monotonic()
        with self._lock:
            old = self._pending.get(path)
            since = old[2] if old else None
            if writing:
                since = since or now
            elif writing is False:
                since = None
            self._pending[path] = (now + self.settle, key, since)
            self._wake.notify()

    def _run(self) -> None:
        next_sweep = time.monotonic() + self._sweep_interval()
        next_liveness = time.monotonic() + _TICK
        while True:
            with self._lock:
                if self._stopping:
                    return
                now = time.monotonic()
                deadline = min(next_sweep, next_liveness)
                if self._pending:
                    deadline = min(deadline, min(p[0] for p in self._pending.values()))
                if deadline > now:
                    self._wake.wait(deadline - now)
                if self._stopping:
                    return
                now = time.monotonic()
                due = [(p, k, o) for p, (d, k, o) in self._pending.items() if d <= now]
                for path, _, _ in due:
                    del self._pending[path]
            try:
                self._settle(due)
                if now >= next_liveness:
                    next_liveness = now + _TICK
                    self._tick()
                if now >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + self._sweep_interval()
            except Exception:
                _log.exception("change detection failed; it goes on")

    def _sweep_interval(self) -> float:
        return self.poll if self.mode == "poll" and self.poll else BACKUP_SWEEP

    def _settle(self, due: list[tuple[str, Optional[StatKey], Optional[float]]]) -> None:
        try:
            self._settle_each(due)
        finally:
            if due:
                self._target.commit()

    def _settle_each(self, due: list[tuple[str, Optional[StatKey], Optional[float]]]) -> None:
        for path, key, since in due:
            now = time.monotonic()
            now_key = stat_key(path)
            if now_key is not None and now_key.size == 0 and now_key == key:
                # Most likely truncated by a writer that has not written yet: never published
                # by detection (the next write is noticed again); refresh() can load it.
                _log.debug("%s is empty: not reloading it until it has content", path)
                continue
            unsettled = now_key != key or (since is not None and now - since < MAX_OPEN_WAIT)
            if not unsettled:
                try:
                    self._target.confirm(path, settled=False, expect=now_key)
                    continue
                except Unsettled:
                    pass
            with self._lock:  # still being written: wait for it to settle
                self._pending.setdefault(path, (now + self.settle, now_key, since))

    def _tick(self) -> None:
        """Follow switched or replaced module directories; replace a dead watcher."""
        identities = {d: _identity(d) for d in self.directories}
        changed = [d for d in self.directories if identities[d] != self._identities.get(d)]
        self._identities = identities
        present = all(identities.values())
        backend = self.backend
        wanted = self._make_backend is not None and (
            backend is not None or self.fallback_reason is None
        )
        if changed:
            for d in changed:
                where = identities[d]
                _log.info(
                    "module directory %s %s", d, f"is now {where[0]}" if where else "is missing"
                )
            if wanted and present:
                self._restart("the native watcher could not follow the module directories")
            moved = set(changed)
            for path, _ in self._target.watched():
                if os.path.dirname(path) in moved:
                    self.notify(path)
        elif backend is not None and backend.alive():
            backend.housekeeping()
        elif backend is not None and not backend.alive() and present:
            quick = time.monotonic() - self._restarted_at < 10 * _TICK
            if quick:
                self.backend = None
                self._stop_backend(backend)
                self._fall_back("the native watcher's thread stopped")
            else:
                self._restart("the native watcher's thread stopped and could not restart")

    def _restart(self, failure: str) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            self._stop_backend(backend)
        self._restarted_at = time.monotonic()
        self._start_backend(failure)

    @staticmethod
    def _stop_backend(backend: Backend) -> None:
        try:
            backend.stop(0.5)
        except Exception:
            _log.debug("stopping the watcher failed", exc_info=True)

    def sweep(self) -> None:
        """Stat every loaded module; note those whose stat no longer proves them unchanged."""
        for path, fingerprint in self._target.watched():
            if fingerprint is None or not fingerprint.matches(stat_key(path)):
                self.notify(path)
