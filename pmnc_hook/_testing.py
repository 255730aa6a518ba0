"""A seam for tests: read-only views of the engine's state, so tests need no private fields.

Not public API; stable enough for this project's own tests.
"""

from __future__ import annotations

from typing import Optional

from pmnc_hook import _api
from pmnc_hook.reload import gate

__all__ = ("in_flight", "phase", "set_drain_timeout", "units_in_flight")


def in_flight(name: str) -> int:
    """Return how many tracked calls into ``pmnc.<name>`` are in flight (0 if untracked)."""
    hook = _api.current()
    entry = hook.registry.entry(name) if hook is not None else None
    tracker = entry.tracker if entry is not None else None
    return len(tracker.inflight) if tracker is not None else 0


def units_in_flight() -> int:
    """Return how many units of work are in flight."""
    return len(gate.units)


def phase(name: Optional[str] = None) -> Optional[str]:
    """Return the phase of the publication on its way ("draining", "postponed",
    "migrating"), if there is one (and ``name`` is one of its members)."""
    hook = _api.current()
    for pub in hook.registry.engine.ready if hook is not None else ():
        if name is None or name in pub.changeset.members:
            return pub.phase.value
    return None


def set_drain_timeout(seconds: float) -> None:
    """Make publications built from now on wait ``seconds`` for their drain."""
    hook = _api.current()
    if hook is not None:
        hook.registry.engine.drain_timeout = seconds
