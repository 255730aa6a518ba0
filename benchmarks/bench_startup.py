"""Interpreter start-up time with pmnc_hook installed (its ``.pth`` file present) and
``PMNC_HOOK_PATH`` unset, against a virtual environment without pmnc_hook. Target: within 5 ms.

Run: ``python benchmarks/bench_startup.py [--runs N] [--python PATH]``. It builds two fresh
virtual environments from PATH's Python (default: this one) in a temporary directory: one bare,
one with the wheel of this working tree installed. Then it times ``python -c pass`` N times
in each, interleaved in rotating order so that machine noise hits every case alike, and
prints the best and median wall times (process creation included, the same for all) and
their differences; the verdict compares best times, which machine noise disturbs least. A
third row shows the cost when the variable is set and the hook installs at start-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 5.0


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
    env.pop("VIRTUAL_ENV", None)
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


def make_venvs(python: str, root: Path) -> tuple[Path, Path]:
    """Create a bare venv and one with pmnc_hook's wheel installed; return their pythons."""
    bare, full = root / "bare", root / "with_pmnc_hook"
    subprocess.run([python, "-m", "venv", "--without-pip", str(bare)], check=True)
    subprocess.run([python, "-m", "venv", str(full)], check=True)
    pip = [str(full / "bin" / "python"), "-m", "pip", "--quiet"]
    wheels = root / "wheels"
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(REPO)], check=True)
    (wheel,) = wheels.glob("pmnc_hook-*.whl")
    subprocess.run([*pip, "install", str(wheel)], check=True)
    # Leave only pmnc_hook and its dependencies: setuptools (3.11 and older) has a .pth too.
    subprocess.run([*pip, "uninstall", "--yes", "setuptools", "pip"], check=True)
    pth = list((full / "lib").glob("python*/site-packages/pmnc_hook.pth"))
    if not pth:
        raise SystemExit("pmnc_hook.pth is missing from the environment: nothing to measure")
    return bare / "bin" / "python", full / "bin" / "python"


def once(python: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([str(python), "-c", "pass"], env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per case (default 200)")
    parser.add_argument("--python", default=sys.executable, help="the Python to measure")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        bare, full = make_venvs(options.python, Path(tmp))
        version = subprocess.run(
            [str(bare), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        unset = clean_env()
        enabled = clean_env(PMNC_HOOK_PATH=tmp)
        cases = {
            "venv without pmnc_hook": (bare, unset),
            "pmnc_hook.pth, PMNC_HOOK_PATH unset": (full, unset),
            "pmnc_hook.pth, PMNC_HOOK_PATH set": (full, enabled),
        }
        for python, env in cases.values():  # warm the file system caches
            for _ in range(5):
                once(python, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for run in range(options.runs):
            # Rotate the order, so that no case always runs right after another.
            for name in names[run % 3 :] + names[: run % 3]:
                python, env = cases[name]
                times[name].append(once(python, env))

    print(f"Python {version}: python -c pass, {options.runs} runs per case, interleaved")
    base_best = min(times["venv without pmnc_hook"]) * 1000
    base_median = statistics.median(times["venv without pmnc_hook"]) * 1000
    print(f"{'case':40} {'best ms':>8} {'median ms':>10} {'+best':>7} {'+median':>8}")
    for name, samples in times.items():
        best = min(samples) * 1000
        median = statistics.median(samples) * 1000
        print(
            f"{name:40} {best:8.2f} {median:10.2f} "
            f"{best - base_best:+7.2f} {median - base_median:+8.2f}"
        )
    # The verdict uses the best times: medians move with whatever else the machine is doing.
    cost = min(times["pmnc_hook.pth, PMNC_HOOK_PATH unset"]) * 1000 - base_best
    verdict = "met" if cost <= TARGET_MS else "NOT met"
    print(
        f"cost of the .pth, variable unset (best): {cost:+.2f} ms; target {TARGET_MS} ms {verdict}"
    )


if __name__ == "__main__":
    main()
