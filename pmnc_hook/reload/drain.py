"""Publishing built change-sets: the drain, the moment of publication, postponement.

``Drains`` is the engine's publishing half (``Engine`` in ``engine.py`` is the pipeline that
feeds it). A ``Publication`` in ``ready`` is published by ``publish`` once nothing it waits
for is in flight; ``offer`` closes the gate and, when the caller may, waits for the drain;
``wait`` is every bounded thread wait on a publication; ``postpone`` gives up a drain past
its deadline (old versions keep serving, the built versions are kept for the retry, with
back-off). The lock discipline is in ``engine.py``'s docstring: ``_lock`` guards every field
here and the gate flags; nothing runs module code or waits for anything else while holding it.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Optional

from pmnc_hook.reload import gate, holders
from pmnc_hook.reload.changeset import ChangeSet
from pmnc_hook.reload.locks import Deadlock
from pmnc_hook.reload.publish import Phase, Publication, migrate

if TYPE_CHECKING:
    from pmnc_hook.reload.entry import Entry
    from pmnc_hook.reload.registry import Registry

__all__ = ("MAX_BACKOFF", "MIGRATION_WAIT", "Drains")

MAX_BACKOFF = 30.0
# A caller waiting for another thread's pmnc_init to finish gives up after this long.
MIGRATION_WAIT = 60.0


class Drains:
    """The publications of one hook on their way: drained, published, postponed."""

    def __init__(self, registry: Registry, drain_timeout: float) -> None:
        self.registry = registry
        self.drain_timeout = drain_timeout
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.ready: list[Publication] = []
        self.forking: Optional[int] = None  # a thread forking: no migration begins meanwhile
        self.failed: Optional[ChangeSet] = None
        self.closed = False

    def members(self) -> set[str]:
        """Return the names in every unpublished set (a consistent view: under the lock)."""
        with self._lock:
            return self.members_locked()

    def members_locked(self, but: Optional[Publication] = None) -> set[str]:
        """Like ``members`` (all but ``but``), for a caller holding the lock (the engine adds
        its stages)."""
        found: set[str] = set()
        for pub in self.ready:
            if pub is not but:
                found |= pub.changeset.members
        return found

    def show(self, entry: Entry, but: Optional[Publication] = None) -> None:
        """Put ``entry``'s published version on the facade unless an unpublished set (but
        ``but``, being published) holds it: its next access must come here and build that."""
        with self._lock:  # a commit hides its members under this lock: never undo that
            if entry.name not in self.members_locked(but):
                self.registry.expose(entry)

    def expose_members(self, changeset: ChangeSet) -> None:
        """Put the members of a set that failed back on the facade (their old versions)."""
        for name in changeset.members:
            entry = self.registry.entry(name)
            if entry is not None:
                self.show(entry)

    def update_gate(self) -> None:
        """Set the gate flags from the publications' phases (under the lock)."""
        closing = [p for p in self.ready if p.phase in (Phase.DRAINING, Phase.MIGRATING)]
        gate.closed = closing[0] if closing else None
        gate.watching = self.ready[0] if self.ready else None

    def _retry(self, pub: Publication) -> None:
        if pub.phase in (Phase.MIGRATING, Phase.DONE):
            return
        if pub.quiescent():
            self.publish(pub)
        elif pub.phase is Phase.POSTPONED and time.monotonic() >= pub.retry_at:
            self.offer(pub, may_wait=True)

    def offer(self, pub: Publication, may_wait: bool) -> None:
        """Publish ``pub`` now if nothing is in flight; else close the gate, and wait for the
        drain if this caller may (it holds nothing ``pub`` waits for, is no event loop)."""
        if pub.quiescent() and self.publish(pub):
            return
        with self._lock:
            if pub not in self.ready or (
                pub.phase is not Phase.DRAINING and (pub.phase is not Phase.POSTPONED)
            ):
                return
            if pub.phase is Phase.POSTPONED:
                pub.phase = Phase.DRAINING
                pub.deadline = time.monotonic() + self.drain_timeout
            self.update_gate()
        me = threading.get_ident()
        if not may_wait or gate.on_event_loop():
            return
        if holders.holds(pub.trackers, self.registry.locks.holds_any(me)):
            return
        self.wait(pub)

    def publish(self, pub: Publication) -> bool:
        """Run the publication (pmnc_inits, flip) if it is still quiescent; ``False`` if not."""
        with self._lock:
            forking = self.forking not in (None, threading.get_ident())
            if pub not in self.ready or pub.publisher is not None or self.closed or forking:
                return pub not in self.ready  # (while forking: retried, as a drain is)
            pub.phase = Phase.MIGRATING
            pub.publisher = threading.get_ident()
            self.update_gate()
        # The gate is closed to everyone now: a caller counted in before this look is seen.
        if not pub.quiescent():
            with self._lock:
                pub.phase = Phase.DRAINING
                pub.publisher = None
                self.update_gate()
                self._cond.notify_all()
            return False
        try:
            migrate(self.registry, pub)
        finally:
            with self._lock:
                if pub.failure is not None:
                    failed = self.failed
                    self.failed = pub.changeset if failed is None else failed.merged(pub.changeset)
                self._finish(pub)
            if pub.failure is not None:
                self.expose_members(pub.changeset)
        pub.after(self.registry)
        return True

    def _finish(self, pub: Publication) -> None:
        """Retire ``pub`` (published, failed or dropped): wake every waiter (under the lock)."""
        if pub in self.ready:
            self.ready.remove(pub)
        pub.phase = Phase.DONE
        pub.publisher = None
        self.update_gate()
        self._cond.notify_all()
        pub.wake_async()

    def postpone(self, pub: Publication) -> None:
        """Give up waiting for ``pub``'s drain (under the lock): old versions keep serving."""
        pub.phase = Phase.POSTPONED
        pub.backoff = min(max(pub.backoff * 2, 0.5), MAX_BACKOFF)
        pub.retry_at = time.monotonic() + pub.backoff
        pub.warn = True
        self.update_gate()  # the gate opens; the last call out still publishes it
        self._cond.notify_all()
        pub.wake_async()

    def wait(self, pub: Publication) -> None:
        """Wait (this thread) until ``pub`` is published, postponed or gone; publish it once
        nothing is in flight and nobody else does. Bounded by the publication's deadline."""
        give_up = time.monotonic() + self.drain_timeout + MIGRATION_WAIT
        while True:
            with self._lock:
                if pub not in self.ready or pub.phase in (Phase.POSTPONED, Phase.DONE):
                    break
                now = time.monotonic()
                if pub.phase is Phase.MIGRATING:
                    if now >= give_up:
                        break
                    self._cond.wait(pub.slice)
                    continue
                if not (pub.quiescent_counts() and pub.publisher is None):
                    if now >= pub.deadline:
                        self.postpone(pub)
                        break
                    pub.waiters += 1
                    try:
                        self._cond.wait(min(pub.deadline - now, pub.slice))
                    finally:
                        pub.waiters -= 1
                    continue
            if pub.quiescent() and self.publish(pub):
                break  # published (or gone): no lock again, callers are running now
            with self._lock:  # counts are zero but old code still runs: look again soon
                if pub in self.ready and pub.phase is Phase.DRAINING:
                    self._cond.wait(pub.slice)
                    if time.monotonic() >= pub.deadline:
                        self.postpone(pub)
                        break
        pub.log_postponed(self.drain_timeout)

    def wait_migration(self, pub: Publication) -> bool:
        """Wait one slice for another thread's migration of ``pub``; ``False``, at once, if
        the publisher waits for this thread (a cycle): the caller then goes on unwaited."""
        try:
            self.registry.locks.begin_wait(pub)
        except Deadlock:
            return False
        try:
            with self._lock:
                if pub in self.ready and pub.phase is Phase.MIGRATING:
                    self._cond.wait(pub.slice)
        finally:
            self.registry.locks.end_wait()
        return True

    def before_fork(self) -> None:
        """Wait until no other thread's migration runs, then let none begin until the fork
        is done (``after_fork_in_parent``), so a child never inherits a half-run
        ``pmnc_init``. Bounded by ``drain_timeout``; no wait at all if that migration waits
        for the forking thread. No lock is held across the fork: threads the child starts
        before its own reset (the reload signal's) must not find one held."""
        me = threading.get_ident()
        give_up = time.monotonic() + self.drain_timeout
        with self._lock:
            while True:
                running = next(
                    (p for p in self.ready if p.phase is Phase.MIGRATING and p.publisher != me),
                    None,
                )
                remaining = give_up - time.monotonic()
                if running is None or remaining <= 0 or not self._may_wait_for(running):
                    break
                self._cond.wait(min(remaining, running.slice))
            self.forking = me

    def _may_wait_for(self, pub: Publication) -> bool:
        # A migration waiting (through module locks or migrations) for this thread would
        # never end while the fork waits for it.
        self._lock.release()
        try:
            self.registry.locks.begin_wait(pub)
        except Deadlock:
            return False
        else:
            self.registry.locks.end_wait()
            return True
        finally:
            self._lock.acquire()

    def after_fork_in_parent(self) -> None:
        """Let migrations begin again (``before_fork``)."""
        with self._lock:
            self.forking = None
            self._cond.notify_all()

    def notify(self) -> None:
        """Wake every thread waiting on a publication (a call or unit left)."""
        with self._lock:
            self._cond.notify_all()
