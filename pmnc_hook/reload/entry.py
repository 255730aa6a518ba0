"""One module name's record (``Entry``), its published versions (``Version``), and status.

An ``Entry`` exists from the first access to a name; ``current`` is the published ``Version``
(``None`` until the first load succeeds). ``published`` is what ``pmnc.<name>`` is: the module
itself, or a ``StatefulModule`` proxy for a module with ``pmnc_init``. Fields change only while
publishing (under the engine's gate, see ``engine.py``) except those marked otherwise.
"""

from __future__ import annotations

import types
import weakref
from dataclasses import dataclass, field
from typing import Optional

from pmnc_hook.reload.directives import Directives
from pmnc_hook.reload.loader import PmncLoader
from pmnc_hook.reload.locks import ModuleLock
from pmnc_hook.reload.source import Fingerprint, Source
from pmnc_hook.reload.tracking import StatefulModule, Tracker

__all__ = ("HISTORY", "TOKEN", "Entry", "ModuleStatus", "Version", "VersionToken")

TOKEN = "__pmnc_version__"
# Published versions remembered per module for rollback (their sources, not their modules).
HISTORY = 16


@dataclass(frozen=True)
class ModuleStatus:
    """A read-only record of one loaded module."""

    name: str
    filename: str
    version: int
    reloadable: bool
    stateful: bool
    loaded_at: float
    last_error: Optional[BaseException]
    lingering: tuple[int, ...]
    depends_on: tuple[str, ...] = ()
    generation: int = 0
    rollback_of: Optional[int] = None
    restores: Optional[int] = None


class VersionToken:
    """Lives in a version's globals: alive exactly as long as anything can run that version."""

    __slots__ = ("__weakref__", "version")

    def __init__(self, version: int) -> None:
        self.version = version


@dataclass(eq=False)
class Version:
    """One executed version of a module: built, then published or dropped."""

    name: str
    number: int
    module: types.ModuleType
    source: Source
    directives: Directives
    # Modules this version's body and pmnc_init accessed through pmnc -> the version they saw.
    depends_on: dict[str, int] = field(default_factory=dict)
    generation: int = 0
    changeset: tuple[str, ...] = ()
    loaded_at: float = 0.0
    rollback_of: Optional[int] = None
    restores: Optional[int] = None

    @property
    def stateful(self) -> bool:
        """Tell whether the version migrates state (defines ``pmnc_init``)."""
        return self.directives.stateful or "pmnc_init" in self.module.__dict__

    @property
    def reloadable(self) -> bool:
        """Tell whether the version may be replaced (``__reloadable__`` is not False)."""
        return self.directives.reloadable


@dataclass(frozen=True)
class Published:
    """What remains of a published version once it is superseded: enough to roll back to it."""

    number: int
    source: Source
    generation: int
    changeset: tuple[str, ...]


class Entry:
    """Everything known about one module name."""

    def __init__(self, name: str, fullname: str, path: str, loader: PmncLoader) -> None:
        self.name = name
        self.fullname = fullname
        self.path = path
        self.loader = loader
        self.lock = ModuleLock(name)  # first loads only
        self.current: Optional[Version] = None
        self.published: object = None
        # Set during a publication's flip, before the generation moves (see engine.py).
        self.next: object = None
        self.next_generation = 0
        self.shown = False  # published on the facade (written under the registry's show lock)
        self.tracker: Optional[Tracker] = None
        self.history: list[Published] = []
        self.last_error: Optional[BaseException] = None
        # The newest source attempted or queued and not published (staged, pending, built or
        # failed): a file that still holds it is no new change.
        self.candidate: Optional[bytes] = None
        self.failed_digest: Optional[bytes] = None
        self.logged: list[object] = []  # failure signatures already logged (bounded)
        self.pinned: Optional[bytes] = None  # a rollback holds against this file content
        # The file as last judged (published content, or a change staged): what a sweep
        # compares the file's stat with. Written by the detector thread and by checks.
        self.seen: Optional[Fingerprint] = None
        self.aliases: set[str] = set()  # guarded by the registry's lock
        self.retired: list[tuple[int, weakref.ref[VersionToken]]] = []

    @property
    def module(self) -> Optional[types.ModuleType]:
        """The current version's module, or ``None`` before the first load."""
        return self.current.module if self.current is not None else None

    @property
    def version(self) -> int:
        """The current version's number (0 before the first load)."""
        return self.current.number if self.current is not None else 0

    def view(self, version: Version) -> object:
        """Return what ``pmnc.<name>`` is for ``version`` (switching the tracker to it)."""
        if version.stateful or self.tracker is not None:
            if self.tracker is None:
                self.tracker = Tracker(self.name, version.module)
            self.tracker.switch(version.module)
        if version.stateful:
            assert self.tracker is not None
            return StatefulModule(self.tracker, version.module)
        return version.module

    def remember(self, version: Version) -> None:
        """Record ``version`` as published (history for rollback, lingering for status)."""
        old = self.current
        if old is not None:
            token = old.module.__dict__.get(TOKEN)
            if isinstance(token, VersionToken):
                self.retired = [(v, r) for v, r in self.retired if r() is not None]
                self.retired.append((old.number, weakref.ref(token)))
        self.history.append(
            Published(version.number, version.source, version.generation, version.changeset)
        )
        del self.history[:-HISTORY]
        self.current = version

    def lingering(self) -> tuple[int, ...]:
        """Return the numbers of superseded versions something still references."""
        self.retired = [(v, r) for v, r in self.retired if r() is not None]
        return tuple(v for v, _ in self.retired)

    def status(self) -> ModuleStatus:
        """Return the read-only record of this (loaded) module."""
        current = self.current
        assert current is not None
        return ModuleStatus(
            name=self.name,
            filename=self.path,
            version=current.number,
            reloadable=current.reloadable,
            stateful=current.stateful,
            loaded_at=current.loaded_at,
            last_error=self.last_error,
            lingering=self.lingering(),
            depends_on=tuple(sorted(current.depends_on)),
            generation=current.generation,
            rollback_of=current.rollback_of,
            restores=current.restores,
        )
