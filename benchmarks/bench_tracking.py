"""Price of call tracking for stateful modules, the pause callers see during a swap, and what
a slow module body costs callers (issue 16).

    python benchmarks/bench_tracking.py

1. Per call, best of 7 runs of 200,000 calls of a trivial function: a direct call, through
   ``pmnc`` into a stateless module, through ``pmnc`` into a stateful one (defines
   ``pmnc_init``, so its calls are tracked), and a tracked function captured once
   (``f = pmnc.acc.f``). Target: stateful under 0.5 us over direct on 3.11 (aim 0.2 us).
2. The pause callers see during a quiescent swap: 4 threads call a stateful module in a loop
   while it is reloaded 30 times; the longest and the p99/p99.9 gaps between two completed
   calls of a thread during the swaps, against the same without reloads.
3. A new version whose body runs 3 s, built by another thread (the first access after a
   change runs the bodies, so the callers pause until it has started): the latency of every
   call made meanwhile by 2 threads calling the stateful module and 2 calling a stateless
   one (target: no effect; they are served the old versions), against the same without
   a reload.
"""

from __future__ import annotations

import builtins
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import timeit
from typing import Callable

import pmnc_hook
from pmnc_hook import pmnc

RUNS, CALLS = 7, 200_000
STATEFUL = """\
def f(x):
    return x

def pmnc_init(old_module, new_module, new_module_filename):
    pass
# {n}
"""


def per_call(directory: str) -> None:
    with open(os.path.join(directory, "plain.py"), "w") as f:
        f.write("def f(x):\n    return x\n")
    with open(os.path.join(directory, "acc.py"), "w") as f:
        f.write(STATEFUL.format(n=0))
    pmnc.plain.f(1)
    pmnc.acc.f(1)

    def f(x: int) -> int:
        return x

    ns = {"pmnc": pmnc, "f": f, "tracked": pmnc.acc.f}
    results = {}
    for label, stmt in (
        ("direct f(x)", "f(1)"),
        ("pmnc.stateless.f(x)", "pmnc.plain.f(1)"),
        ("pmnc.stateful.f(x)", "pmnc.acc.f(1)"),
        ("f = pmnc.stateful.f; f(x)", "tracked(1)"),
    ):
        results[label] = min(timeit.Timer(stmt, globals=ns).repeat(RUNS, CALLS)) / CALLS
    direct = results["direct f(x)"]
    for label, t in results.items():
        print(f"{label:27} {t * 1e9:7.1f} ns   +{(t - direct) * 1e9:6.1f} ns over direct")


def _gaps_while(action, threads: int = 4) -> list[float]:
    """Run ``action`` while ``threads`` threads call pmnc.acc.f; return every caller's gaps."""
    stop = threading.Event()
    gaps: list[list[float]] = [[] for _ in range(threads)]

    def caller(i: int) -> None:
        last = time.perf_counter()
        while not stop.is_set():
            pmnc.acc.f(1)
            now = time.perf_counter()
            gaps[i].append(now - last)
            last = now

    workers = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
    for t in workers:
        t.start()
    try:
        action()
    finally:
        stop.set()
        for t in workers:
            t.join()
    return sorted(g for per in gaps for g in per)


