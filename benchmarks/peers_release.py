"""A two-module release deployed under load, through each hot-reload tool.

    python benchmarks/peers_release.py            # about a minute
    python benchmarks/peers_release.py --quick    # fewer deploys
    python benchmarks/peers.py --release          # the same, as a row group of peers.py

``a.g()`` calls ``b.f(x, y)`` (through ``pmnc.b`` for pmnc_hook, a plain ``import b`` for the
others). Every deploy changes both files: ``f`` gains a parameter (or loses it again) and
``g`` passes it; each file carries the release number, and ``g`` returns both. Four threads
call ``a.g()`` in a loop while 30 releases are deployed, each as two files written aside and
renamed into place one after the other by another process (as ``rsync`` or ``git checkout``
writes them). Each tool detects and reloads
in its usual way (peers.py's drivers: pmnc_hook's watcher, jurigged's watcher, watchfiles +
``importlib.reload``, IPython's ``check()`` every 50 ms); the next release is deployed once
the current one is served whole, or after 2 s. Counted, per tool:

- failed calls: ``a.g()`` raised (a ``TypeError`` where new ``a`` met old ``b`` or the
  reverse, or whatever the tool's reload left behind);
- mixed calls: the call returned, but ``a`` and ``b`` came from two releases;
- releases never served whole within 2 s.

pmnc_hook runs four times: detecting the deploy with its watcher, and as an operator runs
it (``watch=False``; the deploying thread calls ``refresh()`` once both files are in place,
as the reload signal would); each with every call inside ``pmnc_hook.request()`` (a unit of
work), and bare.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402  (the tools' drivers)

TOOLS = [
    ("pmnc_hook_units", "pmnc_hook (watch), each call a unit of work", "pmnc_hook"),
    ("pmnc_hook", "pmnc_hook (watch), no units", "pmnc_hook"),
    ("pmnc_hook_refresh_units", "pmnc_hook (no watcher, refresh()), units", "pmnc_hook"),
    ("pmnc_hook_refresh", "pmnc_hook (no watcher, refresh()), no units", "pmnc_hook"),
    ("jurigged", "jurigged", "jurigged"),
    ("importlib", "watchfiles + importlib.reload", "watchfiles"),
    ("ipython", "IPython autoreload (check every 50 ms)", "IPython"),
]


def sources(release: int, through_pmnc: bool) -> dict[str, str]:
    """The two modules of ``release``: odd releases give ``f`` a third parameter."""
    extra = release % 2 == 1
    b = f"RELEASE = {release}\n\n\ndef f(x, y{', z' if extra else ''}):\n    return RELEASE\n"
    callee = "pmnc.b" if through_pmnc else "b"
    head = "" if through_pmnc else "import b\n\n"
    a = (
        f"{head}RELEASE = {release}\n\n\n"
        f"def g():\n    return RELEASE, {callee}.f(1, 2{', 3' if extra else ''})\n"
    )
    return {"a": a, "b": b}


def deploy(directory: Path, release: int, through_pmnc: bool) -> None:
    # Every file written aside, then all renamed into place by another process, as a deploy
    # tool is (in this busy process the renames would wait for the GIL between them).
    renames = []
    for name, text in sources(release, through_pmnc).items():
        temporary = directory / f".{name}.py.new"
        peers.write(temporary, text)
        renames.append((str(temporary), str(directory / f"{name}.py")))
    code = "import os\n" + "".join(f"os.replace({a!r}, {b!r})\n" for a, b in renames)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def set_up(kind: str, directory: Path):
    """Start ``kind`` over release 0; return (tool, call, refresh or None, change-sets seen)."""
    through_pmnc = kind.startswith("pmnc_hook")
    tool = peers.make_tool("pmnc_hook" if through_pmnc else kind, directory)
    deploy(directory, 0, through_pmnc)
    refresh, sets = None, set()
    if through_pmnc:
        import pmnc_hook

        pmnc_hook.on_reload(lambda event: sets.add((event.generation, event.changeset)))
    if "refresh" in kind:
        pmnc_hook.install([directory], watch=False)
        refresh = pmnc_hook.refresh
    else:
        tool.start_sync()
        tool.start_async()
    access = tool.load("a")
    unit = pmnc_hook.request if kind.endswith("_units") else None

    def call():
        if unit is None:
            return access().g()
        with unit():
            return access().g()

    return tool, call, refresh, sets


class Callers:
    """Threads calling ``call()`` in a loop, counting calls, failures and mixed results."""

    def __init__(self, call, threads: int) -> None:
        self.call = call
        self.stop = threading.Event()
        self.counts: collections.Counter[str] = collections.Counter()
        self.kinds: collections.Counter[str] = collections.Counter()
        self.first_error: dict[str, str] = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self) -> None:
        mine: collections.Counter[str] = collections.Counter()
        while not self.stop.is_set():
            try:
                a_release, b_release = self.call()
            except Exception as exc:
                mine["failed"] += 1
                self.kinds[type(exc).__name__] += 1
                self.first_error.setdefault(type(exc).__name__, str(exc)[:100])
                continue
            mine["calls"] += 1
            if a_release != b_release:
                mine["mixed"] += 1
        with self.lock:
            self.counts.update(mine)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(10)


def measure(kind: str, directory: Path, releases: int, threads: int = 4, timeout: float = 2.0):
    tool, call, refresh, sets = set_up(kind, directory)
    callers = Callers(call, threads)
    never = 0
    try:
        for release in range(1, releases + 1):
            time.sleep(0.05)
            deploy(directory, release, kind.startswith("pmnc_hook"))
            if refresh is not None:
                refresh()
            started = time.perf_counter()
            while True:
                try:
                    if call() == (release, release):
                        break
                except Exception:
                    pass
                if time.perf_counter() - started > timeout:
                    never += 1
                    break
                time.sleep(0.001)
    finally:
        callers.finish()
        tool.stop()
    return {
        "calls": callers.counts["calls"],
        "failed": callers.counts["failed"],
        "mixed": callers.counts["mixed"],
        "kinds": dict(callers.kinds),
        "first_error": callers.first_error,
        "releases": releases,
        "never": never,
        # pmnc_hook: generations that published a or b alone (the deploy split in two)
        "split": len({g for g, members in sets if g > 0 and members != ("a", "b")}),
        "tool_errors": tool.errors,
    }


def run_tool(kind: str, quick: bool) -> dict:
    directory = Path(tempfile.mkdtemp(prefix=f"release-{kind}-"))
    try:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind,
                   "--dir", str(directory)] + (["--quick"] if quick else [])  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            return {"failed_run": (done.stderr.strip().splitlines() or ["?"])[-1]}
        return json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return {"failed_run": "timed out"}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def row(label: str, result: dict) -> str:
    if "missing" in result:
        return f"| {label} | not installed ({result['missing']}) | | | |"
    if "failed_run" in result:
        return f"| {label} | run failed: {result['failed_run']} | | | |"
    kinds = ", ".join(f"{k} {v:,}" for k, v in result["kinds"].items())
    failed = f"{result['failed']:,}" + (f" ({kinds})" if kinds else "")
    split = ""
    if result.get("split"):
        split = f"; {result['split']} generations published one of the two files alone"
    return (
        f"| {label} | {failed} | {result['mixed']:,} | {result['calls']:,} "
        f"| {result['never']} of {result['releases']}{split} |"
    )


def table(quick: bool, chosen=None) -> dict:
    """Run every tool (each in an interpreter of its own); print the Markdown table."""
    results = {}
    print()
    print(
        "| a two-module release under load | failed calls | mixed calls | calls "
        "| releases never served whole |"
    )
    print("| --- | --- | --- | --- | --- |")
    for kind, label, package in TOOLS:
        if chosen and kind not in chosen:
            continue
        if importlib.util.find_spec(package) is None:
            results[kind] = {"missing": package}
        else:
            results[kind] = run_tool(kind, quick)
        print(row(label, results[kind]), flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 releases instead of 30")
    parser.add_argument("--tools", help="comma-separated: " + ",".join(k for k, _, _ in TOOLS))
    parser.add_argument("--json", metavar="FILE", help="also write the raw results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        sys.dont_write_bytecode = True
        result = measure(args.worker, Path(args.dir), 10 if args.quick else 30)
        print(json.dumps(result))
        return 0
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    results = table(args.quick, args.tools.split(",") if args.tools else None)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
