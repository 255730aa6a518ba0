"""The cost of a unit of work when nothing is pending: entering and leaving ``request()``.

    python benchmarks/bench_units.py

Best of 7 runs of 200,000 units each, against the same statement with no unit (``pass``) and
with a do-nothing context manager of the same shape, measured in this process with the hook
installed and no change-set pending. Target (issue 17): at most 1 us per unit on 3.11.
Rows: ``with request():``, a function decorated with ``@request()`` against the bare
function, ``async with request():`` inside one coroutine, and ``pmnc_hook.wsgi`` around a
trivial WSGI application against the application itself.
"""

from __future__ import annotations

import asyncio
import platform
import sys
import tempfile
import timeit

import pmnc_hook

RUNS, UNITS = 7, 200_000
TARGET = 1e-6


class Nothing:
    """A context manager that does nothing: what any ``with`` costs."""

    def __enter__(self) -> Nothing:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def best(stmt: str, ns: dict) -> float:
    return min(timeit.Timer(stmt, globals=ns).repeat(RUNS, UNITS)) / UNITS


def async_best(make) -> float:
    async def run() -> float:
        loop = asyncio.get_running_loop()
        times = []
        for _ in range(RUNS):
            started = loop.time()
            await make(UNITS)
            times.append((loop.time() - started) / UNITS)
        return min(times)

    return asyncio.run(run())


def sync_rows(request) -> list[tuple[str, float, float, str]]:
    def f() -> None:
        return None

    def app(environ, start_response):
        return [b""]

    def start_response(*args: object) -> None:
        return None

    ns = {
        "request": request,
        "Nothing": Nothing,
        "f": f,
        "unit_f": request()(f),
        "app": app,
        "wrapped": pmnc_hook.wsgi(app),
        "start_response": start_response,
        "environ": {},
    }
    return [
        ("(pass)", best("pass", ns), 0.0, ""),
        ("with request(): pass", best("with request(): pass", ns),
         best("with Nothing(): pass", ns), "with Nothing(): pass"),
        ("@request() f()", best("unit_f()", ns), best("f()", ns), "f()"),
        ("pmnc_hook.wsgi(app) + close()", best("wrapped(environ, start_response).close()", ns),
         best("getattr(app(environ, start_response), 'close', None)", ns),
         "app(environ, ...)"),
    ]  # fmt: skip


def async_row(request) -> tuple[str, float, float, str]:
    async def plain_loop(n: int) -> None:
        for _ in range(n):
            pass

    async def unit_loop(n: int) -> None:
        for _ in range(n):
            async with request():
                pass

    return (
        "async with request(): pass",
        async_best(unit_loop),
        async_best(plain_loop),
        "pass (in a coroutine)",
    )


def main() -> int:
    print(f"CPython {platform.python_version()} ({sys.platform}), best of {RUNS} x {UNITS:,}")
    with tempfile.TemporaryDirectory() as directory, pmnc_hook.install([directory]):
        rows = [*sync_rows(pmnc_hook.request), async_row(pmnc_hook.request)]
    bare = rows[0][1]
    print(f"{'':34} {'time':>9} {'over':>9}  baseline")
    for label, t, base, base_label in rows:
        print(f"{label:34} {t * 1e9:7.0f} ns {(t - base) * 1e9:+7.0f} ns  {base_label}")
    unit = rows[1][1]
    ok = unit - bare <= TARGET
    print(f"entering and leaving a unit: {(unit - bare) * 1e9:.0f} ns over `pass`; target "
          f"<= {TARGET * 1e9:.0f} ns: {'OK' if ok else 'MISSED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
