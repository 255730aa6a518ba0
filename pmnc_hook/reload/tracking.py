"""Quiescent swaps for stateful modules: count calls in flight, drain them, then migrate.

Only modules that define ``pmnc_init`` pay for this. ``pmnc.<name>`` is then a thin proxy
whose functions are wrappers: a call counts itself in (``deque.append`` of its thread id,
atomic under the GIL), *then* reads the tracker's state, then calls the current version's
function, and counts itself out. A swap sets the state to MIGRATING *before* it looks at the
in-flight count, so any call that counted itself in before the look is seen and waited for,
and any call that counted itself in after it reads MIGRATING and waits for the new version.
No update made through ``pmnc`` can land on the old version after ``pmnc_init`` copied it.

A swap never waits for calls it cannot outlast: a thread with calls of its own in flight in
any stateful module (re-entrant calls, a module triggering its own reload, coroutines of the
asking event loop) does not drain; the swap is postponed, with the executed new version kept,
and retried by the next access from outside any call once no call is in flight (or, after a
drain timeout, after a back-off). A call arriving during a drain waits for the new version,
unless it is nested in a call already in flight in this module, or in a module that is being
swapped itself: those go on, since the drain (or another) is waiting for their outer call.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import types
import weakref
from collections import deque
from typing import Any, Callable, Optional

__all__ = ("StatefulModule", "Tracker", "in_flight_anywhere")

_log = logging.getLogger("pmnc_hook.tracking")

IDLE = "idle"
DRAINING = "draining"
MIGRATING = "migrating"

_MAX_BACKOFF = 30.0
_trackers: weakref.WeakSet[Tracker] = weakref.WeakSet()

get_ident = threading.get_ident


def in_flight_anywhere(me: int, *, swapping_only: bool = False, but: object = None) -> bool:
    """Tell whether thread ``me`` has a call in flight in a stateful module (other than
    ``but``; only one being swapped, with ``swapping_only``)."""
    return any(
        me in t.inflight and (t.state is not IDLE or not swapping_only)
        for t in list(_trackers)
        if t is not but
    )


class Tracker:
    """Calls in flight through ``pmnc`` into one stateful module, and its pending swap."""

    def __init__(
        self,
        name: str,
        drain_timeout: float,
        show: Callable[[object], None],
        hide: Callable[[], None],
    ) -> None:
        self.name = name
        # Put the version callers should reach on the facade / take it off (miss path).
        self._show = show
        self._hide = hide
        self.drain_timeout = drain_timeout
        self.inflight: deque[int] = deque()
        self.state = IDLE
        self.owner: Optional[int] = None  # the thread running the swap
        self.module: Optional[types.ModuleType] = None
        self.ns: dict[str, Any] = {}
        # Set while no swap is in progress; waiting callers block on it.
        self.idle = threading.Event()
        self.idle.set()
        # Set by a call finishing while a swap drains; the swapping thread waits on it.
        self.exited = threading.Event()
        self.pending: Optional[tuple[Callable[[], object], Callable[[BaseException], object]]] = (
            None
        )
        self.pending_digest: Optional[bytes] = None
        self.published: object = None
        self.retry_at = 0.0
        self.backoff = 0.0
        _trackers.add(self)

    # -- what callers see -------------------------------------------------------------------

    def proxy(self, module: types.ModuleType) -> StatefulModule:
        """Make ``module`` the version calls go to; return the object ``pmnc.<name>`` is."""
        self.module = module
        self.ns = module.__dict__
        self.published = StatefulModule(self)
        return self.published

    def missing(self, name: str) -> AttributeError:
        """Return the error for a call to a function the current version no longer has."""
        return AttributeError(
            f"pmnc.{self.name}.{name} no longer exists: the current version of {self.name} "
            "does not define it (a function obtained through pmnc always calls the current "
            "version)"
        )

    def admit(self, me: int) -> None:
        """Let a call counted in during a swap go on, or wait until it may (blocking)."""
        while True:
            state = self.state
            if state is IDLE or self.owner == me or self.inflight.count(me) > 1:
                return
            if state is DRAINING and in_flight_anywhere(me, swapping_only=True, but=self):
                return  # its outer call holds up another swap: waiting could go round
            self.inflight.remove(me)
            self.exited.set()
            self.idle.wait(0.01)
            self.inflight.append(me)

    async def admit_async(self, me: int) -> None:
        """Like ``admit``, for a coroutine: waits without blocking its event loop."""
        import asyncio  # only coroutines get here; keeps asyncio out of start-up

        while True:
            state = self.state
            if state is IDLE or self.owner == me or self.inflight.count(me) > 1:
                return
            if state is DRAINING and in_flight_anywhere(me, swapping_only=True, but=self):
                return
            self.inflight.remove(me)
            self.exited.set()
            await asyncio.sleep(0.001)
            self.inflight.append(me)

    def wrapper(self, name: str, value: Callable[..., Any]) -> Callable[..., Any]:
        """Return the tracked callable standing for the module function ``name``."""
        target = inspect.unwrap(value)
        tracker = self
        append = self.inflight.append
        remove = self.inflight.remove

        wrapped: Callable[..., Any]
        if inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(target):

            async def call_coroutine(*args: Any, **kwargs: Any) -> Any:
                me = get_ident()
                append(me)
                try:
                    if tracker.state is not IDLE:
                        await tracker.admit_async(me)
                    try:
                        fn = tracker.ns[name]
                    except KeyError:
                        raise tracker.missing(name) from None
                    return await fn(*args, **kwargs)
                finally:
                    remove(me)
                    if tracker.state is not IDLE:
                        tracker.exited.set()

            wrapped = call_coroutine
        elif inspect.isasyncgenfunction(value) or inspect.isasyncgenfunction(target):

            async def call_async_generator(*args: Any, **kwargs: Any) -> Any:
                me = get_ident()
                append(me)
                try:
                    if tracker.state is not IDLE:
                        await tracker.admit_async(me)
                    try:
                        fn = tracker.ns[name]
                    except KeyError:
                        raise tracker.missing(name) from None
                    async for item in fn(*args, **kwargs):
                        yield item
                finally:
                    remove(me)
                    if tracker.state is not IDLE:
                        tracker.exited.set()

            wrapped = call_async_generator
        elif inspect.isgeneratorfunction(value) or inspect.isgeneratorfunction(target):

            def call_generator(*args: Any, **kwargs: Any) -> Any:
                me = get_ident()
                append(me)
                try:
                    if tracker.state is not IDLE:
                        tracker.admit(me)
                    try:
                        fn = tracker.ns[name]
                    except KeyError:
                        raise tracker.missing(name) from None
                    return (yield from fn(*args, **kwargs))
                finally:
                    remove(me)
                    if tracker.state is not IDLE:
                        tracker.exited.set()

            wrapped = call_generator
        else:

            def call(*args: Any, **kwargs: Any) -> Any:
                me = get_ident()
                append(me)
                try:
                    if tracker.state is not IDLE:
                        tracker.admit(me)
                    try:
                        fn = tracker.ns[name]
                    except KeyError:
                        raise tracker.missing(name) from None
                    return fn(*args, **kwargs)
                finally:
                    remove(me)
                    if tracker.state is not IDLE:
                        tracker.exited.set()

            wrapped = call
        wrapped.__name__ = getattr(value, "__name__", name)
        wrapped.__qualname__ = getattr(value, "__qualname__", name)
        wrapped.__doc__ = getattr(value, "__doc__", None)
        wrapped.__module__ = getattr(value, "__module__", None)  # type: ignore[assignment]
        return wrapped

    # -- the swap -----------------------------------------------------------------------------

    def swap(
        self,
        migrate: Callable[[], object],
        fail: Callable[[BaseException], object],
        digest: bytes,
    ) -> object:
        """Run ``migrate`` (pmnc_init + publish) once no call is in flight, or postpone it.

        ``digest`` identifies the executed new version kept for retries.
        """
        self.pending = (migrate, fail)
        self.pending_digest = digest
        self.backoff = 0.0
        return self.attempt()

    def ready(self) -> bool:
        """Tell whether a postponed swap should be tried now (by the calling thread)."""
        me = get_ident()
        if in_flight_anywhere(me):
            return False
        return not self.inflight or time.monotonic() >= self.retry_at

    def attempt(self) -> object:
        """Try the pending swap; return what ``pmnc.<name>`` is afterwards."""
        assert self.pending is not None
        migrate, fail = self.pending
        me = get_ident()
        if in_flight_anywhere(me):
            # Waiting for calls while this thread has calls in flight could wait for itself
            # (or for a thread waiting for it): postpone to an access from outside any call.
            _log.debug("pmnc.%s: swap postponed until this thread's calls finish", self.name)
            return self.published
        deadline = time.monotonic() + self.drain_timeout
        self.owner = me
        self.idle.clear()
        self.state = DRAINING
        # Calls in flight re-entering through pmnc must reach the old version without the
        # miss path (whose module lock this thread holds); new calls wait in the wrappers.
        self._show(self.published)
        try:
            while True:
                self.exited.clear()
                self.state = MIGRATING
                if not self.inflight:
                    break
                self.state = DRAINING
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.backoff = min(max(self.backoff * 2, 0.5), _MAX_BACKOFF)
                    self.retry_at = time.monotonic() + self.backoff
                    _log.warning(
                        "pmnc.%s: %d call(s) still running after the %.1f s drain timeout; "
                        "the reload is postponed (the old version keeps serving) and is "
                        "retried when they finish or in %.1f s",
                        self.name,
                        len(self.inflight),
                        self.drain_timeout,
                        self.backoff,
                    )
                    self._hide()  # accesses come back to the miss path, which retries
                    return self.published
                self.exited.wait(min(remaining, 0.05))
            self.pending = None
            self.pending_digest = None
            try:
                return migrate()
            except (Exception, SystemExit) as exc:
                return fail(exc)
        finally:
            self.owner = None
            self.state = IDLE
            self.idle.set()

    def discard(self) -> None:
        """Drop a postponed swap (a newer change supersedes it)."""
        self.pending = None
        self.pending_digest = None

    def close(self) -> None:
        """Release every waiting caller for good (the hook is being removed)."""
        self.pending = None
        self.state = IDLE
        self.idle.set()

    def reset_after_fork(self) -> None:
        """Forget calls and swaps of threads that do not exist in this child.

        A pending swap is kept (with ``pending_digest``, which the miss path matches against
        it): the calls it waited for are gone here, so the next access that retries it goes
        through, and the new version, which ran already, does not run twice.
        """
        me = get_ident()
        keep = [t for t in self.inflight if t == me]
        self.inflight.clear()
        self.inflight.extend(keep)
        self.idle = threading.Event()
        self.idle.set()
        self.exited = threading.Event()
        if self.owner != me:
            self.owner = None
            self.state = IDLE


class StatefulModule:
    """``pmnc.<name>`` of a stateful module: its functions are tracked, the rest forwarded."""

    def __init__(self, tracker: Tracker) -> None:
        object.__setattr__(self, "_StatefulModule__tracker", tracker)

    def __getattr__(self, name: str) -> Any:
        tracker: Tracker = object.__getattribute__(self, "_StatefulModule__tracker")
        value = getattr(tracker.module, name)
        if isinstance(value, types.FunctionType) and name in tracker.ns:
            wrapped = tracker.wrapper(name, value)
            object.__setattr__(self, name, wrapped)
            return wrapped
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        tracker: Tracker = object.__getattribute__(self, "_StatefulModule__tracker")
        setattr(tracker.module, name, value)

    def __delattr__(self, name: str) -> None:
        tracker: Tracker = object.__getattribute__(self, "_StatefulModule__tracker")
        delattr(tracker.module, name)

    def __dir__(self) -> list[str]:
        tracker: Tracker = object.__getattribute__(self, "_StatefulModule__tracker")
        return dir(tracker.module)

    def __repr__(self) -> str:
        tracker: Tracker = object.__getattribute__(self, "_StatefulModule__tracker")
        return f"<pmnc stateful module {tracker.name!r}: {tracker.module!r}>"
