"""Per-module load locks that detect wait cycles instead of deadlocking.

Two threads first-loading ``a`` and ``b`` whose bodies need each other would each hold one
lock and wait for the other. Before blocking, a thread follows the chain "lock -> owner ->
lock that owner waits for -> ..."; if the chain comes back to itself, it raises ``Deadlock``
instead of waiting (the same rule CPython's importlib uses for its module locks).
"""

from __future__ import annotations

import threading
from typing import Optional

__all__ = ("Deadlock", "LockGraph", "ModuleLock")


class Deadlock(Exception):
    """Waiting for this lock would never end; ``names`` is the chain of module names."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(" -> ".join(names))
        self.names = names


class ModuleLock:
    """A re-entrant lock for one module's loads; owner and count are guarded by the graph."""

    __slots__ = ("_inner", "count", "name", "owner")

    def __init__(self, name: str) -> None:
        self.name = name
        self._inner = threading.Lock()
        self.owner: Optional[int] = None
        self.count = 0

    def reset(self) -> None:
        """Forget every holder (after ``fork``, whose other threads are gone)."""
        self._inner = threading.Lock()
        self.owner = None
        self.count = 0


class LockGraph:
    """Who holds which module lock and which lock each thread is waiting for."""

    def __init__(self) -> None:
        # Guards ModuleLock.owner/count and _waiting. Never held while blocking on a module
        # lock; a module lock is never acquired while holding it.
        self._guard = threading.Lock()
        self._waiting: dict[int, ModuleLock] = {}

    def acquire(self, lock: ModuleLock, blocking: bool = True) -> bool:
        """Take ``lock`` (re-entrant); raise ``Deadlock`` if waiting could never end.

        With ``blocking=False``, return ``False`` at once if another thread holds it.
        """
        me = threading.get_ident()
        with self._guard:
            if lock.owner == me:
                lock.count += 1
                return True
            if not blocking:
                if not lock._inner.acquire(False):
                    return False
                lock.owner = me
                lock.count = 1
                return True
            chain = [lock.name]
            holder = lock.owner
            seen: set[int] = set()
            while holder is not None and holder not in seen:
                if holder == me:
                    raise Deadlock(chain)
                seen.add(holder)
                waited = self._waiting.get(holder)
                if waited is None:
                    break
                chain.append(waited.name)
                holder = waited.owner
            self._waiting[me] = lock
        try:
            lock._inner.acquire()
        finally:
            with self._guard:
                self._waiting.pop(me, None)
        with self._guard:
            lock.owner = me
            lock.count = 1
        return True

    def release(self, lock: ModuleLock) -> None:
        """Release one level of ``lock``, held by the calling thread."""
        with self._guard:
            if lock.owner != threading.get_ident():
                raise RuntimeError(f"module lock {lock.name!r} released by a thread not holding it")
            lock.count -= 1
            if lock.count:
                return
            lock.owner = None
        lock._inner.release()

    def reset_after_fork(self, locks: list[ModuleLock]) -> None:
        """Re-create everything a thread that no longer exists may have held."""
        me = threading.get_ident()
        self._guard = threading.Lock()
        self._waiting = {}
        for lock in locks:
            if lock.owner != me:
                lock.reset()
