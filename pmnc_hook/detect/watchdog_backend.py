"""The native watcher: watchdog reports writes, creations, moves and deletions of ``.py`` files.

watchdog is imported only here. Each watcher owns its inotify instance where watchdog allows
it (watchdog 7 otherwise shares one per process, whose reader thread does not survive a fork),
so a forked child can start a watcher of its own without touching the inherited one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any, Optional

from pmnc_hook.detect.interfaces import Notice, Notify

__all__ = ("Watcher",)

_log = logging.getLogger("pmnc_hook.watch")

# Event types that can mean new content, and what each says about the writer (a "moved"
# event's destination is an EVENT too: a file renamed into place is complete); "opened" and
# "closed_no_write" come from reads (our own among them), "attrib" from touch and chmod: none
# can change content.
_CONTENT_EVENTS: dict[str, Notice] = {
    "created": Notice.EVENT,  # held open for writing only if modify events follow
    "modified": Notice.WRITE,
    "closed": Notice.EVENT,  # inotify IN_CLOSE_WRITE: closed after being opened for writing
    "moved": Notice.EVENT,
    "deleted": Notice.EVENT,
}


class _ShutdownNoise(logging.Filter):
    """Drop the one error watchdog logs when stopped while an event is being read.

    watchdog 7 clears an emitter's watch group while its thread may still be reading, and
    then logs "queue_events() called when the thread is inactive": harmless, but it would
    put an error line on stderr of a program that exits normally.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in str(record.msg)


_noise_filter = _ShutdownNoise()


def _own_inotify_observer() -> tuple[Any, Any]:
    """Return (observer, inotify instance it owns or None), preferring a private instance."""
    import functools
    import inspect

    from watchdog.observers import Observer

    try:
        from watchdog.observers.api import BaseObserver
        from watchdog.observers.inotify import InotifyEmitter
        from watchdog.observers.inotify_c import InotifyFD
    except ImportError:
        return Observer(), None
    if "inotify_fd" not in inspect.signature(InotifyEmitter.__init__).parameters:
        return Observer(), None  # older watchdog: every emitter has its own instance anyway
    fd = InotifyFD()
    fd.start()
    emitter: Any = functools.partial(InotifyEmitter, inotify_fd=fd)
    return BaseObserver(emitter, timeout=0.5), fd


class Watcher:
    """Watch module directories (not recursively) and pass changed ``.py`` paths on."""

    def __init__(self, directories: Sequence[str], notify: Notify) -> None:
        self.directories = tuple(directories)
        self._notify = notify
        self._observer: Any = None
        self._inotify: Any = None

    def start(self) -> None:
        """Start watching; raise (``OSError``, ``ImportError``, ...) if the watcher cannot run."""
        from watchdog.events import FileSystemEventHandler

        logging.getLogger("watchdog.observers.inotify").addFilter(_noise_filter)  # idempotent
        notify = self._notify
        # Watch what each directory is now (watchdog does not follow a symlinked directory);
        # report paths under the name the user configured, which is how modules are known.
        real_to_given = {os.path.realpath(d): d for d in self.directories}

        def given(path: str) -> str:
            head, tail = os.path.split(path)
            directory = real_to_given.get(head)
            return os.path.join(directory, tail) if directory is not None else path

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: Any) -> None:
                if event.event_type not in _CONTENT_EVENTS or event.is_directory:
                    return
                kind = _CONTENT_EVENTS[event.event_type]
                src = event.src_path
                dest = getattr(event, "dest_path", "")
                for raw, said in ((src, kind), (dest, Notice.EVENT)):
                    path = os.fsdecode(raw) if raw else ""
                    if path.endswith(".py"):
                        notify(given(path), said)

        observer, inotify = _own_inotify_observer()
        self._observer, self._inotify = observer, inotify
        try:
            observer.start()
            handler = Handler()
            for real in real_to_given:
                observer.schedule(handler, real, recursive=False)
        except BaseException:
            self.stop()
            raise

    def _watchdog_objects(self) -> list[Any]:
        """Return the watchdog objects that may hold inotify descriptors or move records."""
        found: list[Any] = []
        if self._inotify is not None:
            found.append(self._inotify)
        observer = self._observer
        for emitter in list(getattr(observer, "emitters", ()) or ()):
            group = getattr(emitter, "_inotify", None)  # watchdog < 7: a buffer per emitter
            found.append(group)
            found.append(getattr(group, "_inotify", None))
        return [o for o in found if o is not None]

    def housekeeping(self) -> None:
        """Forget unmatched move records (watchdog 6 keeps one per rename, forever)."""
        for obj in self._watchdog_objects():
            clear = getattr(obj, "clear_move_records", None)
            if callable(clear):
                try:
                    clear()
                except Exception:
                    _log.debug("clearing watchdog's move records failed", exc_info=True)

    def forget_after_fork(self) -> None:
        """In a forked child: close the inherited inotify descriptors, calling nothing of
        watchdog's (its threads do not exist here, and closing through it would remove the
        parent's watches from the shared inotify instance)."""
        descriptors = set()
        for obj in self._watchdog_objects():
            for name in ("_inotify_fd", "_kill_r", "_kill_w"):
                fd = getattr(obj, name, None)
                if isinstance(fd, int) and fd >= 0:
                    descriptors.add(fd)
        for fd in descriptors:
            try:
                os.close(fd)
            except OSError:
                pass
        self._observer = self._inotify = None

    def alive(self) -> bool:
        """Tell whether the watcher's threads are still running."""
        observer = self._observer
        if observer is None or not observer.is_alive():
            return False
        emitters = getattr(observer, "emitters", ())
        if any(not e.is_alive() for e in emitters):
            return False
        return self._inotify is None or self._inotify.is_alive()

    def stop(self, timeout: Optional[float] = 2.0) -> None:
        """Stop and join the watcher's threads."""
        threads = (self._observer, "the watcher"), (self._inotify, "the inotify reader")
        self._observer = self._inotify = None
        for thread, what in threads:  # the observer first: it reads from the inotify reader
            if thread is None:
                continue
            try:
                thread.stop()
                thread.join(timeout)
            except Exception:
                _log.debug("stopping %s failed", what, exc_info=True)
