"""Long-run figures: 1,000 reloads with other threads calling through ``pmnc`` all along.

    python benchmarks/bench_soak.py [--reloads N] [--callers T] [--json]

The hook runs in watch mode over two modules, each version carrying an 80 KB list so that a
leaked version shows: ``bar`` (plain) and ``st`` (stateful: ``pmnc_init`` migrates a counter,
so each of its reloads is a quiescent swap). Caller threads call both through ``pmnc`` in
bursts the whole time. Each round rewrites both files (write-then-rename), calls
``refresh()`` and waits until the new versions answer. After a warm-up of 200 rounds (the
heap grows to its working size over the first hundred or so, with or without a leak) the
figures are taken, then N rounds run (resident memory sampled every 100), then they are
taken again:

- open file descriptors (``/proc/self/fd``), thread count, resident memory
  (``/proc/self/statm``) and objects tracked by the garbage collector (watchdog's file
  events, which come and go with the watcher's backlog, counted apart), each before and
  after, and the growth per 1,000 reloads (resident memory also moves with the allocator's
  arenas; the object count is the exact measure of what is kept);
- errors the callers saw (any exception), versions still referenced (``lingering``);
- threads left after ``uninstall()`` compared with before ``install()``.

Baseline, in the same run: the same rounds with ``importlib.reload`` of a plain module (no
hook, no callers), whose memory growth is what Python itself keeps per 1,000 reloads.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from typing import Any

import pmnc_hook
from pmnc_hook import pmnc

WARM_UP = 200
SAMPLE_EVERY = 100
PAYLOAD = "DATA = [0] * 10_000  # 80 KB per version: a leaked version shows in RSS\n"
BAR = PAYLOAD + "V = {n}\n\ndef f(x):\n    return x + V\n"
ST = (
    PAYLOAD
    + """V = {n}
N = 0

def bump():
    global N
    N += 1
    return N

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is not None:
        new_module.N = old_module.N
