"""Time ``python -m pmnc_hook --check`` over 1,000 generated modules (target: under 2 s).

Run: ``python benchmarks/bench_check.py [--modules N] [--repeat R]``. Writes N modules of
30-60 lines each into a temporary directory (functions calling other modules through
``pmnc``, typechecked signatures, some module-level caches, some with ``pmnc_init``, some
``__reloadable__ = False``, one program file using them) and reports, best of R runs: the
baseline (read every file and ``ast.parse`` it, nothing else), ``check_paths`` in this
process and its ratio to the baseline, and the real command line in a fresh interpreter
(start-up included).
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from typing import Optional

from pmnc_hook.check.files import check_paths

TARGET = 2.0


def module_source(index: int, count: int, rng: random.Random) -> str:
    """Return the text of module ``mod{index}``: 30-60 lines of typical reloadable code."""
    peers = [f"mod{rng.randrange(count)}" for _ in range(3)]
    lines = [f'"""Module {index}: generated for the checker benchmark."""', ""]
    lines.append("import json\nimport logging\n\n_log = logging.getLogger(__name__)\n")
    kind = index % 10
    if kind == 0:
        lines.append("__reloadable__ = False\n")
    if kind in (0, 1, 2):
        lines.append("CACHE = {}\nSEEN = []\n")
    lines.append(f"LIMIT = {rng.randrange(10, 1000)}\n")
    for f in range(rng.randrange(2, 5)):
        peer = peers[f % len(peers)]
        body = f"""
        @takes(int, str)
        def handle_{f}(n, label):
            \"\"\"Handle request {f} of module {index}.\"\"\"
            if n > LIMIT:
                _log.warning("too many: %s", label)
                return None
            result = pmnc.{peer}.handle_0(n + 1, label) if n < 3 else n
            items = [x * 2 for x in range(n)]
            items.append(result)
            payload = {{"n": n, "label": label, "items": items}}
            return json.dumps(payload)
        """
        lines.append(textwrap.dedent(body))
        if kind in (0, 1, 2) and f == 0:
            lines.append(
                textwrap.dedent(
                    """
                    def remember(key, value):
                        CACHE[key] = value
                        SEEN.append(key)
                    """
                )
            )
    if kind == 1:
        lines.append(
            textwrap.dedent(
                """
                def pmnc_init(old_module, new_module, new_module_filename):
                    if old_module is not None:
                        new_module.CACHE = old_module.CACHE
                        new_module.SEEN = old_module.SEEN
                """
            )
        )
    if kind == 2:
        lines.append("\ndef reset():\n    CACHE.clear()  # pmnc: ignore[PMNC003]\n")
    return "\n".join(lines)


PROGRAM = '''\
"""The program that uses the generated modules."""
import pmnc_hook
from pmnc_hook import pmnc


def main():
    with pmnc_hook.install(["."]):
        print(pmnc.mod1.handle_0(1, "a"))


if __name__ == "__main__":
    main()
'''


def generate(directory: str, count: int) -> int:
    """Write ``count`` modules and one program into ``directory``; return the line count."""
    rng = random.Random(6)
    total = 0
    for index in range(count):
        text = module_source(index, count, rng)
        total += text.count("\n")
        with open(os.path.join(directory, f"mod{index}.py"), "w") as f:
            f.write(text)
    with open(os.path.join(directory, "run.py"), "w") as f:
        f.write(PROGRAM)
    return total


def best(action: Callable[[], object], repeat: int) -> float:
    """Return the best wall time of ``repeat`` runs of ``action``, in seconds."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def parse_all(directory: str) -> None:
    """The baseline: read and parse every file, check nothing."""
    for entry in os.scandir(directory):
        if entry.name.endswith(".py"):
            with open(entry.path, "rb") as f:
                ast.parse(f.read())


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Time the checker over generated modules.")
    parser.add_argument("--modules", type=int, default=1000, help="modules to generate")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the best counts")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} ({platform.python_implementation()})")
    with tempfile.TemporaryDirectory() as directory:
        lines = generate(directory, args.modules)
        print(f"{args.modules} modules, {lines} lines, in {directory}")
        baseline = best(lambda: parse_all(directory), args.repeat)
        findings = check_paths([directory])
        checked = best(lambda: check_paths([directory]), args.repeat)
        command_line = [sys.executable, "-m", "pmnc_hook.check", directory]
        cli = subprocess.run(command_line, capture_output=True, text=True, check=False)
        command = best(lambda: subprocess.run(command_line, capture_output=True), args.repeat)
    codes: dict[str, int] = {}
    for finding in findings:
        codes[finding.code] = codes.get(finding.code, 0) + 1
    print(f"findings: {len(findings)} {dict(sorted(codes.items()))} (exit {cli.returncode})")
    print(f"baseline, read + ast.parse only: {baseline:8.3f} s")
    print(f"check_paths:                     {checked:8.3f} s  ({checked / baseline:.2f}x)")
    print(f"python -m pmnc_hook.check:      {command:8.3f} s  (start-up included)")
    verdict = "meets" if max(checked, command) < TARGET else "MISSES"
    print(f"{verdict} the target of {TARGET:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
