"""The access path: ``pmnc.<name>`` missed on the facade -> what it is now.

Read top to bottom: ``access`` finds the entry; a module never loaded is *first-loaded* here,
under its module lock (the only wait for another thread's module code: there is no old
version to serve meanwhile): read the file once, compile (directives first), execute into a
fresh module, ``pmnc_init(None, new, filename)``, publish. A loaded module that missed is a
member of a change-set on its way (``engine.Engine.access``), or was taken off for a moment.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from pmnc_hook._errors import CycleError, ModuleLoadError
from pmnc_hook.reload import changeset, lines, recording
from pmnc_hook.reload.build import build_version, run_init
from pmnc_hook.reload.locks import Deadlock
from pmnc_hook.reload.source import missing_module

if TYPE_CHECKING:
    from pmnc_hook.reload.entry import Entry
    from pmnc_hook.reload.registry import Registry

__all__ = ("FIRST_LOAD_WAIT", "access")

# How long a thread waits for another thread's first load of a module before giving up.
FIRST_LOAD_WAIT = 300.0

_local = threading.local()


def _loading() -> list[str]:
    """The names this thread is first-loading, outermost first."""
    stack: list[str] = _local.__dict__.setdefault("stack", [])
    return stack


def access(registry: Registry, name: str) -> object:
    """Return what ``pmnc.<name>`` is now, loading it first if it never was."""
    entry = registry.entry(name) or registry.new_entry(name)
    ctx = changeset.context()
    if ctx is not None and name in ctx.members and entry.current is not None:
        version = ctx.build(name)  # this thread builds a set: its members are the new ones
        if version is not None:
            recording.note(name, version.number)
            return version.module
    if entry.current is None:
        result = _first_load(registry, entry)
    else:
        result = registry.engine.access(entry)
    recording.note(name, entry.version)
    return result


def _first_load(registry: Registry, entry: Entry) -> object:
    stack = _loading()
    if entry.name in stack:
        raise CycleError([*stack[stack.index(entry.name) :], entry.name])
    try:
        if not registry.locks.acquire(entry.lock, FIRST_LOAD_WAIT):
            raise ModuleLoadError(
                f"pmnc.{entry.name} is still being loaded by another thread after "
                f"{FIRST_LOAD_WAIT:.0f} s (does its module body wait for this thread?)",
                name=entry.name,
                path=entry.path,
            )
    except Deadlock as exc:
        raise CycleError([*stack[-1:], *exc.names]) from None
    stack.append(entry.name)
    try:
        if entry.current is not None:
            return registry.engine.visible(entry)  # another thread loaded it meanwhile
        return _load(registry, entry)
    finally:
        stack.pop()
        registry.locks.release(entry.lock)


def _load(registry: Registry, entry: Entry) -> object:
    started = time.perf_counter()
    source = None
    version = None
    try:
        source = registry.read(entry)
        if source is None:
            raise missing_module(entry.name, registry.directories, registry.exclude)
        version = build_version(registry, entry, source, 1)
        run_init(version, None)
    except BaseException as exc:
        error = registry.failures.first_load_failed(entry, exc, source, started)
        if version is not None:
            lines.retire((version.module, "not published: its load failed"))
        if isinstance(exc, KeyboardInterrupt):
            raise  # a Ctrl-C reaches the one caller whose access ran the failing code
        raise error from exc
    version.generation = registry.generation
    version.changeset = (entry.name,)
    version.loaded_at = time.time()
    registry.publish(entry, version, entry.view(version))
    registry.failures.first_load(entry, version, started)
    return entry.published
