"""One module name's record (versions, fingerprints, flags) and the read-only status of it."""

from __future__ import annotations

import traceback
import types
import weakref
from dataclasses import dataclass
from typing import Optional

from pmnc_hook.reload.loader import PmncLoader
from pmnc_hook.reload.locks import ModuleLock
from pmnc_hook.reload.source import Fingerprint, Source
from pmnc_hook.reload.tracking import Tracker

__all__ = (
    "TOKEN",
    "Entry",
    "ModuleStatus",
    "VersionToken",
    "failure_location",
)


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


class VersionToken:
    """Lives in a version's globals: alive exactly as long as anything can run that version."""

    __slots__ = ("__weakref__", "version")

    def __init__(self, version: int) -> None:
        self.version = version


TOKEN = "__pmnc_version__"


class Entry:
    """Everything known about one module name. Fields change only under ``lock``, except
    ``dirty`` and ``detected`` (set by the detector) and ``fingerprint`` (refreshed by checks);
    single attribute writes, atomic under the GIL."""

    def __init__(self, name: str, fullname: str, path: str, loader: PmncLoader) -> None:
        self.name = name
        self.fullname = fullname
        self.path = path
        self.loader = loader
        self.lock = ModuleLock(name)
        self.module: Optional[types.ModuleType] = None
        self.published: object = None
        self.version = 0
        self.fingerprint: Optional[Fingerprint] = None
        self.reloadable = True
        self.stateful = False
        self.loaded_at = 0.0
        self.last_error: Optional[BaseException] = None
        self.dirty = False
        self.detected: Optional[Source] = None
        self.failed_digest: Optional[bytes] = None
        self.ignored_digest: Optional[bytes] = None
        self.aliases: set[str] = set()
        self.retired: list[tuple[int, weakref.ref[VersionToken]]] = []
        self.tracker: Optional[Tracker] = None


def failure_location(exc: BaseException, path: str) -> str:
    """Return ``file:line`` of the failure inside the module file if it can be found."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"{exc.filename or path}:{exc.lineno}"
    line = getattr(exc, "lineno", None)
    filename = getattr(exc, "filename", None)
    if isinstance(line, int) and filename:
        return f"{filename}:{line}"
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            found = frame.lineno
    return f"{path}:{found}" if found else path
