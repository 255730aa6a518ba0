"""A start-up that waits for first use: what the ``PMNC_HOOK_PATH`` start-up defers.

The start-up (``pmnc_hook.run.startup``) installs only a small finder and records here how to
finish installing. Everything that needs the installed hook (the ``pmnc`` facade's miss path,
``status()``, ``refresh()``, ...) calls ``finish()`` first, which runs the recorded start once.
This module imports nothing but ``_thread``, so that reading it costs a process nothing.
"""

from __future__ import annotations

import _thread

TYPE_CHECKING = False  # typing itself costs start-up time; mypy reads the block below
if TYPE_CHECKING:
    from typing import Callable, Optional

__all__ = ("defer", "finish", "pending")

_start: Optional[Callable[[], object]] = None
# The thread running the start, while it runs: pending() stays true until the start is done,
# so a second thread's first use waits for it (in finish()) instead of finding nothing there.
_owner: Optional[int] = None
# Held while the start runs; re-entrant, since the start's own imports may ask again.
_lock = _thread.RLock()


def defer(start: Optional[Callable[[], object]]) -> None:
    """Record ``start`` to run at the first use (``None``: forget a recorded one)."""
    global _start
    _start = start


def pending() -> bool:
    """Tell whether a deferred start is still waiting for its first use, or running."""
    return _start is not None or _owner is not None


def finish(timeout: Optional[float] = None) -> bool:
    """Run the deferred start, if any, once; tell whether none is pending any more.

    A caller in another thread waits until the start is done, or ``timeout`` seconds (a
    finder waits with one: it holds the import lock of the name it was asked for, which the
    start may need). Called again by the thread running the start, it returns at once.
    """
    global _start, _owner
    if not pending():
        return True
    if not _lock.acquire(timeout=-1 if timeout is None else timeout):
        return False
    try:
        start = _start
        if start is None or _owner is not None:
            return not pending()
        _owner = _thread.get_ident()  # before _start is cleared: pending() stays true
        _start = None
        try:
            _watch_forks()
            start()
        finally:
            _owner = None
        return True
    finally:
        _lock.release()


_forks_watched = False


def _watch_forks() -> None:
    # Registered only now: pmnc_hook._fork costs start-up time, and only a fork while the
    # start runs (in another thread) leaves this module's lock held in the child.
    global _forks_watched
    if not _forks_watched:
        from pmnc_hook._fork import at_fork

        at_fork(after_in_child=_after_fork_in_child)
        _forks_watched = True


def _after_fork_in_child() -> None:
    global _lock, _owner
    _lock = _thread.RLock()
    _owner = None  # the thread running the start is not in this process
