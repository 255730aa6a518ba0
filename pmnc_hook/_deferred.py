"""A start-up that waits for first use: what the ``PMNC_HOOK_PATH`` start-up defers.

The start-up (``pmnc_hook.run.startup``) installs only a small finder and records here how to
finish installing. Everything that needs the installed hook (the ``pmnc`` facade's miss path,
``status()``, ``refresh()``, ...) calls ``finish()`` first, which runs the recorded start once.
This module imports nothing, so that reading it costs a process nothing.
"""

from __future__ import annotations

from typing import Callable, Optional

__all__ = ("defer", "finish", "pending")

_start: Optional[Callable[[], object]] = None


def defer(start: Optional[Callable[[], object]]) -> None:
    """Record ``start`` to run at the first use (``None``: forget a recorded one)."""
    global _start
    _start = start


def pending() -> bool:
    """Tell whether a deferred start is still waiting for its first use."""
    return _start is not None


def finish() -> None:
    """Run the deferred start, if any (once; the caller's thread does it)."""
    global _start
    start = _start
    if start is None:
        return
    _start = None
    start()
