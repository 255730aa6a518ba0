"""File-system scale figures, measured in one run.

    python benchmarks/bench_fs.py

With 2,000 module files in a directory and 1,000 of them loaded:
1. ``refresh()`` with nothing changed (best and median of 20); target at most 10 ms.
2. The facade's call ratio ``pmnc.bar.f(x)`` against a direct ``bar.f(x)``, with 1,000
   modules loaded, against the same ratio with one module loaded.
3. CPU used by the process while idle for 5 s in watch mode (the detector thread and the
   watcher); target under 1%.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import timeit

import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook.reload.source import RACY_NS

RUNS, CALLS = 7, 200_000


def ratio(namespace: dict[str, object]) -> float:
    direct = min(timeit.Timer("bar.f(1)", globals=namespace).repeat(RUNS, CALLS))
    through = min(timeit.Timer("pmnc.bar.f(1)", globals=namespace).repeat(RUNS, CALLS))
    return through / direct


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    print(f"Python {platform.python_version()} ({sys.implementation.name}) on {platform.machine()}")
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "bar.py"), "w") as f:
            f.write("def f(x):\n    return x\n")
        for i in range(1999):
            with open(os.path.join(directory, f"m{i:04d}.py"), "w") as f:
                f.write(f"VALUE = {i}\n\ndef get():\n    return VALUE\n")
        with pmnc_hook.install([directory]) as hook:
            print(f"detection: {hook.detector_mode()}; 2,000 module files")
            pmnc.bar.f(1)
            bar = pmnc_hook._api.current().registry.current_module("bar")
            ns = {"pmnc": pmnc, "bar": bar}
            one = ratio(ns)
            for i in range(999):
                getattr(pmnc, f"m{i:04d}").get()
            print(f"loaded: {len(pmnc_hook.status())} modules")
            thousand = ratio(ns)
            print(
                f"facade ratio pmnc.bar.f(x) / bar.f(x): {one:.2f}x with 1 loaded, "
                f"{thousand:.2f}x with 1,000 loaded"
            )
            # Files written less than RACY_NS ago are hashed on purpose (same-tick writes):
            # measure once they are old enough for their stat to be trusted.
            time.sleep(RACY_NS / 1e9 + 0.1)
            pmnc_hook.refresh()
            times = []
            for _ in range(20):
                started = time.perf_counter()
                changed = pmnc_hook.refresh()
                times.append(time.perf_counter() - started)
                assert changed == []
            print(
                f"refresh(), 1,000 loaded, nothing changed: best {min(times) * 1e3:.2f} ms, "
                f"median {statistics.median(times) * 1e3:.2f} ms (target 10 ms)"
            )
            before_cpu, before = cpu_seconds(), time.monotonic()
            time.sleep(5)
            used = cpu_seconds() - before_cpu
            elapsed = time.monotonic() - before
            print(
                f"idle 5 s in watch mode: {used * 1e3:.1f} ms CPU = "
                f"{used / elapsed * 100:.2f}% of one core (target under 1%)"
            )


if __name__ == "__main__":
    main()
