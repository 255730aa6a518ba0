"""Cost of a ``@takes(int, str)`` call against the undecorated function and typeguard's own
``@typechecked`` on the same function, and of the same call with checks disabled.

Run: ``python benchmarks/bench_typecheck.py [--number N]``. Each figure is the best of 7
timeit repeats of N calls, all measured in this one run; each ratio divides by the
undecorated call of the same body. Two bodies: ``return s`` (the worst case for a wrapper:
any extra Python frame costs about as much as the whole call) and a small f-string.
"""

from __future__ import annotations

import argparse
import platform
import timeit
from importlib.metadata import version
from typing import Any, Callable, Optional

import typeguard

from pmnc_hook import typecheck
from pmnc_hook.typecheck import takes


def trivial(x: int, s: str) -> str:
    return s


def small(x: int, s: str) -> str:
    return f"{s}={x:04d}"


def variants(body: Callable[[int, str], str]) -> dict[str, Callable[..., Any]]:
    return {
        "undecorated": body,
        "@takes(int, str)": takes(int, str)(body),
        "typeguard @typechecked": typeguard.typechecked(body),
    }


def best(function: Callable[..., Any], stmt: str, number: int) -> float:
    """Return the best of 7 repeats of ``stmt`` (calling ``f``), in ns per execution."""
    times = timeit.repeat(stmt, number=number, repeat=7, globals={"f": function})
    return min(times) / number * 1e9


def measure(body: Callable[[int, str], str], number: int) -> list[tuple[str, float]]:
    functions = variants(body)
    typecheck.enable()
    rows = [(name, best(function, "f(1, 'a')", number)) for name, function in functions.items()]
    rows.insert(
        2,
        (
            "@takes(int, str), s='a' by keyword",
            best(functions["@takes(int, str)"], "f(1, s='a')", number),
        ),
    )
    typecheck.disable()
    rows.append(
        (
            "@takes(int, str) after disable()",
            best(functions["@takes(int, str)"], "f(1, 'a')", number),
        )
    )
    typecheck.enable()
    return rows


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Time @takes against its baselines.")
    parser.add_argument("--number", type=int, default=300_000, help="calls per repeat")
    number = parser.parse_args(argv).number
    print(f"Python {platform.python_version()}, typeguard {version('typeguard')}")
    print(f"timeit loop alone: {best(trivial, 'pass', number):.1f} ns")
    summary = []
    for label, body in (("return s", trivial), ("return f'{s}={x:04d}'", small)):
        rows = measure(body, number)
        base = rows[0][1]
        print(f"\nbody: {label}")
        print(f"  {'called as':36} {'ns/call':>8} {'ratio':>7}")
        for name, ns in rows:
            print(f"  {name:36} {ns:8.1f} {ns / base:7.2f}")
        times = dict(rows)
        enabled = times["@takes(int, str)"]
        disabled = times["@takes(int, str) after disable()"]
        guarded = times["typeguard @typechecked"]
        summary.append(
            f"{label:24} @takes {enabled / base:5.2f}x, disabled {disabled / base:5.2f}x "
            f"(target 1.5x); @typechecked is {guarded / enabled:.1f}x slower than @takes"
        )
    print("\nsummary, against the undecorated call:")
    for line in summary:
        print(f"  {line}")


if __name__ == "__main__":
    main()
