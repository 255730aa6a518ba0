"""Module load locks: re-entrant, and wait cycles raise instead of hanging."""

from __future__ import annotations

import threading

import pytest

from pmnc_hook.reload.locks import Deadlock, LockGraph, ModuleLock


def test_reentrant():
    graph, lock = LockGraph(), ModuleLock("a")
    graph.acquire(lock)
    graph.acquire(lock)
    graph.release(lock)
    graph.release(lock)
    assert lock.owner is None


def test_two_threads_waiting_for_each_other_detect_the_cycle():
    graph = LockGraph()
    a, b = ModuleLock("a"), ModuleLock("b")
    holding = threading.Barrier(2, timeout=10)
    results: dict[str, object] = {}

    def worker(first, second, key):
        graph.acquire(first)
        holding.wait()
        try:
            graph.acquire(second)
        except Deadlock as exc:
            results[key] = exc
        else:
            results[key] = "got"
            graph.release(second)
        finally:
            graph.release(first)

    threads = [
        threading.Thread(target=worker, args=(a, b, "t1")),
        threading.Thread(target=worker, args=(b, a, "t2")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
        assert not t.is_alive(), "deadlocked"
    deadlocks = [r for r in results.values() if isinstance(r, Deadlock)]
    assert len(deadlocks) >= 1
    assert set(deadlocks[0].names) == {"a", "b"}


def test_reset_after_fork_frees_locks_of_other_threads():
    graph, lock = LockGraph(), ModuleLock("a")
    t = threading.Thread(target=graph.acquire, args=(lock,))
    t.start()
    t.join()
    assert lock.owner is not None
    graph.reset_after_fork([lock])
    graph.acquire(lock)
    graph.release(lock)


def test_release_unheld_lock_is_an_error():
    graph, lock = LockGraph(), ModuleLock("a")
    graph.acquire(lock)
    graph.release(lock)
    with pytest.raises(RuntimeError):
        graph.release(lock)
