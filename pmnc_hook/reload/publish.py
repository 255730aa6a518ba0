"""Publishing a built change-set: ``pmnc_init``s in order, then every member at one moment.

``Publication`` is a built set waiting to be published, with what it must wait for: every
unit of work, and the calls in flight into its members (counted by their ``Tracker``s; for a
member that becomes stateful, whose old version was not tracked, the threads running the old
version's code). ``migrate`` runs on the publishing thread once nothing is in flight and the
gate is closed to everyone else: the ``pmnc_init``s run (in dependency order, each seeing the
set's new versions), then ``flip`` makes the new versions current: each member's new object
is prepared (``entry.next``), then ``registry.generation`` moves (the moment), then the
entries, ``sys.modules`` and the facade follow. Any failure publishes nothing.
"""

from __future__ import annotations

import enum
import sys
import time
import types
from typing import TYPE_CHECKING, Any, Optional

from pmnc_hook.reload import changeset, gate, lines
from pmnc_hook.reload.build import run_init
from pmnc_hook.reload.entry import Version

if TYPE_CHECKING:
    import asyncio
    import threading

    from pmnc_hook.reload.registry import Registry
    from pmnc_hook.reload.tracking import Tracker

__all__ = ("Phase", "Publication", "complete", "flip", "flipped", "migrate")


class Phase(enum.Enum):
    """Where a built change-set is on its way to being published."""

    DRAINING = "draining"  # gate closed to new callers; waiting for those in flight
    POSTPONED = "postponed"  # the drain timed out: gate open, retried later
    MIGRATING = "migrating"  # the publisher runs pmnc_init and flips
    DONE = "done"  # published, failed, or dropped


class Publication:
    """A built change-set on its way to being published (fields guarded by the engine)."""

    def __init__(
        self, cs: changeset.ChangeSet, versions: dict[str, Version], order: list[str], t0: float
    ) -> None:
        self.changeset = cs
        self.versions = versions
        self.order = order
        self.started = t0
        self.name = "the publication of " + ", ".join(f"pmnc.{n}" for n in cs.names)
        self.phase = Phase.DRAINING
        self.deadline = 0.0
        self.retry_at = 0.0
        self.backoff = 0.0
        self.warn = False
        self.owner: Optional[int] = None  # the publishing thread (for the lock graph)
        self.waiters = 0  # threads waiting in Engine._wait
        self.slice = 0.05
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self.trackers: frozenset[Tracker] = frozenset()
        self.scan: list[dict[str, Any]] = []  # old globals of members turning stateful
        self.failure: Optional[tuple[str, BaseException]] = None
        self.superseded: list[tuple[types.ModuleType, str]] = []  # for lines.retire

    @property
    def publisher(self) -> Optional[int]:
        """The thread running ``migrate``, if any."""
        return self.owner

    @publisher.setter
    def publisher(self, thread: Optional[int]) -> None:
        self.owner = thread

    def prepare(self, registry: Registry) -> None:
        """Find what must drain: members' trackers, and old code of members turning stateful."""
        trackers = []
        for name, version in self.versions.items():
            entry = registry.entry(name)
            if entry is None or entry.current is None:
                continue
            if entry.tracker is not None:
                trackers.append(entry.tracker)
            elif version.stateful:
                self.scan.append(entry.current.module.__dict__)
        self.trackers = frozenset(trackers)
        if self.scan:
            self.slice = 0.005  # untracked calls are seen by looking, not told on exit

    def quiescent_counts(self) -> bool:
        """Tell whether no unit of work and no tracked call into a member is in flight."""
        return not gate.units and not any(t.inflight for t in self.trackers)

    def quiescent(self) -> bool:
        """Like ``quiescent_counts``, and no thread runs old code of a member turning stateful."""
        if not self.quiescent_counts():
            return False
        if not self.scan:
            return True
        for frame in list(sys._current_frames().values()):
            while frame is not None:
                if any(frame.f_globals is ns for ns in self.scan):
                    return False
                frame = frame.f_back  # type: ignore[assignment]
        return True

    async def wait_async(self, lock: threading.Lock) -> bool:
        """Wait on the running loop until done or postponed; ``False`` past the deadline."""
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with lock:
            if self.phase in (Phase.DONE, Phase.POSTPONED):
                return True
            self._futures.append((loop, future))
            remaining = self.deadline - time.monotonic()
            if self.phase is Phase.MIGRATING:
                remaining = max(remaining, 60.0)
        try:
            await asyncio.wait_for(asyncio.shield(future), max(remaining, 0.0))
        except asyncio.TimeoutError:
            return False
        return True

    def wake_async(self) -> None:
        """Resolve every coroutine waiting for this publication (under the engine's lock)."""
        futures, self._futures = self._futures, []
        for loop, future in futures:
            try:
                loop.call_soon_threadsafe(_resolve, future)
            except RuntimeError:  # that loop is closed
                pass

    def log_postponed(self, drain_timeout: float) -> None:
        """Log the postponement once (by whoever postponed it), outside the engine's lock."""
        if not self.warn:
            return
        self.warn = False
        from pmnc_hook.reload.failures import log_postponed

        log_postponed(self, drain_timeout)

    def reset_after_fork(self) -> None:
        """In a forked child: no coroutine of the parent's loops waits here."""
        self._futures = []
        self.waiters = 0

    def after(self, registry: Registry) -> None:
        """Announce the outcome (log lines, events) and schedule stale dependents."""
        from pmnc_hook.reload.failures import announce_published

        if self.failure is None:
            lines.retire(*self.superseded)  # their tracebacks keep their own lines
            self.superseded = []
            announce_published(registry, self)
            registry.judge.stale_dependents(self.changeset.members)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def migrate(registry: Registry, pub: Publication) -> None:
    """Run the members' ``pmnc_init`` in order, then flip; a failure publishes nothing."""
    ctx = changeset.BuildContext(registry, pub.changeset)
    ctx.built = dict(pub.versions)  # pmnc_init sees the set's new versions
    outer = changeset.context()
    changeset.set_context(ctx)
    try:
        for name in pub.order:
            version = pub.versions[name]
            entry = registry.entry(name)
            old = entry.module if entry is not None else None
            lines.restore(version.module)  # pmnc_init is the new version's code
            try:
                run_init(version, old, registry.drain_timeout)
            except BaseException as exc:
                pub.failure = (name, exc)
                registry.failures.set_failed(
                    name, exc, version.source, pub.changeset.names, pub.started
                )
                _unpublished(registry, pub)
                if isinstance(exc, KeyboardInterrupt):
                    raise
                return
    finally:
        changeset.set_context(outer)
    flip(registry, pub)


