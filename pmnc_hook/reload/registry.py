"""Versions of every reloadable module: load, reload, swap, publish, and what went wrong.

The data path of an access that misses on the facade (first access, or a module marked
stale): resolve the file -> take the module's lock (re-check: another thread may have done
the work) -> read the source -> compile (directives first) -> execute into a fresh module ->
``pmnc_init(old, new, filename)`` -> publish. Every step before "publish" can fail, and a
failure leaves the old version published.

Publishing sets the new version on the facade as a plain attribute; marking a module stale
removes that attribute, so an unchanged module costs the caller nothing of ours. The order
that keeps a change from being lost: the detector sets ``entry.dirty`` *then* removes the
attribute; a load clears ``dirty`` *before* reading and re-checks it *after* publishing.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
import types
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from pmnc_hook._errors import CycleError, ModuleLoadError, UnknownModuleError, UnsafeModuleError
from pmnc_hook._names import is_module_name
from pmnc_hook.reload.entry import (
    TOKEN,
    Entry,
    ModuleStatus,
    VersionToken,
    failure_location,
)
from pmnc_hook.reload.events import Listeners, ReloadEvent
from pmnc_hook.reload.loader import PmncLoader, compile_source, execute, new_module
from pmnc_hook.reload.locks import Deadlock, LockGraph
from pmnc_hook.reload.permissions import PermissionGuard
from pmnc_hook.reload.source import Fingerprint, Source, StatKey, Unsettled, read_source, stat_key
from pmnc_hook.reload.tracking import Tracker, in_flight_anywhere

__all__ = ("ModuleStatus", "Registry", "is_module_name")

_log = logging.getLogger("pmnc_hook.registry")


class Registry:
    """The module versions of one installed hook."""

    def __init__(
        self,
        *,
        facade: object,
        namespace: types.ModuleType,
        directories: Sequence[str],
        strict: bool,
        drain_timeout: float,
        exclude: frozenset[str],
        listeners: Listeners,
        inject: Mapping[str, object],
    ) -> None:
        self.facade = facade
        self.namespace = namespace
        self.directories = tuple(directories)
        self.strict = strict
        self.drain_timeout = drain_timeout
        self.exclude = exclude
        self.listeners = listeners
        self.inject = dict(inject)
        self.permissions = PermissionGuard(strict)
        # Guards _entries (name -> entry); never held while loading or calling out.
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        # Module load locks, taken one per module being loaded, nested along the chain of
        # top-level accesses; cycles are detected, never waited on.
        self._locks = LockGraph()
        self._local = threading.local()
        self._retired = 0  # versions retired so far (for status()'s garbage collection)
        self._collected = 0

    # -- resolution ---------------------------------------------------------------------

    def resolve(self, name: str) -> Optional[tuple[str, str]]:
        """Find ``<name>.py`` (earlier directory wins); return (path, directory) or ``None``.

        Raises ``ImportError`` for a file whose real path escapes its module directory.
        """
        if not is_module_name(name):
            return None
        for directory in self.directories:
            path = os.path.join(directory, name + ".py")
            if not os.path.isfile(path):
                continue
            real = os.path.realpath(path)
            if real in self.exclude:
                continue
            root = os.path.realpath(directory)
            if os.path.dirname(real) != root:
                raise UnsafeModuleError(
                    f"pmnc.{name}: {path} resolves to {real}, outside its module directory "
                    f"{directory} (which is {root}); refusing to load code from elsewhere. "
                    "Copy the file into the directory or add its directory to the paths.",
                    name=name,
                    path=path,
                )
            return path, directory
        return None

    def owns_file(self, name: str) -> Optional[str]:
        """Return the managed file a bare ``import <name>`` would alias, or ``None``."""
        try:
            found = self.resolve(name)
        except ImportError:
            return None
        return found[0] if found else None

    # -- the miss path ----------------------------------------------------------------

    def access(self, name: str) -> object:
        """Return what ``pmnc.<name>`` is now, loading or reloading it first if needed."""
        entry = self._entries.get(name)
        if entry is None:
            entry = self._new_entry(name)
        return self._get(entry)

    def current_module(self, name: str) -> types.ModuleType:
        """Return the current module object (not a proxy) of ``name``, loading it if needed."""
        self.access(name)
        module = self._entries[name].module
        assert module is not None
        return module

    def _new_entry(self, name: str) -> Entry:
        found = self.resolve(name)
        if found is None:
            raise UnknownModuleError(name, self.directories)
        path = found[0]
        fullname = f"{self.namespace.__name__}.{name}"
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                loader = PmncLoader(name, path, self.current_module)
                entry = self._entries[name] = Entry(name, fullname, path, loader)
            return entry

    def _stack(self) -> list[str]:
        stack: Optional[list[str]] = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def _get(self, entry: Entry) -> object:
        stack = self._stack()
        if entry.name in stack:
            if entry.module is not None:
                return entry.published  # a reload reaching itself sees the old version
            raise CycleError([*stack[stack.index(entry.name) :], entry.name])
        # A thread with calls in flight in a stateful module never waits for the lock of a
        # loaded module: its holder may be draining, waiting for those very calls.
        blocking = entry.module is None or not in_flight_anywhere(threading.get_ident())
        try:
            if not self._locks.acquire(entry.lock, blocking):
                return entry.published
        except Deadlock as exc:
            if entry.module is not None:
                return entry.published
            raise CycleError([*stack[-1:], *exc.names]) from None
        stack.append(entry.name)
        try:
            return self._load_locked(entry)
        finally:
            stack.pop()
            self._locks.release(entry.lock)

    def _load_locked(self, entry: Entry) -> object:
        first = entry.module is None
        tracker = entry.tracker
        if tracker is not None and tracker.pending is not None and not entry.dirty:
            # A postponed quiescent swap: try it again only when it can go through.
            return tracker.attempt() if tracker.ready() else tracker.published
        if not first and not entry.dirty:
            return self._expose(entry)  # another thread did the work while we waited
        if not first and not entry.reloadable:
            entry.dirty = False
            return self._expose(entry)
        entry.dirty = False
        source = entry.detected
        entry.detected = None
        started = time.perf_counter()
        if not first and source is None:
            return self._expose(entry)  # what detection read was published already
        try:
            if source is None:
                found = self.resolve(entry.name)
                if found is None:
                    raise UnknownModuleError(entry.name, self.directories)
                source = read_source(found[0])
                if source is None:
                    raise UnknownModuleError(entry.name, self.directories)
            self.permissions.check(entry.name, source.path, os.path.dirname(source.path))
        except (OSError, ImportError) as exc:
            return self._failed(entry, exc, source, started)
        if source.path != entry.path:
            entry.path = entry.loader.path = source.path
        if not first:
            assert entry.fingerprint is not None
            digest = source.fingerprint.digest
            if digest == entry.fingerprint.digest:
                entry.fingerprint = source.fingerprint  # touched, same content: no reload
                if tracker is not None:
                    tracker.discard()
                return self._expose(entry)
            if tracker is not None and tracker.pending_digest == digest:
                return tracker.attempt() if tracker.ready() else tracker.published
            if digest == entry.failed_digest:
                return self._expose(entry)  # this very source failed already
        if tracker is not None:
            tracker.discard()
        return self._build(entry, source, started)

    def _build(self, entry: Entry, source: Source, started: float) -> object:
        old = entry.module
        try:
            code, directives = compile_source(source.data, source.path)
            module = new_module(entry.fullname, source.path, entry.loader, self.inject)
            setattr(module, TOKEN, VersionToken(entry.version + 1))
            execute(code, module, source)
            init = module.__dict__.get("pmnc_init")
            stateful = directives.stateful or init is not None
            if entry.tracker is not None and old is not None:
                return entry.tracker.swap(
                    lambda: self._migrate(entry, old, module, source, directives, started),
                    lambda exc: self._failed(entry, exc, source, started),
                    source.fingerprint.digest,
                )
            self._run_init(init, old, module, source.path)
        except (Exception, SystemExit) as exc:
            return self._failed(entry, exc, source, started)
        return self._publish(entry, module, source, directives.reloadable, stateful, started)

    def _migrate(
        self,
        entry: Entry,
        old: types.ModuleType,
        module: types.ModuleType,
        source: Source,
        directives: Any,
        started: float,
    ) -> object:
        """Run ``pmnc_init`` and publish: the tracker calls this once old calls have drained."""
        init = module.__dict__.get("pmnc_init")
        self._run_init(init, old, module, source.path)
        stateful = directives.stateful or init is not None
        return self._publish(entry, module, source, directives.reloadable, stateful, started)

    @staticmethod
    def _run_init(
        init: object, old: Optional[types.ModuleType], new: types.ModuleType, path: str
    ) -> None:
        if init is None:
            return
        if not callable(init):
            raise TypeError(f"{path}: pmnc_init is not callable ({type(init).__name__})")
        init(old, new, path)

    def _publish(
        self,
        entry: Entry,
        module: types.ModuleType,
        source: Source,
        reloadable: bool,
        stateful: bool,
        started: float,
    ) -> object:
        old = entry.module
        if old is not None:
            token = old.__dict__.get(TOKEN)
            if isinstance(token, VersionToken):
                self._alive(entry)  # drop versions already released, so the list stays short
                entry.retired.append((entry.version, weakref.ref(token)))
                self._retired += 1
        if stateful and entry.tracker is None:
            name = entry.name
            entry.tracker = Tracker(
                name,
                self.drain_timeout,
                show=lambda obj: object.__setattr__(self.facade, name, obj),
                hide=lambda: self._hide(name),
            )
        elif not stateful:
            entry.tracker = None
        entry.module = module
        entry.published = entry.tracker.proxy(module) if entry.tracker else module
        entry.version += 1
        entry.fingerprint = source.fingerprint
        entry.reloadable = reloadable
        entry.stateful = stateful
        entry.loaded_at = time.time()
        entry.last_error = None
        entry.failed_digest = None
        sys.modules[entry.fullname] = module
        setattr(self.namespace, entry.name, module)
        for alias in entry.aliases:
            sys.modules[alias] = module
        duration = time.perf_counter() - started
        _log.info(
            "pmnc.%s %s version %d from %s in %.1f ms",
            entry.name,
            "loaded" if old is None else "reloaded to",
            entry.version,
            source.path,
            duration * 1000,
        )
        self.listeners.emit(
            ReloadEvent(entry.name, source.path, entry.version, True, None, duration)
        )
        return self._expose(entry)

    def _failed(
        self, entry: Entry, exc: BaseException, source: Optional[Source], started: float
    ) -> object:
        entry.last_error = exc
        where = failure_location(exc, source.path if source else entry.path)
        digest = source.fingerprint.digest if source else None
        if digest is None or digest != entry.failed_digest:
            entry.failed_digest = digest
            if entry.module is None:
                _log.error(
                    "pmnc.%s: loading %s failed at %s: %s: %s",
                    entry.name,
                    entry.path,
                    where,
                    type(exc).__name__,
                    exc,
                    exc_info=exc,
                )
            else:
                _log.error(
                    "pmnc.%s: reloading %s failed at %s: %s: %s; version %d keeps serving",
                    entry.name,
                    entry.path,
                    where,
                    type(exc).__name__,
                    exc,
                    entry.version,
                    exc_info=exc,
                )
        duration = time.perf_counter() - started
        self.listeners.emit(
            ReloadEvent(entry.name, entry.path, entry.version, False, exc, duration)
        )
        if entry.module is None:
            raise ModuleLoadError(
                f"cannot load pmnc.{entry.name}: {where}: {type(exc).__name__}: {exc}",
                name=entry.name,
                path=entry.path,
            ) from exc
        return self._expose(entry)

    def _expose(self, entry: Entry) -> object:
        """Put the published version on the facade; take it off again if marked meanwhile.

        While a quiescent swap is postponed the attribute stays off, so accesses keep coming
        to the miss path, which retries the swap when it can go through.
        """
        if entry.tracker is not None and entry.tracker.pending is not None:
            return entry.published
        object.__setattr__(self.facade, entry.name, entry.published)
        if entry.dirty:
            self._hide(entry.name)
        return entry.published

    def _hide(self, name: str) -> None:
        try:
            object.__delattr__(self.facade, name)
        except AttributeError:
            pass

    # -- change detection ----------------------------------------------------------------

    def entry_for_path(self, path: str) -> Optional[Entry]:
        """Return the loaded module ``path`` may be the file of (by name, in our directories)."""
        directory, base = os.path.split(path)
        name, ext = os.path.splitext(base)
        if ext != ".py":
            return None
        entry = self._entries.get(name)
        if entry is None or entry.module is None:
            return None
        directory = os.path.abspath(directory)
        if directory not in self.directories and directory != os.path.dirname(entry.path):
            return None
        return entry

    def watched(self) -> list[tuple[str, Optional[Fingerprint]]]:
        """Return (path, published fingerprint) of every loaded module."""
        return [(e.path, e.fingerprint) for e in list(self._entries.values()) if e.module]

    def confirm(
        self, path: str, *, settled: bool, expect: Optional[StatKey] = None
    ) -> Optional[str]:
        """Compare ``path`` with the published version; mark it stale if its content differs.

        Return the module name if it was marked; the bytes read are kept for the reload, so
        what is published is what was checked. ``settled=False`` (the detector) also requires
        the file not to change while it is read, and to be as it was when it settled
        (``expect``, its stat key then); else ``Unsettled`` propagates;
        ``settled=True`` (an explicit refresh) reads at once.
        """
        entry = self.entry_for_path(path)
        if entry is None:
            return None
        return self._check(entry, path, settled, expect)

    def _check(
        self, entry: Entry, path: str, settled: bool, expect: Optional[StatKey]
    ) -> Optional[str]:
        seen = entry.fingerprint
        if seen is None:
            return None
        if path == entry.path and seen.matches(stat_key(path)):
            return None  # the stat proves the published content is still there
        try:
            found = self.resolve(entry.name)
        except ImportError:
            return None
        if found is None:
            return None  # missing: the last good version keeps serving
        current = found[0]
        if current == entry.path and seen.matches(stat_key(current)):
            return None
        try:
            source = read_source(current, stable=not settled)
        except OSError:
            return None
        if source is None:
            return None
        if expect is not None and current == path and source.fingerprint.key != expect:
            raise Unsettled(current)  # written again since it settled
        if source.fingerprint.digest == seen.digest:
            if entry.fingerprint is seen:
                entry.fingerprint = source.fingerprint
            return None
        if not entry.reloadable:
            if entry.ignored_digest != source.fingerprint.digest:
                entry.ignored_digest = source.fingerprint.digest
                _log.warning(
                    "pmnc.%s: %s changed, but the module says __reloadable__ = False; the "
                    "change is ignored until the process restarts",
                    entry.name,
                    entry.path,
                )
            return None
        if source.fingerprint.digest == entry.failed_digest:
            return None
        entry.detected = source
        self.mark(entry)
        return entry.name

    def mark(self, entry: Entry) -> None:
        """Mark ``entry`` stale: its next access reloads it."""
        entry.dirty = True
        self._hide(entry.name)

    def commit(self) -> list[str]:
        """Turn every staged change into one change-set (stub until change-sets land)."""
        return []

    def refresh(self) -> list[str]:
        """Check every loaded module's file now; return the names whose content differs."""
        changed = []
        for entry in list(self._entries.values()):
            if entry.module is None:
                continue
            if self._check(entry, entry.path, True, None) is not None or (
                entry.dirty and self._differs(entry)
            ):
                changed.append(entry.name)
        return sorted(changed)

    def _differs(self, entry: Entry) -> bool:
        source = entry.detected
        if source is None:
            try:
                source = read_source(entry.path)
            except OSError:
                return False
        fp = entry.fingerprint
        return source is not None and fp is not None and source.fingerprint.digest != fp.digest

    # -- observability ------------------------------------------------------------------

    def status(self) -> dict[str, ModuleStatus]:
        """Return one record per loaded module."""
        entries = [e for e in list(self._entries.values()) if e.module is not None]
        retired = sum(len(e.retired) for e in entries)
        if retired and any(self._alive(e) for e in entries) and self._collected != self._retired:
            # Old versions hold reference cycles (functions <-> globals): collect once per
            # new retirement, not on every call, so polling status() stays cheap.
            gc.collect()
            self._collected = self._retired
        return {
            e.name: ModuleStatus(
                name=e.name,
                filename=e.path,
                version=e.version,
                reloadable=e.reloadable,
                stateful=e.stateful,
                loaded_at=e.loaded_at,
                last_error=e.last_error,
                lingering=tuple(self._alive(e)),
            )
            for e in sorted(entries, key=lambda e: e.name)
        }

    @staticmethod
    def _alive(entry: Entry) -> list[int]:
        entry.retired = [(v, r) for v, r in entry.retired if r() is not None]
        return [v for v, _ in entry.retired]

    # -- life cycle -------------------------------------------------------------------------

    def add_alias(self, alias: str, name: str) -> types.ModuleType:
        """Record that ``import <alias>`` was handed module ``name``; return its module."""
        module = self.current_module(name)
        self._entries[name].aliases.add(alias)
        return module

    def loaded_names(self) -> list[str]:
        """Return the names of the modules loaded so far."""
        return sorted(n for n, e in list(self._entries.items()) if e.module is not None)

    def close(self) -> None:
        """Take every module off the facade, ``sys.modules`` and the namespace package."""
        for entry in list(self._entries.values()):
            self._hide(entry.name)
            for alias in entry.aliases:
                if sys.modules.get(alias) is entry.module:
                    del sys.modules[alias]
            if entry.module is not None and sys.modules.get(entry.fullname) is entry.module:
                del sys.modules[entry.fullname]
            if entry.tracker is not None:
                entry.tracker.close()

    def reset_after_fork(self) -> None:
        """Re-create every lock a thread that is gone in this child may have held."""
        self._lock = threading.Lock()
        entries = list(self._entries.values())
        self._locks.reset_after_fork([e.lock for e in entries])
        self.permissions.reset_after_fork()
        for entry in entries:
            if entry.tracker is not None:
                entry.tracker.reset_after_fork()
