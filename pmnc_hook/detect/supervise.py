"""Keep the native watcher working: start it, follow switched directories, replace it, or fall
back to stat polling with one warning saying why."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from typing import Optional

from pmnc_hook._settings import DEFAULT_POLL_FALLBACK
from pmnc_hook.detect.interfaces import Backend, BackendFactory, DetectMode, Notify

__all__ = ("Supervisor",)

_log = logging.getLogger("pmnc_hook.detect")

# A watcher whose thread dies this soon after a (re)start is not restarted again: fall back.
QUICK_DEATH = 10.0


def _identity(directory: str) -> Optional[tuple[str, int, int]]:
    """Return what a module directory is now (its real path and inode), ``None`` if missing."""
    try:
        st = os.stat(directory)
    except OSError:
        return None
    return os.path.realpath(directory), st.st_dev, st.st_ino


def _hint(exc: Optional[BaseException]) -> str:
    """Say what the user can do about a watcher that cannot run."""
    text = str(exc) if exc is not None else ""
    if isinstance(exc, ImportError):
        return " Install watchdog for instant change detection."
    if (isinstance(exc, OSError) and exc.errno in (24, 28)) or "inotify" in text.lower():
        return (
            " The inotify limits are exhausted: raise them, e.g. "
            "sysctl fs.inotify.max_user_watches=524288 and "
            "sysctl fs.inotify.max_user_instances=1024."
        )
    return " Check that the module directories exist and are readable."


class Supervisor:
    """Own the native watcher of some module directories, and decide the detection mode.

    Called from one thread at a time (the detector's, or the one starting or stopping it).
    """

    def __init__(
        self,
        make_backend: Optional[BackendFactory],
        notify: Notify,
        directories: Sequence[str],
        poll: Optional[float],
    ) -> None:
        self._make_backend = make_backend
        self._notify = notify
        self.directories = tuple(directories)
        self.poll = poll
        self.mode: DetectMode = "poll"
        self.fallback_reason: Optional[str] = None
        self.backend: Optional[Backend] = None
        self._identities = {d: _identity(d) for d in self.directories}
        self._restarted_at = 0.0

    def start(self) -> None:
        """Start the native watcher unless polling was asked for (or there is none)."""
        if self.poll is None and self._make_backend is not None:
            self._start_backend("the native watcher could not start")

    def _start_backend(self, failure: str) -> None:
        assert self._make_backend is not None
        try:
            backend = self._make_backend(self._notify)
            backend.start()
        except Exception as exc:
            self._fall_back(f"{failure}: {exc!r}", exc)
            return
        self.backend = backend
        self.mode = "watch"

    def _fall_back(self, reason: str, exc: Optional[BaseException] = None) -> None:
        interval = self.poll or DEFAULT_POLL_FALLBACK
        self.poll = interval
        self.mode = "poll"
        if self.fallback_reason is not None:
            return  # one warning, not one per failure
        self.fallback_reason = reason
        _log.warning(
            "%s; falling back to stat polling every %.2f s (changes are still reloaded).%s",
            reason,
            interval,
            _hint(exc),
        )

    def check(self) -> list[str]:
        """Follow switched or replaced module directories; replace a dead watcher.

        Return the directories whose path now names another directory (or nothing).
        """
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
        elif backend is not None and backend.alive():
            backend.housekeeping()
        elif backend is not None and present:
            if time.monotonic() - self._restarted_at < QUICK_DEATH:
                self.backend = None
                self._stop_backend(backend)
                self._fall_back("the native watcher's thread stopped")
            else:
                self._restart("the native watcher's thread stopped and could not restart")
        return changed

    def _restart(self, failure: str) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            self._stop_backend(backend)
        self._restarted_at = time.monotonic()
        self._start_backend(failure)

    @staticmethod
    def _stop_backend(backend: Backend, timeout: Optional[float] = 0.5) -> None:
        try:
            backend.stop(timeout)
        except Exception:
            _log.debug("stopping the watcher failed", exc_info=True)

    def stop(self, timeout: float) -> None:
        """Stop the watcher and join its threads."""
        backend, self.backend = self.backend, None
        if backend is not None:
            backend.stop(timeout)

    def forget_after_fork(self) -> None:
        """In a forked child: let go of the parent's watcher without calling into it."""
        backend, self.backend = self.backend, None
        if backend is not None:
            try:
                backend.forget_after_fork()
            except Exception:
                _log.debug("releasing the parent's watcher failed", exc_info=True)
