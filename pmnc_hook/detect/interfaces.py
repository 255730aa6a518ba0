"""The vocabulary change detection is written in: notices, the target it reports to, backends.

Nothing here does anything; every other module of ``pmnc_hook.detect`` speaks these types.
"""

from __future__ import annotations

import enum
from typing import Literal, Optional, Protocol

from pmnc_hook.reload.source import Fingerprint, StatKey

__all__ = ("Backend", "BackendFactory", "DetectMode", "Notice", "Notify", "Target")

# How changes are found now: the native watcher's events, or stat polling alone. Strings, since
# ``Hook.detector_mode()`` hands them to users.
DetectMode = Literal["watch", "poll"]


class Notice(enum.Enum):
    """What a notice says happened to a path, and so whether a writer may hold it open."""

    # Content was written: the writer may hold the file open until an EVENT notice says else.
    WRITE = "write"
    # Any other event that can change content, after which no writer is known to hold the
    # file: closed after writing, moved into place, deleted, created, its directory switched.
    EVENT = "event"
    # A sweep found a stat that no longer proves the content unchanged (says nothing of writers).
    STAT = "stat"


class Notify(Protocol):
    """Report that ``path`` may have changed (thread-safe; never blocks for long)."""

    def __call__(self, path: str, kind: Notice = ...) -> None: ...


class Target(Protocol):
    """What detection reports to: the registry of loaded modules."""

    def watched(self) -> list[tuple[str, Optional[Fingerprint]]]:
        """Return (path, published fingerprint or ``None``) of every loaded module."""
        ...

    def confirm(
        self, path: str, *, settled: bool, expect: Optional[StatKey] = None
    ) -> Optional[str]:
        """Compare ``path`` with the published version; if it differs, stage the bytes read
        and return the module name. Raise ``Unsettled`` if the file is still being written."""
        ...

    def commit(self) -> list[str]:
        """Turn everything staged since the last commit into one change-set; return its names."""
        ...


class Backend(Protocol):
    """A native watcher: ``start`` raises if it cannot run."""

    def start(self) -> None: ...

    def alive(self) -> bool: ...

    def stop(self, timeout: Optional[float] = ...) -> None: ...

    def housekeeping(self) -> None: ...

    def forget_after_fork(self) -> None: ...


class BackendFactory(Protocol):
    """Make a (not yet started) native watcher that reports to ``notify``."""

    def __call__(self, notify: Notify) -> Backend: ...
