"""Price of call tracking for stateful modules, and the pause callers see during a swap.

    python benchmarks/bench_tracking.py

1. Per call, best of 7 runs of 200,000 calls of a trivial function: a direct call, through
   ``pmnc`` into a stateless module, and through ``pmnc`` into a stateful one (defines
   ``pmnc_init``, so its calls are tracked). Target: stateful under 0.5 us over direct on 3.11.
2. The pause callers see during a quiescent reload: 4 threads call a stateful module in a
   loop while it is reloaded 30 times; the longest gap between two completed calls of a
   thread during the swaps, against the longest gap without reloads.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import timeit

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

    ns = {"pmnc": pmnc, "f": f}
    results = {}
    for label, stmt in (
        ("direct f(x)", "f(1)"),
        ("pmnc.stateless.f(x)", "pmnc.plain.f(1)"),
        ("pmnc.stateful.f(x)", "pmnc.acc.f(1)"),
    ):
        results[label] = min(timeit.Timer(stmt, globals=ns).repeat(RUNS, CALLS)) / CALLS
    direct = results["direct f(x)"]
    for label, t in results.items():
        print(f"{label:24} {t * 1e9:7.1f} ns   +{(t - direct) * 1e9:6.1f} ns over direct")


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
        p999 = gaps[int(len(gaps) * 0.999)]
        return f"max {gaps[-1] * 1e3:6.2f} ms, p99.9 {p999 * 1e6:7.1f} us over {len(gaps)} calls"

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


def main() -> None:
    print(f"Python {platform.python_version()} ({sys.implementation.name}) on {platform.machine()}")
    with tempfile.TemporaryDirectory() as directory, pmnc_hook.install([directory], poll=3600):
        per_call(directory)
        pauses(directory)


if __name__ == "__main__":
    main()
