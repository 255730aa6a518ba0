"""The wait-for picture: module locks (first loads) and waits for a publication, in one graph.

Two threads first-loading ``a`` and ``b`` whose bodies need each other would each hold one
lock and wait for the other. Before blocking, a thread follows the chain "what I wait for ->
its owner -> what that owner waits for -> ..."; if the chain comes back to itself, it raises
``Deadlock`` instead of waiting (the rule CPython's importlib uses for its module locks).
Waits for a publication in progress (``Node``, owned by the publishing thread) are part of the
same picture, so a wait that would close a cycle through them is refused at once too.
Every wait is bounded: ``acquire`` takes a timeout.
"""

from __future__ import annotations

import threading
import time
from typing import Optional, Protocol

__all__ = ("Deadlock", "LockGraph", "ModuleLock", "Node")


class Deadlock(Exception):
    """Waiting would never end; ``names`` is the chain of what each thread waits for."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(" -> ".join(names))
        self.names = names


class Node(Protocol):
    """Something a thread can wait for: it has a name and, while held, an owner thread."""

    name: str
    owner: Optional[int]


class ModuleLock:
    """A re-entrant lock for one module's first load; owner and count are guarded by the graph."""

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
    """Who holds which module lock, and what each thread is waiting for."""

    def __init__(self) -> None:
        # Guards ModuleLock.owner/count, _waiting and _held. Never held while blocking; a
        # module lock is never acquired while holding it.
        self._guard = threading.Lock()
        self._waiting: dict[int, Node] = {}
        self._held: dict[int, int] = {}  # thread -> number of module locks it holds

    def _check(self, me: int, node: Node) -> None:
        """Raise ``Deadlock`` if waiting for ``node`` would close a cycle (under the guard)."""
        chain = [node.name]
        holder = node.owner
        seen: set[int] = set()
        while holder is not None and holder not in seen:
            if holder == me:
                raise Deadlock(chain)
            seen.add(holder)
            waited = self._waiting.get(holder)
            if waited is None:
                return
            chain.append(waited.name)
            holder = waited.owner

    def begin_wait(self, node: Node) -> None:
        """Record that this thread is about to wait for ``node``; ``Deadlock`` if it never ends."""
        me = threading.get_ident()
        with self._guard:
            self._check(me, node)
            self._waiting[me] = node

    def end_wait(self) -> None:
        """Record that this thread no longer waits."""
        with self._guard:
            self._waiting.pop(threading.get_ident(), None)

    def acquire(self, lock: ModuleLock, timeout: float = 300.0) -> bool:
        """Take ``lock`` (re-entrant) within ``timeout`` seconds; ``Deadlock`` if never."""
        me = threading.get_ident()
        with self._guard:
            if lock.owner == me:
                lock.count += 1
                return True
            if lock._inner.acquire(False):
                self._take(lock, me)
                return True
            self._check(me, lock)
            self._waiting[me] = lock
        deadline = time.monotonic() + timeout
        try:
            while True:
                # Short slices: a holder that forks away, or a cycle closed after we started
                # waiting (by a wait that does not go through this graph), is seen again.
                if lock._inner.acquire(timeout=max(0.0, min(deadline - time.monotonic(), 1.0))):
                    break
                if time.monotonic() >= deadline:
                    return False
                with self._guard:
                    self._waiting.pop(me, None)
                    self._check(me, lock)
                    self._waiting[me] = lock
        finally:
            with self._guard:
                self._waiting.pop(me, None)
        with self._guard:
            self._take(lock, me)
        return True

    def _take(self, lock: ModuleLock, me: int) -> None:
        lock.owner = me
        lock.count = 1
        self._held[me] = self._held.get(me, 0) + 1

    def release(self, lock: ModuleLock) -> None:
        """Release one level of ``lock``, held by the calling thread."""
        me = threading.get_ident()
        with self._guard:
            if lock.owner != me:
                raise RuntimeError(f"module lock {lock.name!r} released by a thread not holding it")
            lock.count -= 1
            if lock.count:
                return
            lock.owner = None
            left = self._held.get(me, 1) - 1
            if left:
                self._held[me] = left
            else:
                self._held.pop(me, None)
        lock._inner.release()

    def holds_any(self, me: int) -> bool:
        """Tell whether thread ``me`` holds a module lock (it is inside a first load)."""
        return me in self._held

    def reset_after_fork(self, locks: list[ModuleLock]) -> None:
        """Re-create everything a thread that no longer exists may have held."""
        me = threading.get_ident()
        self._guard = threading.Lock()
        self._waiting = {}
        self._held = {me: self._held[me]} if me in self._held else {}
        for lock in locks:
            if lock.owner != me:
                lock.reset()
