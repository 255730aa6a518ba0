"""What the registry says about loads: log lines (each failure once) and reload events."""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Optional

from pmnc_hook._errors import ModuleLoadError
from pmnc_hook.reload.events import ReloadEvent
from pmnc_hook.reload.loader import failure_location
from pmnc_hook.reload.source import Source

if TYPE_CHECKING:
    from pmnc_hook.reload.entry import Entry, Version
    from pmnc_hook.reload.publish import Publication
    from pmnc_hook.reload.registry import Registry

__all__ = ("Failures", "announce_published", "log_postponed")

_log = logging.getLogger("pmnc_hook.registry")
_LOGGED = 32  # failure signatures remembered per module


def _once(entry: Entry, signature: object) -> bool:
    """Tell whether ``signature`` is new for ``entry`` (and remember it)."""
    if signature in entry.logged:
        return False
    entry.logged.append(signature)
    del entry.logged[:-_LOGGED]
    return True


_LIBRARY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def trim(exc: BaseException) -> None:
    """Drop the library's own frames from the front of ``exc``'s traceback (the user's
    module frames, where the failure is, stay)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_LIBRARY):
        tb = tb.tb_next
    exc.__traceback__ = tb


def _signature(exc: BaseException, source: Optional[Source]) -> object:
    if source is not None:
        return source.fingerprint.digest
    return (type(exc).__name__, str(exc))


class Failures:
    """Reports failed attempts of one registry; each distinct failure is logged once."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._frozen: set[str] = set()

    def _emit(
        self, entry: Entry, exc: Optional[BaseException], started: float, changeset: tuple[str, ...]
    ) -> None:
        self.registry.listeners.emit(
            ReloadEvent(
                entry.name,
                entry.path,
                entry.version,
                exc is None,
                exc,
                time.perf_counter() - started,
                self.registry.generation,
                changeset,
            )
        )

    def first_load_failed(
        self, entry: Entry, exc: BaseException, source: Optional[Source], started: float
    ) -> ModuleLoadError:
        """Report a failed first load; return the ``ModuleLoadError`` to raise from ``exc``."""
        entry.last_error = exc
        trim(exc)
        where = failure_location(exc, source.path if source else entry.path)
        if _once(entry, _signature(exc, source)):
            # One line: the error itself, with its traceback, goes to the caller.
            _log.error(
                "pmnc.%s: loading %s failed at %s: %s: %s",
                entry.name,
                entry.path,
                where,
                type(exc).__name__,
                exc,
            )
        self._emit(entry, exc, started, (entry.name,))
        return ModuleLoadError(
            f"cannot load pmnc.{entry.name}: {where}: {type(exc).__name__}: {exc}",
            name=entry.name,
            path=entry.path,
        )

    def set_failed(
        self,
        name: str,
        exc: BaseException,
        source: Optional[Source],
        names: tuple[str, ...],
        started: float,
    ) -> None:
        """Report a change-set that failed at member ``name``: nothing of it was published."""
        entry = self.registry.entry(name)
        if entry is None:
            return
        entry.last_error = exc
        trim(exc)
        if source is not None:
            entry.failed_digest = source.fingerprint.digest
        where = failure_location(exc, source.path if source else entry.path)
        others = [n for n in names if n != name]
        signature = (names, _signature(exc, source))
        if _once(entry, signature):
            _log.error(
                "pmnc.%s: reloading %s failed at %s: %s: %s; nothing of the change-set "
                "(%s) is published, version %d keeps serving%s",
                name,
                entry.path,
                where,
                type(exc).__name__,
                exc,
                ", ".join(names),
                entry.version,
                f" (with {', '.join(others)} at their versions)" if others else "",
                exc_info=exc,
            )
        for member in names:
            other = self.registry.entry(member)
            if other is not None and other.current is not None:
                self._emit(other, exc, started, names)

    def read_failed(self, entry: Entry, exc: BaseException) -> None:
        """Report that a loaded module's file could not be read (the old version serves)."""
        entry.last_error = exc
        if _once(entry, ("read", type(exc).__name__, getattr(exc, "errno", None))):
            _log.error(
                "pmnc.%s: cannot read %s: %s: %s; version %d keeps serving",
                entry.name,
                entry.path,
                type(exc).__name__,
                exc,
                entry.version,
            )

    def frozen_dependent(self, entry: Entry) -> None:
        """Say once that a ``__reloadable__ = False`` dependent is not run again."""
        if entry.name in self._frozen:
            return
        self._frozen.add(entry.name)
        _log.warning(
            "pmnc.%s reads modules that changed, but says __reloadable__ = False: it is not "
            "run again and keeps the values it read when it loaded",
            entry.name,
        )

    def first_load(self, entry: Entry, version: Version, started: float) -> None:
        """Announce a successful first load."""
        took = time.perf_counter() - started
        _log.info(
            "pmnc.%s loaded version %d from %s in %.1f ms",
            entry.name,
            version.number,
            version.source.path,
            took * 1000,
        )
        self._emit(entry, None, started, (entry.name,))


def announce_published(registry: Registry, pub: Publication) -> None:
    """Log each member of a published change-set and emit its event."""
    took = time.perf_counter() - pub.started
    names = pub.changeset.names
    for name in pub.order:
        version = pub.versions[name]
        entry = registry.entry(name)
        if entry is None:
            continue
        what = "reloaded to" if version.restores is None else "rolled back to"
        _log.info(
            "pmnc.%s %s version %d from %s in %.1f ms%s",
            name,
            what,
            version.number,
            version.source.path,
            took * 1000,
            f" (generation {version.generation}: {', '.join(names)})" if len(names) > 1 else "",
        )
        registry.listeners.emit(
            ReloadEvent(
                name,
                version.source.path,
                version.number,
                True,
                None,
                took,
                version.generation,
                names,
                version.rollback_of,
                version.restores,
            )
        )


def log_postponed(pub: Publication, drain_timeout: float) -> None:
    """Warn that a publication waited ``drain_timeout`` in vain and is postponed."""
    from pmnc_hook.reload import gate

    calls = sum(len(t.inflight) for t in pub.trackers)
    _log.warning(
        "%s: %d unit(s) of work and %d call(s) still running after the %.1f s drain timeout; "
        "it is postponed (the old versions keep serving) and retried when they finish or in "
        "%.1f s",
        pub.name,
        len(gate.units),
        calls,
        drain_timeout,
        pub.backoff,
    )