def pauses(directory: str, reloads: int = 30) -> None:
    path = os.path.join(directory, "acc.py")
    swap_times: list[float] = []

    def reload_many() -> None:
        for n in range(1, reloads + 1):
            with open(path, "w") as f:
                f.write(STATEFUL.format(n=n))
            pmnc_hook.refresh()
            started = time.perf_counter()
            pmnc.acc  # the quiescent swap happens here
            swap_times.append(time.perf_counter() - started)
            time.sleep(0.01)  # pacing between reloads

    def idle() -> None:
        time.sleep(0.01 * reloads + sum(swap_times))

    with_swaps = _gaps_while(reload_many)
    without = _gaps_while(idle)

    def describe(gaps: list[float]) -> str:
        p99, p999 = gaps[int(len(gaps) * 0.99)], gaps[int(len(gaps) * 0.999)]
        return (
            f"max {gaps[-1] * 1e3:6.2f} ms, p99 {p99 * 1e6:6.1f} us, p99.9 {p999 * 1e6:7.1f} us"
            f" over {len(gaps)} calls"
        )

    print(
        f"swap (drain + pmnc_init + publish): median {statistics.median(swap_times) * 1e3:.2f} "
        f"ms, max {max(swap_times) * 1e3:.2f} ms ({reloads} reloads, 4 threads calling)"
    )
    print(f"gaps between a caller's calls, with swaps:    {describe(with_swaps)}")
    print(f"gaps between a caller's calls, no reloads:    {describe(without)}")
    print(
        f"(GIL switch interval {sys.getswitchinterval() * 1e3:.0f} ms: 5 busy threads share "
        "one GIL, so multi-ms gaps occur with or without reloads)"
    )
    assert pmnc_hook.status()["acc"].version == reloads + 1


SLOW_BODY = """\
import time
V = {n}
if V:
    __import__("builtins").bench_body_started.set()
    time.sleep(3.0)  # a slow new version: its callers keep the old one meanwhile

def f(x):
    return x
"""


def slow_body(directory: str) -> None:
    """Time every call made by 4 caller threads while a 3 s body is built, and without."""
    init = "\ndef pmnc_init" + STATEFUL.split("def pmnc_init")[1]

    def write(n: int) -> None:
        for name, extra in (("slowst", init), ("slowpl", "")):
            with open(os.path.join(directory, name + ".py"), "w") as f:
                f.write(SLOW_BODY.format(n=n) + extra)

    write(0)
    pmnc.slowst.f(1)
    pmnc.slowpl.f(1)

    go = threading.Event()
    go.set()
    started_body = builtins.bench_body_started = threading.Event()  # type: ignore[attr-defined]

    def latencies(action: Callable[[], None]) -> dict[str, list[float]]:
        stop = threading.Event()
        seen: dict[str, list[float]] = {"slowst": [], "slowpl": []}

        def caller(name: str) -> None:
            out = seen[name]
            while not stop.is_set():
                go.wait()
                t0 = time.perf_counter()
                getattr(pmnc, name).f(1)
                out.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=caller, args=(n,)) for n in ("slowst", "slowpl") * 2]
        for t in threads:
            t.start()
        try:
            action()
        finally:
            stop.set()
            for t in threads:
                t.join()
        return {k: sorted(v) for k, v in seen.items()}

    def reload_both() -> None:
        go.clear()  # the builder, not a caller, makes the first access (it runs the bodies)
        write(1)  # the 3 s sleep runs in the next versions' bodies
        pmnc_hook.refresh()
        builder = threading.Thread(target=lambda: (pmnc.slowst, pmnc.slowpl))
        builder.start()
        started_body.wait()
        go.set()
        builder.join()

    started = time.perf_counter()
    during = latencies(reload_both)
    took = time.perf_counter() - started
    idle = latencies(lambda: time.sleep(took))
    print(f"a 3 s body (two modules, {took:.1f} s to build both), callers' call latency:")
    for name, label in (("slowst", "stateful"), ("slowpl", "stateless")):
        for when, lat in (("during the bodies", during[name]), ("no reload", idle[name])):
            p99 = lat[int(len(lat) * 0.99)]
            print(
                f"  {label:9} {when:17}: max {lat[-1] * 1e3:6.2f} ms, p99 {p99 * 1e6:6.1f} us"
                f" over {len(lat)} calls"
            )


def main() -> None:
    print(f"Python {platform.python_version()} ({sys.implementation.name}) on {platform.machine()}")
    with tempfile.TemporaryDirectory() as directory, pmnc_hook.install([directory], poll=3600):
        per_call(directory)
        pauses(directory)
        slow_body(directory)


if __name__ == "__main__":
    main()
