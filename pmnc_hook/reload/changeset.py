"""Change-sets: what changed together, their dependents, and building them all or nothing.

A ``ChangeSet`` holds the new sources of the modules whose files changed together (or that a
rollback restores) and, once building starts, the loaded modules that depend on them,
directly or transitively (``depends_on``): those run again with their own published source,
so no value read at import time is stale. ``build_set`` runs every member's body in
dependency order on the calling thread, with the set's new versions visible to it
(``context()``); any failure fails the whole set, and nothing of it is published.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Optional

from pmnc_hook._errors import PmncHookError
from pmnc_hook.reload import lines
from pmnc_hook.reload.build import build_version
from pmnc_hook.reload.entry import Version
from pmnc_hook.reload.source import Source

if TYPE_CHECKING:
    from pmnc_hook.reload.registry import Registry

__all__ = ("BuildContext", "ChangeSet", "Outcome", "build_set", "context", "dependency_order")

_log = logging.getLogger("pmnc_hook.changeset")
_local = threading.local()


@dataclass
class ChangeSet:
    """Modules published together: new sources, and dependents run again."""

    sources: dict[str, Source]
    rollbacks: dict[str, tuple[int, int]] = field(default_factory=dict)
    dependents: set[str] = field(default_factory=set)

    @property
    def members(self) -> set[str]:
        """Every module of the set."""
        return set(self.sources) | self.dependents

    @property
    def names(self) -> tuple[str, ...]:
        """The members, sorted."""
        return tuple(sorted(self.members))

    def merged(self, newer: Optional[ChangeSet]) -> ChangeSet:
        """Return this set with ``newer``'s changes on top (newer sources win)."""
        if newer is None:
            return ChangeSet(dict(self.sources), dict(self.rollbacks), set(self.dependents))
        rollbacks = {n: r for n, r in self.rollbacks.items() if n not in newer.sources}
        rollbacks.update(newer.rollbacks)
        return ChangeSet(
            {**self.sources, **newer.sources}, rollbacks, self.dependents | newer.dependents
        )


class _MemberFailed(PmncHookError):
    """A member of the change-set being built failed (raised into the body that needed it)."""


@dataclass
class Outcome:
    """What building a change-set gave: every member's new version, or the first failure."""

    changeset: ChangeSet
    versions: dict[str, Version]
    order: list[str]
    started: float
    failure: Optional[tuple[str, BaseException, Optional[Source]]] = None

    def report(self, registry: Registry) -> None:
        """Log and announce the failure (once per distinct set of sources); from then on,
        tracebacks show the published versions' lines, and the built ones' under names of
        their own."""
        assert self.failure is not None
        name, exc, source = self.failure
        try:
            registry.failures.set_failed(name, exc, source, self.changeset.names, self.started)
        finally:
            _restore_published(registry, self.order)
            failed = "not published: its load failed"
            lines.retire(*((v.module, failed) for v in self.versions.values()))


class BuildContext:
    """The change-set this thread is building: accesses to its members see the new versions."""

    def __init__(self, registry: Registry, changeset: ChangeSet) -> None:
        self.registry = registry
        self.changeset = changeset
        self.members = changeset.members
        self.built: dict[str, Version] = {}
        self.stack: list[str] = []
        self.failure: Optional[tuple[str, BaseException, Optional[Source]]] = None

    def build(self, name: str) -> Optional[Version]:
        """Return the new version of member ``name``, building it now if needed (``None``:
        it is being built further up this very chain: the caller sees the old version)."""
        if name in self.built:
            return self.built[name]
        if name in self.stack or self.failure is not None:
            if self.failure is not None:
                raise _MemberFailed(f"pmnc.{self.failure[0]} failed while building the set")
            return None
        entry = self.registry.entry(name)
        if entry is None or entry.current is None:
            return None
        source = self.changeset.sources.get(name) or entry.current.source
        self.stack.append(name)
        try:
            version = build_version(self.registry, entry, source, entry.version + 1)
        except BaseException as exc:
            if self.failure is None:
                self.failure = (name, exc, source)
            if isinstance(exc, (KeyboardInterrupt, _MemberFailed)):
                raise
            raise _MemberFailed(f"pmnc.{name} failed while building the set") from exc
        finally:
            self.stack.pop()
        self.built[name] = version
        return version


