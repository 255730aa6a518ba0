"""Change judgment: does a module's file now hold something new to publish?

A change is judged by content. The stat key only decides whether the file must be read (see
``source.py``); the bytes read are staged for the next change-set, so what is published is
what was checked. A file is no new change if it holds the published version, what is already
on its way (staged, pending, built) or failed already, or the content a rollback holds
against. ``confirm`` (the detector, once a notice settled) and ``refresh`` (an explicit check,
at once) stage; ``commit`` (the engine) makes the staged changes one change-set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Optional

from pmnc_hook._errors import PmncHookError
from pmnc_hook.reload.source import (
    Fingerprint,
    StatKey,
    Unsettled,
    missing_module,
    read_source,
    stat_key,
)

if TYPE_CHECKING:
    from pmnc_hook.reload.engine import Batch
    from pmnc_hook.reload.entry import Entry
    from pmnc_hook.reload.registry import Registry

__all__ = ("Judge",)

_log = logging.getLogger("pmnc_hook.registry")


class Judge:
    """Compares module files with what is published, and stages what is new."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._ignored: dict[str, bytes] = {}  # __reloadable__ = False modules: warned digest

    def entry_for_path(self, path: str) -> Optional[Entry]:
        """Return the loaded module ``path`` may be the file of (by name, in our directories)."""
        directory, base = os.path.split(path)
        name, ext = os.path.splitext(base)
        if ext != ".py":
            return None
        entry = self.registry.entry(name)
        if entry is None or entry.current is None:
            return None
        directory = os.path.abspath(directory)
        if directory not in self.registry.directories and directory != os.path.dirname(entry.path):
            return None
        return entry

    def watched(self) -> list[tuple[str, Optional[Fingerprint]]]:
        """Return (path, published fingerprint) of every loaded module."""
        return [
            (e.path, e.seen or e.current.source.fingerprint)
            for e in self.registry.loaded_entries()
            if e.current is not None
        ]

    def confirm(
        self, path: str, *, settled: bool, expect: Optional[StatKey] = None
    ) -> Optional[str]:
        """Stage ``path``'s module if its file holds something new; return its name.

        ``settled=False`` (the detector) also requires the file not to change while it is
        read, and to be as it was when it settled (``expect``); else ``Unsettled``.
        """
        entry = self.entry_for_path(path)
        if entry is None:
            return None
        return self.check(entry, path, settled, expect)

    def check(
        self,
        entry: Entry,
        path: str,
        settled: bool,
        expect: Optional[StatKey],
        batch: Optional[Batch] = None,
    ) -> Optional[str]:
        """Compare ``entry``'s file with its published version; stage it if it is new (into
        ``batch`` if given, else for the detector's next commit)."""
        current = entry.current
        if current is None:
            return None
        seen = current.source.fingerprint
        last = entry.seen or seen
        if path == entry.path and last.matches(stat_key(path)) and entry.pinned is None:
            return None  # the stat proves the file holds what was last judged
        try:
            found = self.registry.resolve(entry.name)
        except PmncHookError:
            return None
        if found is None:  # the last good version keeps serving
            error = missing_module(entry.name, self.registry.directories, self.registry.exclude)
            if error.reasons:  # something is there that cannot be loaded: say so, once
                self.registry.failures.read_failed(entry, error)
            return None
        filename = found[0]
        try:
            source = read_source(filename, stable=not settled)
        except Unsettled:
            raise
        except (OSError, PmncHookError) as exc:  # unreadable now, or an escape: old one serves
            self.registry.failures.read_failed(entry, exc)
            return None
        if source is None:
            return None
        if expect is not None and filename == path and source.fingerprint.key != expect:
            raise Unsettled(filename)  # written again since it settled
        digest = source.fingerprint.digest
        entry.seen = source.fingerprint
        if entry.pinned is not None:
            if digest == entry.pinned:
                return None  # a rollback holds until the file changes to something else
            entry.pinned = None
        if digest == seen.digest:
            return None
        if digest in (entry.candidate, entry.failed_digest):
            return None  # already on its way, or failed already
        if not current.reloadable:
            self._frozen(entry, digest)
            return None
        entry.candidate = digest
        if batch is not None:
            batch[entry.name] = (source, None)
        else:
            self.registry.engine.stage(entry.name, source)
        return entry.name

    def _frozen(self, entry: Entry, digest: bytes) -> None:
        if self._ignored.get(entry.name) == digest:
            return
        self._ignored[entry.name] = digest
        _log.warning(
            "pmnc.%s: %s changed, but the module says __reloadable__ = False; the change is "
            "ignored until the process restarts",
            entry.name,
            entry.path,
        )

    def _on_its_way(self, entry: Entry) -> bool:
        """Tell whether ``entry`` has a change staged or being published, still in its file."""
        current = entry.current
        if current is None or entry.candidate is None or entry.candidate == entry.failed_digest:
            return False
        try:
            source = read_source(entry.path)
        except (OSError, PmncHookError):
            return False
        return source is not None and source.fingerprint.digest == entry.candidate

    def refresh(self) -> list[str]:
        """Check every loaded module's file now; stage and commit what is new.

        Return the names whose file now differs from the version published and will be
        published at their next access (whether or not the watcher noticed first).
        """
        changed = []
        batch: Batch = {}
        for entry in self.registry.loaded_entries():
            if self.check(entry, entry.path, True, None, batch) or self._on_its_way(entry):
                changed.append(entry.name)
        self.registry.engine.commit(batch)
        return sorted(changed)

    def stale_dependents(self, published: Iterable[str]) -> None:
        """Run again, in a new change-set, loaded modules that read an older version of one
        of ``published`` when they loaded (they loaded while the set was being built)."""
        published = set(published)
        registry = self.registry
        stale = []
        for entry in registry.loaded_entries():
            current = entry.current
            if current is None or entry.name in published or not current.reloadable:
                continue
            for dep, seen in current.depends_on.items():
                if dep in published and seen < (registry.version_of(dep) or 0):
                    stale.append(entry)
                    break
        if stale:
            registry.engine.commit({}, rerun=[entry.name for entry in stale])
