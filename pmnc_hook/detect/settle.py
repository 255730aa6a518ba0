"""Settle notices, have the target judge them, and group what changed into change-sets.

A noticed path is judged (``Target.confirm``) only once it has settled:

- no notice and an unchanged stat for ``settle`` seconds (editors write in steps);
- in watch mode, a file written and not closed since is never judged, however long its writer
  keeps it open: the close (or a rename into place, or a deletion) ends that;
- an empty file must also stay empty and unchanged for ``empty_wait`` seconds: a writer that
  truncated it may not have written yet, and a close event can describe the write before
  (events arrive late when threads compete for the GIL: the stat taken then is already of the
  truncated file).

A settled file is judged together with the module files that are symlinks to it (``links.py``).

Changes judged within one window form one change-set (``Target.commit``): the window opens with
a notice and closes once nothing noticed is still settling (files held open by a writer do not
count), or ``window`` seconds after it opened, whichever comes first, so a file rewritten
forever cannot hold the others back. Before it closes, every module file is looked at once:
one whose stat changed since it was last judged, with no notice yet (its event is late), joins
the window.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Optional

from pmnc_hook.detect.interfaces import Notice, Target
from pmnc_hook.detect.links import Links
from pmnc_hook.reload.source import StatKey, Unsettled, stat_key

__all__ = ("EMPTY_WAIT", "LONG_OPEN", "WINDOW", "Settler")

_log = logging.getLogger("pmnc_hook.detect")

# An empty file is judged once it has stayed empty this long.
EMPTY_WAIT = 2.0
# The longest a change-set's window stays open while other files keep changing.
WINDOW = 2.0
# A file open for writing this long is logged (once), so a reload that waits is explained.
LONG_OPEN = 10.0


@dataclass
class _Pending:
    """A noticed path waiting to settle."""

    deadline: float  # when to look at it again (ignored while its writer holds it open)
    key: Optional[StatKey]  # its stat when last noticed or looked at
    # Since when its writer holds it open (first WRITE with no EVENT after it); None when no
    # event says a writer holds it (stat polling knows nothing of writers).
    open_since: Optional[float] = None
    empty_since: Optional[float] = None  # first seen settled and empty
    reported: bool = False  # the long write was logged

    def settling(self) -> bool:
        return self.open_since is None

    def heard(self, kind: Notice, now: float) -> None:
        if kind is Notice.WRITE:
            self.open_since = self.open_since or now
        elif kind is Notice.EVENT:
            self.open_since, self.reported = None, False


class Settler:
    """Hold noticed paths until they settle; judge them; commit change-sets.

    ``notice`` may be called from any thread; ``wait``, ``settle`` and ``report_long_writes``
    only from the detector thread.
    """

    def __init__(
        self,
        target: Target,
        *,
        settle: float,
        window: float = WINDOW,
        empty_wait: float = EMPTY_WAIT,
    ) -> None:
        self._target = target
        self.settle_time = settle
        self.window = window
        self.empty_wait = empty_wait
        # Guards _pending (and the entries in it), _window_opened and _closed; the only lock
        # here, never held while calling the target or the file system. _wake: a notice
        # arrived, or close() was called.
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: dict[str, _Pending] = {}
        self._window_opened: Optional[float] = None
        self._closed = False
        # Detector thread only: names judged changed and not committed yet; known symlinks.
        self._staged: set[str] = set()
        self._looked: dict[str, Optional[StatKey]] = {}  # stats of late files already noticed
        self._links = Links()

    def notice(self, path: str, kind: Notice) -> None:
        """Note that ``path`` may have changed; it is judged once it has settled."""
        key = stat_key(path)
        now = time.monotonic()
        with self._lock:
            entry = self._pending.get(path)
            if entry is None:
                entry = self._pending[path] = _Pending(now + self.settle_time, key)
            elif kind is Notice.STAT and key == entry.key:
                return  # a sweep seeing the same stat again: nothing new happened
            else:
                entry.deadline = now + self.settle_time
                if key != entry.key:
                    entry.key, entry.empty_since = key, None
            entry.heard(kind, now)
            if self._window_opened is None:
                self._window_opened = now
            self._wake.notify()

    def forget_writers(self) -> None:
        """Stop trusting what events said about writers (the watcher was replaced or is gone:
        a close may have been missed); from now on those files settle on their stat alone."""
        with self._lock:
            for entry in self._pending.values():
                entry.heard(Notice.EVENT, 0.0)
            self._window_opened = self._window_opened or time.monotonic()

    def close(self) -> None:
        """Make ``wait`` return False from now on, waking it if it sleeps."""
        with self._lock:
            self._closed = True
            self._wake.notify_all()

    def wait(self, until: float) -> bool:
        """Sleep until ``until``, a settle deadline, the window's end, or a notice; return
        False once closed."""
        with self._lock:
            if self._closed:
                return False
            times = [e.deadline for e in self._pending.values() if e.settling()]
            if self._staged and self._window_opened is not None:
                times.append(self._window_opened + self.window)
            delay = min([until, *times]) - time.monotonic()
            if delay > 0:
                self._wake.wait(delay)
            return not self._closed

    def settle(self) -> None:
        """Judge every path that has settled; commit the change-set if its window closed."""
        now = time.monotonic()
        with self._lock:
            due = [(p, e) for p, e in self._pending.items() if e.settling() and e.deadline <= now]
            for path, _ in due:
                del self._pending[path]
        if due:
            modules = [path for path, _ in self._target.watched()]
            self._links.refresh(modules, [path for path, _ in due])
            for path, entry in due:
                if not self._waits_for_target(path):
                    self._judge(path, entry, self._links.judged_with(path))
        self._commit_if_closed(time.monotonic())

    def _waits_for_target(self, path: str) -> bool:
        """Tell whether ``path`` is a module symlink whose target has a notice of its own,
        which will judge ``path`` too once it settles (its writer may hold it open)."""
        target = self._links.target(path)
        with self._lock:
            return target is not None and target != path and target in self._pending

    def _judge(self, path: str, entry: _Pending, paths: list[str]) -> None:
        now = time.monotonic()
        key = stat_key(path)
        if key != entry.key:  # written since it was noticed: settle again
            entry.key, entry.empty_since = key, None
            self._repend(path, entry, now + self.settle_time)
            return
        if key is not None and key.size == 0:
            entry.empty_since = entry.empty_since or now
            if now < entry.empty_since + self.empty_wait:
                _log.debug("%s is empty: judged once it has stayed so", path)
                self._repend(path, entry, entry.empty_since + self.empty_wait)
                return
        for each in paths:  # the file itself, then module files that are symlinks to it
            try:
                name = self._target.confirm(each, settled=False, expect=key)
            except Unsettled:
                entry.key = stat_key(path)
                self._repend(path, entry, time.monotonic() + self.settle_time)
                return
            if name is not None:
                self._staged.add(name)

    def _repend(self, path: str, entry: _Pending, deadline: float) -> None:
        entry.deadline = deadline
        with self._lock:
            self._pending.setdefault(path, entry)  # a newer notice knows better

    def _commit_if_closed(self, now: float) -> None:
        with self._lock:
            settling = any(e.settling() for e in self._pending.values())
            opened = self._window_opened
            if not self._staged:
                if not settling:
                    self._window_opened = None
                return
            if settling and opened is not None and now < opened + self.window:
                return  # more of this change-set may be on its way
            self._window_opened = now if settling else None
            closing = opened is not None and now < opened + self.window
        if closing and self._late_changes():
            return  # files changed whose events are late: they join this change-set
        staged, self._staged = sorted(self._staged), set()
        self._looked.clear()
        names = self._target.commit()
        _log.debug("change-set committed: %s (judged changed: %s)", names, staged)

    def _late_changes(self) -> bool:
        """Notice the module files whose stat changed since they were last judged and that
        no notice is about yet (their events are late: the watcher's thread waits for the
        GIL while other threads run); tell whether there were any."""
        late = []
        with self._lock:
            pending = set(self._pending)
        for path, seen in self._target.watched():
            if path in pending or seen is None:
                continue
            key = stat_key(path)
            if key != seen.key and self._looked.get(path, seen.key) != key:
                self._looked[path] = key  # judged once per state (a deleted file stays so)
                late.append(path)
        for path in late:
            self.notice(path, Notice.STAT)
        return bool(late)

    def report_long_writes(self, now: float) -> None:
        """Log, once per write, a file whose writer has held it open for ``LONG_OPEN`` s."""
        with self._lock:
            long = [
                (path, entry)
                for path, entry in self._pending.items()
                if entry.open_since is not None
                and not entry.reported
                and now - entry.open_since >= LONG_OPEN
            ]
            for _, entry in long:
                entry.reported = True
        for path, entry in long:
            _log.info(
                "%s has been open for writing for %.0f s: it is reloaded once its writer closes "
                "it (pmnc_hook.refresh() reads it as it is now)",
                path,
                now - (entry.open_since or now),
            )