"""
)


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _from_watchdog(obj: object) -> bool:
    kind = type(obj)
    return kind.__module__.startswith("watchdog.") and kind.__name__.endswith("Event")


def census() -> tuple[int, int]:
    """Count the objects the gc tracks: (the process's, watchdog's file events alive).

    Events (and the tuples queueing them) come and go with the watcher's backlog, which is
    transient: counted apart, they do not pass for growth or shrinkage of the rest.
    """
    objects = events = 0
    for obj in gc.get_objects():
        if _from_watchdog(obj) or (type(obj) is tuple and obj and _from_watchdog(obj[0])):
            events += 1
        else:
            objects += 1
    return objects, events


def figures() -> dict[str, int]:
    gc.collect()
    objects, events = census()
    return {
        "fds": fds(),
        "threads": threading.active_count(),
        "rss": rss_bytes(),
        "objects": objects,
        "watcher_events": events,
    }


def write_atomically(path: str, text: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reloaded within {timeout} s")
        time.sleep(0.0005)


def soak(directory: str, reloads: int, callers: int) -> dict[str, Any]:
    """Run the soak in ``directory``; return its figures."""
    bar, st = os.path.join(directory, "bar.py"), os.path.join(directory, "st.py")
    write_atomically(bar, BAR.format(n=0))
    write_atomically(st, ST.format(n=0))
    threads_before_install = threading.active_count()
    hook = pmnc_hook.install([directory])
    mode = hook.detector_mode()
    assert pmnc.bar.V == 0 and pmnc.st.V == 0  # version 1 of each, before any rewrite
    stop = threading.Event()
    errors: list[BaseException] = []
    calls = [0] * callers

    def caller(i: int) -> None:
        while not stop.is_set():
            try:
                for _ in range(50):
                    pmnc.bar.f(1)
                    pmnc.st.bump()
                calls[i] += 50
            except BaseException as exc:  # every error counts
                errors.append(exc)
            # Threads that also wait on I/O, as a server's do: without a pause, CPU-bound
            # callers starve the reloading thread of the GIL at every system call it makes.
            time.sleep(0.001)

    workers = [threading.Thread(target=caller, args=(i,), daemon=True) for i in range(callers)]
    for t in workers:
        t.start()

    def round_(n: int) -> None:
        write_atomically(bar, BAR.format(n=n))
        write_atomically(st, ST.format(n=n))
        pmnc_hook.refresh()
        wait_for(lambda: pmnc.bar.V == n and pmnc.st.V == n)

    n = 0
    for _ in range(WARM_UP):
        n += 1
        round_(n)
    before = figures()
    samples = []
    started = time.perf_counter()
    for i in range(1, reloads + 1):
        n += 1
        round_(n)
        if i % SAMPLE_EVERY == 0:
            samples.append(rss_bytes())
    elapsed = time.perf_counter() - started
    after = figures()
    status = pmnc_hook.status()
    lingering = {name: list(s.lingering) for name, s in status.items()}
    versions = {name: s.version for name, s in status.items()}
    stop.set()
    for t in workers:
        t.join(30)
    counter = pmnc.st.N  # every bump() made through pmnc, carried over 1,000+ swaps
    hook.uninstall()
    threads_after_uninstall = threading.active_count()
    scale = 1000 / reloads
    return {
        "python": platform.python_version(),
        "mode": mode,
        "reloads": reloads,
        "callers": callers,
        "calls": sum(calls),
        "errors": len(errors),
        "first_errors": [repr(e) for e in errors[:3]],
        "seconds": elapsed,
        "before": before,
        "after": after,
        "fd_growth_per_1000": (after["fds"] - before["fds"]) * scale,
        "rss_growth_per_1000": (after["rss"] - before["rss"]) * scale,
        "rss_samples": samples,
        "object_growth_per_1000": (after["objects"] - before["objects"]) * scale,
        "versions": versions,
        "lingering": lingering,
        "counter": counter,
        "threads_before_install": threads_before_install,
        "threads_after_uninstall": threads_after_uninstall,
    }


def baseline(directory: str, reloads: int) -> dict[str, Any]:
    """The same rounds with importlib.reload of a plain module: Python's own growth."""
    path = os.path.join(directory, "plainmod.py")
    write_atomically(path, BAR.format(n=0))
    sys.path.insert(0, directory)
    try:
        module = importlib.import_module("plainmod")
        n = 0
        for _ in range(WARM_UP):
            n += 1
            write_atomically(path, BAR.format(n=n))
            importlib.invalidate_caches()
            importlib.reload(module)
        before = figures()
        for _ in range(reloads):
            n += 1
            write_atomically(path, BAR.format(n=n))
            importlib.reload(module)
            assert module.V == n
        after = figures()
    finally:
        sys.path.remove(directory)
        sys.modules.pop("plainmod", None)
    return {
        "fd_growth_per_1000": (after["fds"] - before["fds"]) * 1000 / reloads,
        "rss_growth_per_1000": (after["rss"] - before["rss"]) * 1000 / reloads,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reloads", type=int, default=1000)
    parser.add_argument("--callers", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    sys.dont_write_bytecode = True  # the baseline's reloads must not pile up .pyc files
    with tempfile.TemporaryDirectory() as directory:
        os.mkdir(os.path.join(directory, "hook"))
        os.mkdir(os.path.join(directory, "plain"))
        result = soak(os.path.join(directory, "hook"), args.reloads, args.callers)
        result["baseline"] = baseline(os.path.join(directory, "plain"), args.reloads)
    if args.json:
        print(json.dumps(result))
        return
    mib = 1024 * 1024
    b, a = result["before"], result["after"]
    print(f"Python {result['python']} ({sys.implementation.name}) on {platform.machine()}")
    print(
        f"{result['reloads']} reloads of each of 2 modules ({result['mode']} mode) in "
        f"{result['seconds']:.1f} s, {result['callers']} threads making {result['calls']:,} "
        f"calls through pmnc meanwhile: {result['errors']} errors"
    )
    print(
        f"open fds: {b['fds']} -> {a['fds']} "
        f"({result['fd_growth_per_1000']:+.0f} per 1,000 reloads; "
        f"importlib.reload baseline {result['baseline']['fd_growth_per_1000']:+.0f})"
    )
    print(
        f"threads: {b['threads']} -> {a['threads']}; before install "
        f"{result['threads_before_install']}, after uninstall "
        f"{result['threads_after_uninstall']}"
    )
    print(
        f"RSS: {b['rss'] / mib:.1f} MiB -> {a['rss'] / mib:.1f} MiB "
        f"({result['rss_growth_per_1000'] / mib:+.2f} MiB per 1,000 reloads; "
        f"importlib.reload baseline {result['baseline']['rss_growth_per_1000'] / mib:+.2f} MiB; "
        f"a leaked version would keep 0.08 MiB, 78 MiB per 1,000)"
    )
    print(
        f"objects tracked by gc: {b['objects']:,} -> {a['objects']:,} "
        f"({result['object_growth_per_1000']:+,.0f} per 1,000 reloads; a leaked version "
        f"would keep dozens); watchdog's file events alive: {b['watcher_events']:,} -> "
        f"{a['watcher_events']:,}"
    )
    samples = result["rss_samples"]
    if samples:
        print(
            f"RSS sampled every {SAMPLE_EVERY} reloads: min {min(samples) / mib:.1f} MiB, "
            f"max {max(samples) / mib:.1f} MiB, last {samples[-1] / mib:.1f} MiB"
        )
    print(f"versions {result['versions']}, still referenced: {result['lingering']}")


if __name__ == "__main__":
    main()
