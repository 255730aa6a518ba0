"""The registry of one installed hook: entries by name, files by name, and where modules show.

The access path starts in ``access.py``; changes are judged in ``judge.py``, built and
published by the ``Engine`` (``engine.py``). The registry itself resolves names to files
(earlier directory wins), reads them (``source.py``), and is the only writer of the places a
version shows: the ``pmnc`` facade, ``sys.modules``, the namespace package and the aliases of
direct imports.

Lock discipline (the registry's part; the engine's is in ``engine.py``):
* ``_lock`` guards ``_entries`` and every ``Entry.aliases``; a leaf, held for dict updates only.
* ``_show_lock`` guards every write to the facade and ``sys.modules`` against ``close()``: once
  closed, nothing of this registry shows anywhere again (an install over other directories
  must never serve this one's modules). Held for a few attribute writes; inside it only
  ``facade.write_lock`` (a leaf, also taken when the facade starts or stops recording).
* Module locks (``locks.LockGraph``): first loads only.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import types
from collections.abc import Mapping, Sequence
from typing import Optional

from pmnc_hook._errors import UnsafeModuleError
from pmnc_hook.reload import access, facade, lines, recording
from pmnc_hook.reload.engine import Engine
from pmnc_hook.reload.entry import Entry, ModuleStatus, Version
from pmnc_hook.reload.events import Listeners
from pmnc_hook.reload.failures import Failures
from pmnc_hook.reload.judge import Judge
from pmnc_hook.reload.loader import PmncLoader
from pmnc_hook.reload.locks import LockGraph
from pmnc_hook.reload.permissions import PermissionGuard
from pmnc_hook.reload.source import (
    Fingerprint,
    Source,
    StatKey,
    find_module_file,
    missing_module,
    read_source,
)

__all__ = ("ModuleStatus", "Registry")


class Registry:
    """The module versions of one installed hook."""

    def __init__(
        self,
        *,
        namespace: types.ModuleType,
        directories: Sequence[str],
        strict: bool,
        drain_timeout: float,
        exclude: frozenset[str],
        listeners: Listeners,
        inject: Mapping[str, object],
    ) -> None:
        self.namespace = namespace
        self.directories = tuple(directories)
        self.strict = strict
        self.drain_timeout = drain_timeout
        self.exclude = exclude
        self.listeners = listeners
        self.inject = dict(inject)
        self.permissions = PermissionGuard(strict)
        self._lock = threading.Lock()
        self._show_lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        self.locks = LockGraph()
        self.generation = 0
        self.closed = False
        self.failures = Failures(self)
        self.engine = Engine(self, drain_timeout)
        self.judge = Judge(self)
        self._retired = 0
        self._collected = 0
        recording.version_of = self.version_of

    # -- names and files -------------------------------------------------------------------

    def resolve(self, name: str) -> Optional[tuple[str, str]]:
        """Find ``<name>.py`` (earlier directory wins); return (path, directory) or ``None``.

        Raises ``UnsafeModuleError`` for a file whose real path escapes its directory.
        """
        return find_module_file(name, self.directories, self.exclude)

    def owns_file(self, name: str) -> Optional[str]:
        """Return the managed file a bare ``import <name>`` would alias, or ``None``."""
        try:
            found = self.resolve(name)
        except UnsafeModuleError:
            return None
        return found[0] if found else None

    def read(self, entry: Entry) -> Optional[Source]:
        """Read ``entry``'s file as it resolves now (``None``: missing); checks permissions."""
        found = self.resolve(entry.name)
        if found is None:
            return None
        source = read_source(found[0])
        if source is not None:
            self.permissions.check(entry.name, source.path, os.path.dirname(source.path))
        return source

    # -- entries ---------------------------------------------------------------------------

    def entry(self, name: str) -> Optional[Entry]:
        """Return the entry of ``name``, if it was ever accessed."""
        return self._entries.get(name)

    def new_entry(self, name: str) -> Entry:
        """Return the entry of ``name``, creating it; ``UnknownModuleError`` if no file."""
        found = self.resolve(name)
        if found is None:
            raise missing_module(name, self.directories, self.exclude)
        with self._lock:
            entry = self._entries.get(name)
            if entry is None:
                fullname = f"{self.namespace.__name__}.{name}"
                loader = PmncLoader(name, found[0], self.current_module)
                entry = self._entries[name] = Entry(name, fullname, found[0], loader)
            return entry

    def loaded_entries(self) -> list[Entry]:
        """Return the entries of every loaded module."""
        return [e for e in list(self._entries.values()) if e.current is not None]

    def loaded_names(self) -> list[str]:
        """Return the names of the modules loaded so far."""
        return sorted(e.name for e in self.loaded_entries())

    def version_of(self, name: str) -> Optional[int]:
        """Return the version number ``pmnc.<name>`` is now (``None``: not loaded)."""
        entry = self._entries.get(name)
        return entry.version if entry is not None and entry.current is not None else None

    # -- the access path -----------------------------------------------------------------

    def access(self, name: str) -> object:
        """Return what ``pmnc.<name>`` is now, loading it first if needed."""
        return access.access(self, name)

    def current_module(self, name: str) -> types.ModuleType:
        """Return the current module object (not a proxy) of ``name``, loading it if needed."""
        self.access(name)
        entry = self._entries[name]
        module = entry.module
        assert module is not None
        return module

    def add_alias(self, alias: str, name: str) -> types.ModuleType:
        """Record that ``import <alias>`` was handed module ``name``; return its module, now
        also ``sys.modules[alias]`` (read and set under the show lock, so a publication
        racing this import cannot be undone by it: see ``PmncLoader.exec_module``)."""
        self.current_module(name)
        entry = self._entries[name]
        with self._lock:
            entry.aliases.add(alias)
        with self._show_lock:
            module = entry.module
            assert module is not None
            if not self.closed:
                sys.modules[alias] = module
        return module

    # -- where versions show ---------------------------------------------------------------

    def publish(self, entry: Entry, version: Version, view: object, expose: bool = True) -> None:
        """Make ``version`` the current one of ``entry`` everywhere it shows (on the facade
        too unless ``expose`` is false: a change-set's flip leaves that to the engine)."""
        if entry.current is not None:
            self._retired += 1
        entry.remember(version)
        entry.published = view
        entry.next = None
        entry.path = entry.loader.path = version.source.path
        entry.last_error = None
        entry.candidate = None
        entry.failed_digest = None
        entry.seen = version.source.fingerprint
        with self._lock:
            aliases = list(entry.aliases)
        with self._show_lock:
            if self.closed:
                return
            sys.modules[entry.fullname] = version.module
            setattr(self.namespace, entry.name, version.module)
            for alias in aliases:
                sys.modules[alias] = version.module
        if expose:
            self.expose(entry)

    def expose(self, entry: Entry) -> None:
        """Put ``entry``'s published version on the facade (a plain attribute: fast hits)."""
        with self._show_lock:
            if not self.closed and entry.published is not None:
                facade.put(entry.name, entry.published)
                entry.shown = True

    def hide(self, name: str) -> None:
        """Take ``name`` off the facade: its next access comes to the registry."""
        with self._show_lock:
            entry = self._entries.get(name)
            if entry is not None:
                entry.shown = False
            facade.take_off(name)

    # -- change detection (the detector's target) -------------------------------------------

    def watched(self) -> list[tuple[str, Optional[Fingerprint]]]:
        """Return (path, published fingerprint) of every loaded module."""
        return self.judge.watched()

    def confirm(
        self, path: str, *, settled: bool, expect: Optional[StatKey] = None
    ) -> Optional[str]:
        """Stage ``path``'s module if its file holds something new (``judge.Judge.confirm``)."""
        return self.judge.confirm(path, settled=settled, expect=expect)

    def commit(self) -> list[str]:
        """Make every staged change one change-set, published at the next access."""
        return self.engine.commit()

    def refresh(self) -> list[str]:
        """Check every loaded module's file now (``judge.Judge.refresh``)."""
        return self.judge.refresh()

    # -- status ----------------------------------------------------------------------------

    def status(self) -> dict[str, ModuleStatus]:
        """Return one record per loaded module."""
        entries = self.loaded_entries()
        if self._collected != self._retired and any(e.retired for e in entries):
            # Old versions hold reference cycles (functions <-> globals): collect once per
            # new retirement, not on every call, so polling status() stays cheap.
            gc.collect()
            self._collected = self._retired
        return {e.name: e.status() for e in sorted(entries, key=lambda e: e.name)}

    # -- life cycle ------------------------------------------------------------------------

    def close(self) -> None:
        """Take every module off the facade, ``sys.modules`` and the namespace package, for
        good: a load or publication still running in another thread shows nowhere."""
        self.engine.close()
        with self._show_lock:
            self.closed = True
        for entry in list(self._entries.values()):
            self.hide(entry.name)
            module = entry.module
            with self._lock:
                aliases = list(entry.aliases)
            for alias in aliases:
                if module is not None and sys.modules.get(alias) is module:
                    del sys.modules[alias]
            if module is not None and sys.modules.get(entry.fullname) is module:
                del sys.modules[entry.fullname]
            if module is not None:
                lines.release(module)

    def reset_after_fork(self) -> None:
        """Re-create every lock a thread that is gone in this child may have held."""
        from pmnc_hook.reload.holders import calls_in_flight

        self._lock = threading.Lock()
        self._show_lock = threading.Lock()
        entries = list(self._entries.values())
        self.locks.reset_after_fork([e.lock for e in entries])
        self.permissions.reset_after_fork()
        mine = calls_in_flight(sys._getframe())
        for entry in entries:
            if entry.tracker is not None:
                entry.tracker.reset_after_fork(mine.count(entry.tracker))
        self.engine.reset_after_fork()
        recording.reset_after_fork()
