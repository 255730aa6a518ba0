"""The gate's slow paths: a tracked call or a unit found a publication on its way.

A caller counted itself in, then saw ``gate.closed`` set. For each publication it must pass
(one whose stateful members include the call's module, or any for a unit of work): while the
publication drains, a caller that holds something it waits for (``holders.holds``), or runs
an event loop (which must never block), goes on, counted; any other caller counts itself out,
waits (bounded by the publication's deadline; a coroutine on its event loop), counts itself
in again and looks again. While a publication migrates (``pmnc_init`` and the flip run), every
caller but the publisher waits, with the wait in the lock graph. ``on_exit`` is the slow path
of leaving: the last call or unit out publishes, unless a waiting thread will.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Optional

from pmnc_hook.reload import gate, holders
from pmnc_hook.reload.drain import MIGRATION_WAIT
from pmnc_hook.reload.engine import Engine
from pmnc_hook.reload.publish import Phase, Publication

if TYPE_CHECKING:
    from pmnc_hook.reload.tracking import Tracker

__all__ = ("admit", "admit_async", "on_exit")

_log = logging.getLogger("pmnc_hook.engine")


def _blocking(engine: Engine, tracker: Optional[Tracker]) -> Optional[Publication]:
    """Return a publication this caller must not pass yet, if any: a migrating one first
    (holding what a draining one waits for lets a caller past that one, never past one
    whose pmnc_init already runs)."""
    draining = None
    for pub in list(engine.ready):
        if pub.phase not in (Phase.DRAINING, Phase.MIGRATING):
            continue
        if tracker is None or tracker in pub.trackers:
            if pub.phase is Phase.MIGRATING:
                return pub
            draining = draining or pub
    return draining


def admit(engine: Engine, tracker: Optional[Tracker]) -> None:
    """A tracked call (``tracker``) or a unit (``None``), counted in, found the gate closed."""
    count: deque[None] = tracker.inflight if tracker is not None else gate.units
    me = threading.get_ident()
    give_up = time.monotonic() + engine.drain_timeout + MIGRATION_WAIT
    while True:
        pub = _blocking(engine, tracker)
        if pub is None or time.monotonic() >= give_up:
            return
        if pub.phase is Phase.MIGRATING:
            if pub.publisher == me:
                return
        elif gate.on_event_loop() or holders.holds(
            pub.trackers,
            engine.registry.locks.holds_any(me),
            entering_unit=tracker is None,
            entering_call=tracker is not None,
        ):
            return
        count.pop()  # not in flight while waiting: the drain must not wait for us
        try:
            if pub.phase is Phase.MIGRATING:
                if not engine.wait_migration(pub):
                    return  # its publisher waits for us: go on with the version there is
            else:
                engine.wait(pub)
        finally:
            count.append(None)


async def admit_async(engine: Engine, tracker: Optional[Tracker]) -> None:
    """Like ``admit``, for a coroutine or ``async with request()``: waits on its loop."""
    count: deque[None] = tracker.inflight if tracker is not None else gate.units
    give_up = time.monotonic() + engine.drain_timeout + MIGRATION_WAIT
    while True:
        pub = _blocking(engine, tracker)
        if pub is None or time.monotonic() >= give_up:
            return
        if pub.phase is not Phase.MIGRATING and holders.holds(
            pub.trackers, False, entering_unit=tracker is None, entering_call=tracker is not None
        ):
            return
        count.pop()
        try:
            if not await pub.wait_async(engine._lock):
                with engine._lock:
                    if pub.phase is Phase.DRAINING and time.monotonic() >= pub.deadline:
                        engine.postpone(pub)
                pub.log_postponed(engine.drain_timeout)
        finally:
            count.append(None)


def on_exit(engine: Engine) -> None:
    """A call or unit left while a publication is ready: publish it if that was the last."""
    for pub in list(engine.ready):
        if pub.phase in (Phase.MIGRATING, Phase.DONE) or not pub.quiescent_counts():
            continue
        engine.notify()
        if pub.waiters:
            continue  # a waiting thread publishes it
        me = threading.get_ident()
        if holders.building() or engine.registry.locks.holds_any(me):
            return
        try:
            if pub.quiescent():
                engine.publish(pub)
        except Exception:
            _log.exception("publishing %s failed", pub.name)