def _unpublished(registry: Registry, pub: Publication) -> None:
    """Tracebacks after a failed publication: the published versions' lines, and the new
    versions' under names of their own."""
    for name in pub.order:
        entry = registry.entry(name)
        if entry is not None and entry.module is not None:
            lines.restore(entry.module)
    lines.retire(*((v.module, "not published: its load failed") for v in pub.versions.values()))


def flip(registry: Registry, pub: Publication) -> None:
    """Make every member's new version current at one moment (``registry.generation``)."""
    generation = registry.generation + 1
    views: dict[str, object] = {}
    for name in pub.order:
        entry = registry.entry(name)
        assert entry is not None
        registry.hide(name)  # until it is published, every access goes through ``next``
        version = pub.versions[name]
        version.generation = generation
        views[name] = entry.view(version)
        entry.next_generation = generation  # before ``next``: a reader checks both
        entry.next = views[name]
    registry.generation = generation  # the moment: from here every access sees the new set
    complete(registry, pub)


def flipped(registry: Registry, pub: Publication) -> bool:
    """Tell whether ``pub``'s flip has passed its moment (its versions are the current set)."""
    generation = next(iter(pub.versions.values())).generation
    return 0 < generation <= registry.generation


def complete(registry: Registry, pub: Publication) -> None:
    """After the moment of ``flip``: make each member's new version its entry's current one
    (also, in a forked child, for a flip the parent's thread did not finish)."""
    for name in pub.order:
        entry = registry.entry(name)
        assert entry is not None
        version = pub.versions[name]
        old = entry.current
        if old is version:
            continue
        if old is not None:
            pub.superseded.append((old.module, f"version {old.number}, superseded"))
        view = entry.next if entry.next is not None else entry.view(version)
        registry.publish(entry, version, view, expose=False)
        registry.engine.show(entry, pub)  # not if a newer set took it meanwhile
        lines.restore(version.module)
