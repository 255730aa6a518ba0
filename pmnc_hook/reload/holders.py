"""Who holds what: may this caller wait for a publication, or must it go on without waiting?

A caller that holds something a publication waits for (a unit of work in flight, a call in
flight in one of its stateful members), a module lock (it is inside a first load), or that is
building a change-set, never waits for that publication: waiting could close a cycle (the
publication waits for what it holds). It goes on, counted, and the publication waits for it
like for any other call. Everyone else may wait, bounded. Calls in flight are found without
any cost on the fast path: by the wrapper frames on this thread's stack, the coroutines in
flight in this task (a context variable, inherited by the tasks they start), and the tracked
generators this thread or task first resumed.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Collection
from types import FrameType
from typing import Optional

from pmnc_hook.reload import gate, units
from pmnc_hook.reload.tracking import WRAPPER_CODES, Tracker

__all__ = ("building", "calls_in_flight", "holds")

_local = threading.local()


def building() -> int:
    """Return how deep this thread is in building versions (bodies, pmnc_init) right now."""
    depth: int = getattr(_local, "depth", 0)
    return depth


def enter_build() -> None:
    """Note that this thread starts running a module body or ``pmnc_init``."""
    _local.depth = building() + 1


def leave_build() -> None:
    """Undo ``enter_build``."""
    _local.depth = building() - 1


def calls_in_flight(frame: Optional[FrameType]) -> list[Tracker]:
    """Return the trackers of the tracked calls whose frames are on the stack from ``frame``."""
    found: list[Tracker] = []
    while frame is not None:
        if frame.f_code in WRAPPER_CODES:
            tracker = frame.f_locals.get("tracker")
            if isinstance(tracker, Tracker):
                found.append(tracker)
        frame = frame.f_back
    return found


def holds(
    trackers: Collection[Tracker],
    holds_lock: bool,
    *,
    entering_unit: bool = False,
    entering_call: bool = False,
) -> bool:
    """Tell whether the caller holds something a publication draining ``trackers`` (and every
    unit of work) waits for, or a module lock (``holds_lock``), or is building versions.

    ``entering_unit``/``entering_call``: the caller is a unit of work or a tracked call being
    admitted; that unit or call itself does not count.
    """
    if holds_lock or building() or (not entering_unit and units.in_unit()):
        return True
    if not trackers:
        return False
    if any(t in trackers for t in gate.async_calls()):
        return True
    me = gate.caller_id()
    for tracker in trackers:
        if me in list(tracker.generators.values()):
            return True
    frame: Optional[FrameType] = sys._getframe(1)
    if entering_call:  # the wrapper frame of the call being admitted does not count
        while frame is not None and frame.f_code not in WRAPPER_CODES:
            frame = frame.f_back
        frame = frame.f_back if frame is not None else None
    return any(t in trackers for t in calls_in_flight(frame))
