"""The gate every tracked call and unit of work passes: two flags on the fast path.

``closed`` is ``None`` while no publication holds callers back; a tracked call or a unit
entering reads only it (after counting itself in). ``watching`` is ``None`` while no
publication waits for calls to finish; a call or unit leaving reads only it (after counting
itself out). Both are written by the engine only, under its lock; everything else here is the
slow path, taken when one of them is set, and hands over to the installed engine.

Counting in *before* reading ``closed`` is what makes the engine's drain exact: it sets
``closed`` before it looks at the counts, so a caller either is counted in that look or sees
the gate closed (see ``engine.py``).
"""

from __future__ import annotations

import contextvars
import sys
import threading
from collections import deque
from typing import TYPE_CHECKING, Callable, Optional

if TYPE_CHECKING:
    from pmnc_hook.reload.engine import Engine
    from pmnc_hook.reload.tracking import Tracker

__all__ = (
    "admit",
    "admit_async",
    "caller_id",
    "closed",
    "enter_async",
    "exited",
    "leave_async",
    "on_event_loop",
    "units",
    "watching",
)

closed: Optional[object] = None
watching: Optional[object] = None
engine: Optional[Engine] = None

# Units of work in flight, process-wide: one element each (only the length counts).
units: deque[None] = deque()

# The trackers whose coroutines are in flight in this task (inherited by the tasks they start).
_async_calls: contextvars.ContextVar[tuple[Tracker, ...]] = contextvars.ContextVar(
    "pmnc_hook_async_calls", default=()
)


def admit(tracker: Optional[Tracker]) -> None:
    """Slow path of a tracked call (a unit: ``None``) entering while the gate is closed."""
    current = engine
    if current is not None:
        from pmnc_hook.reload import admission

        admission.admit(current, tracker)


async def admit_async(tracker: Optional[Tracker]) -> None:
    """Slow path of a tracked coroutine (a unit: ``None``) entering while the gate is closed."""
    current = engine
    if current is not None:
        from pmnc_hook.reload import admission

        await admission.admit_async(current, tracker)


def exited() -> None:
    """Slow path of a call or unit leaving while a publication waits for calls to finish."""
    current = engine
    if current is not None:
        from pmnc_hook.reload import admission

        admission.on_exit(current)


def enter_async(tracker: Tracker) -> contextvars.Token[tuple[Tracker, ...]]:
    """Record that this task has a coroutine of ``tracker``'s module in flight."""
    return _async_calls.set((*_async_calls.get(), tracker))


def leave_async(token: contextvars.Token[tuple[Tracker, ...]]) -> None:
    """Undo ``enter_async`` (in the same task)."""
    try:
        _async_calls.reset(token)
    except ValueError:  # finished in another context (a coroutine driven by hand)
        pass


def async_calls() -> tuple[Tracker, ...]:
    """Return the trackers whose coroutines this task (or the task that started it) runs."""
    return _async_calls.get()


def _asyncio_function(name: str, python_module: str) -> Optional[Callable[[], object]]:
    """Return asyncio's ``name`` if asyncio is imported (its C accelerator's, else the
    Python module's). Never ``asyncio.<submodule>`` itself: while another thread imports
    asyncio, or under lazy imports, the package is in ``sys.modules`` without them."""
    function = getattr(sys.modules.get("_asyncio"), name, None)
    if function is None:
        function = getattr(sys.modules.get(python_module), name, None)
    return function


def _running_loop() -> object:
    get = _asyncio_function("_get_running_loop", "asyncio.events")
    return get() if get is not None else None  # no asyncio yet: no loop is running


def on_event_loop() -> bool:
    """Tell whether this thread is running an asyncio event loop (it must never block)."""
    return _running_loop() is not None


def caller_id() -> object:
    """Return who is calling: the thread, and the asyncio task if one is running."""
    me = threading.get_ident()
    if _running_loop() is not None:
        current = _asyncio_function("current_task", "asyncio.tasks")
        task = current() if current is not None else None
        if task is not None:
            return (me, id(task))
    return me
