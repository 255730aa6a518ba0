"""Record what a module body (or ``pmnc_init``) reads through ``pmnc``: its dependencies.

While any thread runs a body, the ``pmnc`` facade holds no attributes (``facade.py``), so every
module access goes through the registry, which calls ``note``: the accesses of a thread that
is recording are kept; when no body runs anywhere, the facade is back to plain attribute hits
(no code of ours on a hit). Every access is recorded, whether it is the body's own ``pmnc.x``
or one made by a function the body calls, with the version number it saw.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Callable, Optional

from pmnc_hook.reload import facade

__all__ = ("note", "recording")

_local = threading.local()
# Guards _active and the facade's class switch.
_lock = threading.Lock()
_active = 0
# Set by the registry: name -> the version number pmnc.<name> is now (None: not a module).
version_of: Optional[Callable[[str], Optional[int]]] = None


def _stack() -> list[tuple[str, dict[str, int]]]:
    stack: Optional[list[tuple[str, dict[str, int]]]] = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


@contextmanager
def recording(name: str) -> Iterator[dict[str, int]]:
    """Record, for module ``name``, the modules this thread accesses until the block ends."""
    global _active
    seen: dict[str, int] = {}
    stack = _stack()
    stack.append((name, seen))
    with _lock:
        _active += 1
        if _active == 1:
            facade.record_accesses(True)
    try:
        yield seen
    finally:
        stack.pop()
        with _lock:
            _active -= 1
            if _active == 0:
                facade.record_accesses(False)


def note(name: str, number: Optional[int] = None) -> None:
    """Note that this thread accessed module ``name`` (at version ``number`` if known)."""
    stack: Optional[list[tuple[str, dict[str, int]]]] = getattr(_local, "stack", None)
    if not stack:
        return
    owner, seen = stack[-1]
    if name == owner or name in seen:
        return
    if number is None:
        lookup = version_of
        number = lookup(name) if lookup is not None else None
        if number is None:
            return
    seen[name] = number


def reset_after_fork() -> None:
    """In a forked child: only this thread can be recording."""
    global _lock, _active
    _lock = threading.Lock()
    _active = len(_stack())
    facade.reset_after_fork()
    facade.record_accesses(_active > 0)