def _restore_published(registry: Registry, names: Iterable[str]) -> None:
    """The published versions run on: make tracebacks show their lines again."""
    for name in names:
        entry = registry.entry(name)
        if entry is not None and entry.module is not None:
            lines.restore(entry.module)


def context() -> Optional[BuildContext]:
    """Return the change-set this thread is building or publishing, if any."""
    ctx: Optional[BuildContext] = getattr(_local, "ctx", None)
    return ctx


def set_context(ctx: Optional[BuildContext]) -> None:
    """Make ``ctx`` this thread's change-set context (``None``: none)."""
    _local.ctx = ctx


def dependents(registry: Registry, changed: Iterable[str]) -> set[str]:
    """Return the loaded, reloadable modules depending on ``changed``, transitively."""
    readers: dict[str, set[str]] = {}
    for loaded in registry.loaded_entries():
        assert loaded.current is not None
        for dep in loaded.current.depends_on:
            readers.setdefault(dep, set()).add(loaded.name)
    found: set[str] = set()
    todo = list(changed)
    while todo:
        for reader in sorted(readers.get(todo.pop(), ())):
            entry = registry.entry(reader)
            if reader in found or entry is None or entry.current is None:
                continue
            if not entry.current.reloadable:
                registry.failures.frozen_dependent(entry)
                continue
            found.add(reader)
            todo.append(reader)
    return found


def dependency_order(registry: Registry, members: set[str]) -> list[str]:
    """Order ``members`` so that a module comes after those it depends on (ties by name)."""
    needs: dict[str, set[str]] = {}
    for name in members:
        entry = registry.entry(name)
        seen = entry.current.depends_on if entry is not None and entry.current else {}
        needs[name] = {d for d in seen if d in members and d != name}
    order: list[str] = []
    while needs:
        free = sorted(n for n, deps in needs.items() if not deps) or [sorted(needs)[0]]
        for name in free:
            order.append(name)
            del needs[name]
        for waiting in needs.values():
            waiting.difference_update(free)
    return order


def build_set(registry: Registry, changeset: ChangeSet) -> Outcome:
    """Build every member's new version (bodies run here, old versions keep serving)."""
    started = time.perf_counter()
    for name, source in list(changeset.sources.items()):  # published meanwhile: no change
        entry = registry.entry(name)
        current = entry.current if entry is not None else None
        same = (
            current is not None and current.source.fingerprint.digest == source.fingerprint.digest
        )
        if same and name not in changeset.rollbacks:
            del changeset.sources[name]
    changeset.dependents |= dependents(registry, changeset.sources)
    changeset.dependents -= set(changeset.sources)
    order = dependency_order(registry, changeset.members)
    ctx = BuildContext(registry, changeset)
    outer = context()
    set_context(ctx)
    try:
        for name in order:
            try:
                ctx.build(name)
            except _MemberFailed:
                pass
            if ctx.failure is not None:
                break
    except KeyboardInterrupt:
        if ctx.failure is None:
            raise  # a real Ctrl-C between bodies; the engine drops the set
    finally:
        set_context(outer)
    if ctx.failure is not None:
        return Outcome(changeset, dict(ctx.built), order, started, ctx.failure)
    _restore_published(registry, order)
    stamp = time.time()
    for name, version in ctx.built.items():
        version.changeset = changeset.names
        version.loaded_at = stamp
        rollback = changeset.rollbacks.get(name)
        if rollback is not None:
            version.rollback_of, version.restores = rollback
    return Outcome(changeset, dict(ctx.built), [n for n in order if n in ctx.built], started)
