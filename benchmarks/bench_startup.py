"""Interpreter start-up with pmnc_hook installed, ``PMNC_HOOK_PATH`` set and unset, against a
bare interpreter; and the modules the start-up imports.

Run: ``python benchmarks/bench_startup.py [--runs N] [--python PATH] [--source DIR]``. It
builds two fresh virtual environments from PATH's Python (default: this one) in a temporary
directory: one bare, one with the wheel of DIR (default: this working tree) installed. Then
it times ``python -c pass`` N times per case, the cases alternating in rotating order so that
machine noise hits every case alike, and prints the median and best wall times (process
creation included, the same for all), the difference and the ratio to the bare interpreter.

Targets (issue 15): with the variable set, a process that never uses the hook pays at most
2x a bare interpreter's start-up (median); unset, the ``.pth`` line costs nothing measurable.
A last row shows what the first use pays (``pmnc_hook.status()``: the hook installed, its
watcher started), for scale. Then the modules the start-up adds to a bare interpreter's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_RATIO_SET = 2.0
MODULES = "import sys, json; print(json.dumps(sorted(sys.modules)))"


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
    for name in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env.update(extra)
    return env


def make_venvs(python: str, source: Path, root: Path) -> tuple[Path, Path]:
    """Create a bare venv and one with pmnc_hook's wheel installed; return their pythons."""
    bare, full = root / "bare", root / "with_pmnc_hook"
    subprocess.run([python, "-m", "venv", "--without-pip", str(bare)], check=True)
    subprocess.run([python, "-m", "venv", str(full)], check=True)
    pip = [str(full / "bin" / "python"), "-m", "pip", "--quiet"]
    wheels = root / "wheels"
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(wheels), str(source)], check=True)
    (wheel,) = wheels.glob("pmnc_hook-*.whl")
    subprocess.run([*pip, "install", str(wheel)], check=True)
    # Leave only pmnc_hook and its dependencies: setuptools (3.11 and older) has a .pth too.
    subprocess.run([*pip, "uninstall", "--yes", "setuptools", "pip"], check=True)
    pth = list((full / "lib").glob("python*/site-packages/pmnc_hook.pth"))
    if not pth:
        raise SystemExit("pmnc_hook.pth is missing from the environment: nothing to measure")
    return bare / "bin" / "python", full / "bin" / "python"


def once(python: Path, code: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([str(python), "-c", code], env=env, check=True)
    return time.perf_counter() - started


def modules(python: Path, env: dict[str, str]) -> list[str]:
    out = subprocess.run(
        [str(python), "-c", MODULES], env=env, check=True, capture_output=True, text=True
    ).stdout
    return list(json.loads(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per case (default 200)")
    parser.add_argument("--python", default=sys.executable, help="the Python to measure")
    parser.add_argument("--source", default=str(REPO), help="the pmnc_hook tree to build")
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bare, full = make_venvs(options.python, Path(options.source), root)
        (root / "mods").mkdir()
        (root / "mods" / "greeting.py").write_text("VALUE = 1\n")
        version = subprocess.run(
            [str(bare), "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        unset = clean_env()
        enabled = clean_env(PMNC_HOOK_PATH=str(root / "mods"))
        first_use = "import pmnc_hook; pmnc_hook.status()"
        cases = {
            "bare interpreter": (bare, "pass", unset),
            "pmnc_hook, PMNC_HOOK_PATH unset": (full, "pass", unset),
            "pmnc_hook, PMNC_HOOK_PATH set": (full, "pass", enabled),
            "  set, and the hook used (status())": (full, first_use, enabled),
        }
        for python, code, env in cases.values():  # warm the file system caches
            for _ in range(5):
                once(python, code, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for run in range(options.runs):
            # Rotate the order, so that no case always runs right after another.
            shift = run % len(names)
            for name in names[shift:] + names[:shift]:
                python, code, env = cases[name]
                times[name].append(once(python, code, env))
        added = sorted(set(modules(full, enabled)) - set(modules(bare, unset)))
        added_unset = sorted(set(modules(full, unset)) - set(modules(bare, unset)))

    report(version, options.runs, times, added, added_unset)


def report(
    version: str,
    runs: int,
    times: dict[str, list[float]],
    added: list[str],
    added_unset: list[str],
) -> None:
    print(f"Python {version}: python -c ..., {runs} runs per case, alternating")
    base = statistics.median(times["bare interpreter"]) * 1000
    print(f"{'case':38} {'median ms':>10} {'best ms':>8} {'+median':>8} {'ratio':>6}")
    for name, samples in times.items():
        median = statistics.median(samples) * 1000
        best = min(samples) * 1000
        print(f"{name:38} {median:10.2f} {best:8.2f} {median - base:+8.2f} {median / base:6.2f}x")
    ratio = statistics.median(times["pmnc_hook, PMNC_HOOK_PATH set"]) * 1000 / base
    verdict = "met" if ratio <= MAX_RATIO_SET else "NOT met"
    print(f"variable set, hook unused: {ratio:.2f}x bare; target {MAX_RATIO_SET}x {verdict}")
    print(f"modules the start-up adds, variable set ({len(added)}): {' '.join(added)}")
    print(f"modules the .pth adds, variable unset ({len(added_unset)}): {' '.join(added_unset)}")


if __name__ == "__main__":
    main()
