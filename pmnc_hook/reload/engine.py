"""The swap engine: change-sets are built while the old versions serve, then published whole.

States of the one publication pipeline (everything global to the installed hook):

    staged --commit--> pending --first access to a member--> building --> ready --> published
                          ^                                     |           |
                          '--------- merged with new changes ---'-- failed -'

* ``commit`` (detector window closed, ``refresh()``, the reload signal, ``rollback()``) turns
  the staged changes into the pending change-set and takes its members off the facade, so
  their next access comes here. Members of the last failed set join when one of them changes.
* The first access to a member *builds* the set (``changeset.build_set``: bodies run, in
  dependency order, while every other caller is served the old versions: bodies never block
  callers). Only one thread builds; others never wait for it.
* A built set is *ready* (a ``Publication``). It is published when nothing it must wait for
  is in flight: units of work, and calls into its stateful members. Publishing (``MIGRATING``)
  runs the ``pmnc_init``s in order, then flips every member at one moment (``publish.flip``).
  While ready (``DRAINING``) the gate is closed: new units, and new calls into stateful
  members, wait (bounded by ``drain_timeout``), unless they hold something the publication
  waits for (``holders.holds``): those go on, counted, and are waited for.
* Whoever can publishes: the builder, if it holds nothing and is not an event loop (it then
  waits for the drain); else the last call or unit to leave; else the next access. Past the
  deadline the publication is *postponed* (gate open, old versions serving, the built versions
  kept) and retried when nothing is in flight or after a back-off.

Lock discipline (the engine's part; see also ``registry.py``):
* ``Engine._lock`` (``_cond`` is a condition on it) guards ``staged``, ``pending``,
  ``building``, ``ready``, ``failed`` and every ``Publication`` field, and the gate flags
  (``gate.closed``/``gate.watching``, written only under it, read anywhere without it). It is
  held only for bookkeeping: never while module code runs, never while taking a module lock,
  never while logging. Lock order: it may be held while taking ``Registry._show_lock`` (to
  hide a committed set's members, or to put a module back on the facade only while no set
  holds it: membership and the facade change together); never the other way round. A set
  moves between pending, building and ready in one critical section, so ``members_locked``
  always sees it somewhere.
* ``access`` looks at ``pending``, ``ready`` and ``building`` without the lock for its fast
  path (nothing pending, nothing ready): a stale look only serves the published version a
  moment longer, as the locked path would have.
* Callers count themselves in and out without any lock (``deque`` append/pop); the gate is
  closed *before* the counts are read when publishing, so no call slips past (``gate.py``).
* Every wait is bounded: drains by the publication's deadline, waits for a migration by
  ``MIGRATION_WAIT``, first loads by the lock graph; waits for a migration are registered in the
  lock graph, so a cycle through them is refused at once.
* Threads write: the builder ``building``'s versions; the publisher the entries (flip); callers
  only the counts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional

from pmnc_hook.reload import gate, holders
from pmnc_hook.reload.changeset import ChangeSet, build_set, dependents
from pmnc_hook.reload.drain import MIGRATION_WAIT, Drains
from pmnc_hook.reload.publish import Phase, Publication
from pmnc_hook.reload.source import Source, stat_key

if TYPE_CHECKING:
    from pmnc_hook.reload.entry import Entry
    from pmnc_hook.reload.registry import Registry

__all__ = ("MIGRATION_WAIT", "Engine")

_log = logging.getLogger("pmnc_hook.engine")

# Changes committed together: module name -> (new source, (rollback_of, restores) or None).
Batch = dict[str, tuple[Source, Optional[tuple[int, int]]]]


def _holds(source: Source) -> bool:
    """Tell whether ``source``'s file still holds what was read: a check that read it just
    before a newer write must not stage the older content after the newer one."""
    return stat_key(source.path) == source.fingerprint.key


def _without_repeats(pending: ChangeSet, built: ChangeSet) -> Optional[ChangeSet]:
    """Return ``pending`` without the changes ``built`` has already (two checks of one file
    staged the same content), ``None`` if nothing is left."""
    sources = {
        n: s
        for n, s in pending.sources.items()
        if n not in built.sources
        or built.sources[n].fingerprint.digest != s.fingerprint.digest
        or n in pending.rollbacks
    }
    if sources == pending.sources:
        return pending
    if not sources:  # only repeats: their dependents were built with them too
        return None
    return ChangeSet(sources, dict(pending.rollbacks), set(pending.dependents))


class Engine(Drains):
    """The change-set pipeline of one installed hook (publishing: ``drain.py``; the gate's
    slow paths: ``admission.py``)."""

    def __init__(self, registry: Registry, drain_timeout: float) -> None:
        super().__init__(registry, drain_timeout)
        self.staged: dict[str, Source] = {}
        self.staged_rollbacks: dict[str, tuple[int, int]] = {}
        self.pending: Optional[ChangeSet] = None
        # Sets being built, each by one thread; disjoint, so a body that never returns holds
        # back only changes to its own set's modules.
        self.building: dict[int, ChangeSet] = {}

    # -- staging and committing ------------------------------------------------------------

    def stage(self, name: str, source: Source, rollback: Optional[tuple[int, int]] = None) -> None:
        """Queue ``source`` as the new content of ``name`` for the next ``commit()`` (the
        detector's window); explicit checks commit their own batch with ``commit(batch)``."""
        with self._lock:
            self.staged[name] = source
            if rollback is not None:
                self.staged_rollbacks[name] = rollback
            else:
                self.staged_rollbacks.pop(name, None)

    def members_locked(self, but: Optional[Publication] = None) -> set[str]:
        """Return the names in every unpublished set (pending, building, ready but ``but``;
        the caller holds the lock: sets move between these under it)."""
        found = super().members_locked(but)
        if self.pending is not None:
            found |= self.pending.members
        for changeset in self.building.values():
            found |= changeset.members
        return found

    def publication_of(self, name: str) -> Optional[Publication]:
        """Return the ready publication ``name`` is a member of, if any."""
        return next((p for p in list(self.ready) if name in p.changeset.members), None)

    def commit(self, batch: Optional[Batch] = None, rerun: Iterable[str] = ()) -> list[str]:
        """Turn staged changes into the pending change-set; return the changed names.

        ``batch`` (name -> source, rollback flags): exactly these changes, staged and
        committed as one (``refresh()``, a rollback); without it, everything the detector
        staged. ``rerun``: loaded modules to run again with their own source. The set's
        members are these and every module depending on them: all are taken off the
        facade, so whichever is accessed first builds the set.
        """
        rerun = set(rerun)
        if batch is not None and not batch and not rerun:
            return []
        with self._lock:
            staged = set(batch if batch is not None else self.staged) | rerun
        readers = dependents(self.registry, staged) if staged else set()
        with self._lock:
            if batch is None:
                batch = {n: (s, self.staged_rollbacks.get(n)) for n, s in self.staged.items()}
                self.staged.clear()
                self.staged_rollbacks.clear()
            batch = {n: c for n, c in batch.items() if c[1] is not None or self._new(n, c[0])}
            batch = {n: c for n, c in batch.items() if c[1] is not None or _holds(c[0])}
            if not (batch or rerun) or self.closed:
                return []
            rollbacks = {n: r for n, (_, r) in batch.items() if r is not None}
            sources = {n: s for n, (s, _) in batch.items()}
            changes = ChangeSet(sources, rollbacks, (readers | rerun) - set(sources))
            failed = self.failed
            if failed is not None and failed.members & changes.members:
                changes = failed.merged(changes)  # the next change of a member retries them
                self.failed = None
            for pub in list(self.ready):
                if pub.phase is not Phase.MIGRATING and pub.changeset.members & changes.members:
                    changes = pub.changeset.merged(changes)  # its built versions are outdated
                    self._finish(pub)
            if self.pending is not None:
                changes = self.pending.merged(changes)
            self.pending = changes
            for name in sorted(changes.members):  # their next access comes here
                self.registry.hide(name)
        return sorted(changes.sources)

    def _new(self, name: str, source: Source) -> bool:
        """Tell whether ``source`` differs from what ``name`` publishes now (a change the
        detector staged may have been published meanwhile by a ``refresh()``)."""
        entry = self.registry.entry(name)
        current = entry.current if entry is not None else None
        return current is None or current.source.fingerprint.digest != source.fingerprint.digest

    # -- the access path ---------------------------------------------------------------

    def access(self, entry: Entry) -> object:
        """Return what ``pmnc.<name>`` is now for this caller; build or publish if it may."""
        me = threading.get_ident()
        name = entry.name
        # Nothing to start, nothing to publish (the common case while a set is built, or a
        # body runs and the facade records): the published version, no lock taken. A member
        # of a set being built stays off the facade.
        if self.pending is None and not self.ready and me not in self.building:
            held = any(name in b.members for b in list(self.building.values()))
            return self.visible(entry, held)
        with self._lock:
            pending = self.pending
            start = (
                pending is not None
                and name in pending.members
                and me not in self.building
                # one set at a time per module: never build beside one being built or
                # published (a later set must not be published before an earlier one)
                and not any(pending.members & b.members for b in self.building.values())
                and not any(pending.members & p.changeset.members for p in self.ready)
                and not self.closed
                and not self.registry.locks.holds_any(me)
                and not holders.building()
            )
            if start:
                assert pending is not None
                self.building[me] = pending
                self.pending = None
            # A member of a set on its way stays off the facade: no second look under the
            # lock for every call made while its set is built (whoever publishes or drops
            # the set puts it back).
            held = not start and name in self.members_locked()
        if start:
            assert pending is not None
            self._build(pending)
        else:
            pub = self.publication_of(name)
            if pub is not None:
                self._retry(pub)
        return self.visible(entry, held)

    def visible(self, entry: Entry, held: bool = False) -> object:
        """Return the published object of ``entry`` at this moment of the generation flip,
        and put it back on the facade once it is no member of any unpublished set (unless
        the caller just saw it ``held`` by one)."""
        nxt = entry.next
        if nxt is not None and self.registry.generation >= entry.next_generation:
            return nxt
        if not (entry.shown or held):
            self.show(entry)
        return entry.published

    def _build(self, changeset: ChangeSet) -> None:
        me = threading.get_ident()
        try:
            outcome = build_set(self.registry, changeset)
        except BaseException:
            with self._lock:
                self.building.pop(me, None)
            raise
        if outcome.failure is not None:
            with self._lock:
                self.building.pop(me, None)
                self.failed = changeset if self.failed is None else self.failed.merged(changeset)
            outcome.report(self.registry)
            self.expose_members(changeset)
            if isinstance(outcome.failure[1], KeyboardInterrupt):
                raise outcome.failure[1]  # the one caller whose access ran the failing code
            return
        if not outcome.versions:  # nothing left to publish (it was published meanwhile)
            with self._lock:
                self.building.pop(me, None)
            self.expose_members(changeset)
            return
        pub = Publication(changeset, outcome.versions, outcome.order, outcome.started)
        pub.prepare(self.registry)
        with self._lock:  # from building to ready (or back to pending) in one step
            self.building.pop(me, None)
            if self.closed:
                return
            pending = self.pending
            if pending is not None:
                pending = self.pending = _without_repeats(pending, changeset)
            if pending is not None and pending.sources.keys() & changeset.members:
                self.pending = changeset.merged(pending)  # changed again while building
                return
            pub.deadline = time.monotonic() + self.drain_timeout
            self.ready.append(pub)
        self.offer(pub, may_wait=True)

    # -- life cycle -----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop for good (uninstall): drop every unpublished set, release every waiter."""
        with self._lock:
            self.closed = True
            self.staged.clear()
            self.pending = None
            for pub in list(self.ready):
                self._finish(pub)

    def reset_after_fork(self) -> None:
        """In a forked child: forget what threads that do not exist here were doing."""
        from pmnc_hook.reload import units

        gate.units.clear()
        if units.in_unit():
            gate.units.append(None)
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.forking = None
        me = threading.get_ident()
        for thread, changeset in list(self.building.items()):
            if thread != me:
                del self.building[thread]
                self.pending = changeset.merged(self.pending)
        for pub in list(self.ready):
            pub.reset_after_fork()
            if pub.phase is Phase.MIGRATING and pub.publisher not in (None, me):
                self._orphaned(pub)  # the fork did not wait for it (see ``before_fork``)
                continue
            if pub.publisher not in (None, me):
                pub.publisher = None
            if pub.phase is not Phase.MIGRATING:
                pub.phase = Phase.POSTPONED
                pub.retry_at = 0.0
        self.update_gate()

    def _orphaned(self, pub: Publication) -> None:
        """In a forked child: ``pub``'s migration ran on a thread the child does not have.
        Past the flip's moment its versions are current: finish the flip here. Before it,
        drop the half-migrated versions; the set is built again from its sources here."""
        from pmnc_hook.reload.publish import complete, flipped

        self.ready.remove(pub)  # nobody waits for it here: no notification (and no lock)
        pub.phase = Phase.DONE
        pub.publisher = None
        if flipped(self.registry, pub):
            complete(self.registry, pub)
            return
        for name in pub.order:
            entry = self.registry.entry(name)
            if entry is not None:
                entry.next = None
        self.pending = pub.changeset.merged(self.pending)
        _log.warning(
            "forked while another thread ran pmnc_init of %s: the child builds %s again",
            ", ".join(pub.order),
            ", ".join(sorted(pub.changeset.members)),
        )
