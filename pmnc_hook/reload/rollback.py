"""``rollback(name)``: publish the previous published source of a module (or its set) again.

The restored source goes through the normal path as a new version (its body runs,
``pmnc_init(old=current, new=restored)`` carries state forward). A module published as part
of a change-set rolls back with every member still on that set's versions, as one new
generation. Each restored module then holds against its file's present content (``pinned``):
detection and ``refresh()`` ignore the file until it changes to something else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pmnc_hook._errors import PmncHookError
from pmnc_hook.reload.source import read_source

if TYPE_CHECKING:
    from pmnc_hook.reload.engine import Batch
    from pmnc_hook.reload.entry import Entry
    from pmnc_hook.reload.registry import Registry

__all__ = ("rollback",)


def _members(registry: Registry, entry: Entry) -> list[Entry]:
    """The modules published together with ``entry``'s current version, still on it."""
    current = entry.current
    assert current is not None
    found = []
    for name in current.changeset:
        other = registry.entry(name)
        version = other.current if other is not None else None
        if (
            other is not None
            and version is not None
            and version.generation == current.generation
            and version.changeset == current.changeset
        ):
            found.append(other)
    return found or [entry]


def rollback(registry: Registry, name: str) -> int:
    """Roll ``name`` (and its change-set) back; return the version number it gets."""
    entry = registry.entry(name) if isinstance(name, str) else None
    if entry is None or entry.current is None:
        raise PmncHookError(f"cannot roll back pmnc.{name!s}: no module {name!r} is loaded")
    if len(entry.history) < 2:
        raise PmncHookError(
            f"cannot roll back pmnc.{name}: version {entry.version} is the first version "
            "published, there is no previous one"
        )
    planned = entry.version + 1
    batch: Batch = {}
    for member in _members(registry, entry):
        current = member.current
        if current is None or len(member.history) < 2:
            continue
        previous = member.history[-2]
        try:
            on_disk = read_source(member.path)
        except OSError:
            on_disk = None
        member.pinned = (on_disk or current.source).fingerprint.digest
        member.candidate = previous.source.fingerprint.digest
        batch[member.name] = (previous.source, (current.number, previous.number))
    registry.engine.commit(batch)
    registry.access(name)
    if entry.version >= planned:
        return entry.version
    error = entry.last_error
    if (
        error is not None
        and registry.engine.failed is not None
        and name in (registry.engine.failed.members)
    ):
        raise PmncHookError(
            f"rollback of pmnc.{name} failed: {type(error).__name__}: {error}; version "
            f"{entry.version} keeps serving"
        ) from error
    return planned  # built; published once the units and calls in flight finish
