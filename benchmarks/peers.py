"""pmnc_hook against other hot-reload tools: one run, one machine, the same module files.

    python benchmarks/peers.py                  # every tool, about 3 minutes
    python benchmarks/peers.py --quick          # fewer edits and reloads, for a smoke test
    python benchmarks/peers.py --tools pmnc_hook,jurigged
    python benchmarks/peers.py --release        # and the rows of peers_release.py and
                                                # peers_websocket.py (two more tables)

The peers come from the ``bench`` extra (``pip install -e .[bench]``); a tool whose package is
missing gets a row saying so. Each tool runs in its own interpreter, one after the other, and
is driven the way its users drive it:

- pmnc_hook: ``install()`` (watch mode) or ``install(poll=0.05)``; calls go through ``pmnc``.
- jurigged: ``jurigged.watch()`` (patches functions in place; default 50 ms debounce).
- watchfiles + importlib.reload: a thread reloads a module when ``watchfiles.watch()`` (its
  defaults) reports its file changed.
- IPython autoreload: ``ModuleReloader`` as ``%autoreload 2`` sets it up, with no shell; a
  thread calls its ``check()`` every 50 ms, as a notebook would before each cell.
- hupper: restarts a worker process that imports the module (edit-to-visible only, over
  20 edits: each restart takes a second with hupper's default ``reload_interval``).

Figures (every one is measured, none assumed):

1. Edit to visible: write a new version of a small module, then call it until the call
   returns the new value (median and p95 over 50 edits, 100 ms apart; bytecode caching off).
2. Missed edits: 20 edits 150 ms apart, each of the same size as the one before (a digit
   changed), with bytecode caching on (Python's default); an edit is missed if its version
   is not served before the next edit. Python's ``.pyc`` check compares whole-second mtimes
   and sizes, so ``importlib.reload`` can re-use stale bytecode (cpython #75953).
3. Call cost after load: a trivial ``f(x)`` called as users of the tool call it, against the
   same function in a plain module (best of 7 runs of 200,000 calls).
4. Reload cost: one function of a 2,000-line module changed, reloaded synchronously by the
   tool's own entry point (best and median of 15).
5. Memory: growth over 1,000 reloads of a 100-line module (after 20 warm-up reloads): the
   process's RSS, and the memory blocks Python's allocator holds (``sys.getallocatedblocks``).
6. Under load: 4 threads call ``call()`` in a loop while the module is edited 30 times and the
   tool reloads it in its usual way. The module is ordinary: a version number, two functions,
   and a dispatch table filled at import time; ``call()`` returns the three version marks it
   reaches. A call that raises is an error; a call whose marks disagree is torn (parts of two
   versions in one call).

The table is printed as Markdown; the chart goes to benchmarks/peers.png (needs matplotlib).
"""

from __future__ import annotations

import argparse
import collections
import gc
import importlib
import importlib.util
import json
import logging
import os
import platform
import queue
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
from pathlib import Path

HERE = Path(__file__).resolve().parent

# -- the module files every tool gets --------------------------------------------------------


def small_source(n):
    return f'"""Edited by the benchmark."""\n\n\ndef f():\n    return {n}\n'


def big_source(n, functions=500):
    """A 2,000-line module; ``n`` changes the body of one function in the middle."""
    parts = ['"""A 2,000-line module."""\n']
    for i in range(functions):
        extra = f" + {n}" if i == functions // 2 else ""
        parts.append(f"def f{i}(x):\n    y = x + {i}\n    return y * 2{extra}\n\n")
    return "".join(parts)


def load_source(n):
    """An ordinary module: a version, two functions, a dispatch table filled at import."""
    return f'''"""Called by 4 threads while it is reloaded."""

VERSION = {n}


def part_a():
    return {n}


def part_b():
    return {n}


HANDLERS = {{}}
for _name in ("a", "b"):
    HANDLERS[_name] = globals()["part_" + _name]


def call():
    return (VERSION, part_a(), HANDLERS["b"]())
'''


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- the tools, each driven as its users drive it --------------------------------------------


class Tool:
    """One tool in one interpreter: load modules, reload now, or detect changes itself."""

    call_stmt = "mod.f(1)"

    def __init__(self, directory):
        self.directory = directory
        self.errors = 0  # failures the tool reported itself (logged, not raised to callers)

    def start_sync(self):
        """Set up for reloads triggered by reload_now() only."""

    def start_async(self):
        """Start the tool's own change detection."""

    def load(self, name):
        """Return a function giving the module as a caller sees it now."""
        raise NotImplementedError

    def reload_now(self, name):
        """Apply the file's current content now, by the tool's own entry point."""
        raise NotImplementedError

    def stop(self):
        pass


class PmncHook(Tool):
    call_stmt = "pmnc.callee.f(1)"

    def __init__(self, directory, poll=None):
        super().__init__(directory)
        self.poll = poll
        import pmnc_hook

        self.pmnc_hook = pmnc_hook

    def start_sync(self):
        self.pmnc_hook.install([self.directory], poll=3600)  # no detection in the way

    def start_async(self):
        self.pmnc_hook.uninstall()
        self.pmnc_hook.install([self.directory], poll=self.poll)

    def load(self, name):
        pmnc = self.pmnc_hook.pmnc
        getattr(pmnc, name)
        return lambda: getattr(pmnc, name)

    def reload_now(self, name):
        self.pmnc_hook.refresh()
        getattr(self.pmnc_hook.pmnc, name)

    def stop(self):
        self.pmnc_hook.uninstall()


class Importlib(Tool):
    def start_sync(self):
        sys.path.insert(0, str(self.directory))

    def start_async(self):
        import watchfiles

        self.stop_event = threading.Event()

        def run():
            for changes in watchfiles.watch(self.directory, stop_event=self.stop_event):
                for _, path in changes:
                    name = Path(path).stem
                    module = sys.modules.get(name)
                    if path.endswith(".py") and module is not None:
                        try:
                            importlib.reload(module)
                        except Exception:
                            self.errors += 1

        threading.Thread(target=run, daemon=True).start()
        time.sleep(0.3)  # the watcher starts in the background

    def load(self, name):
        module = importlib.import_module(name)
        return lambda: module

    def reload_now(self, name):
        importlib.reload(sys.modules[name])

    def stop(self):
        if hasattr(self, "stop_event"):
            self.stop_event.set()


class Jurigged(Tool):
    def start_sync(self):
        import jurigged

        def log(event):
            if isinstance(event, Exception):
                self.errors += 1

        sys.path.insert(0, str(self.directory))
        self.watcher = jurigged.watch(f"{self.directory}/*.py", logger=log, autostart=False)

    def start_async(self):
        self.watcher.start()
        time.sleep(0.1)

    def load(self, name):
        module = importlib.import_module(name)
        return lambda: module

    def reload_now(self, name):
        self.watcher.refresh(sys.modules[name].__file__)

    def stop(self):
        self.watcher.stop()


class IPythonAutoreload(Tool):
    def start_sync(self):
        from IPython.extensions.autoreload import ModuleReloader

        class Count(logging.Handler):
            def emit(inner, record):
                self.errors += 1

        logging.getLogger("autoreload").addHandler(Count())
        logging.getLogger("autoreload").propagate = False
        sys.path.insert(0, str(self.directory))
        self.reloader = ModuleReloader()
        self.reloader.enabled = True  # %autoreload 2: every module, deduperreload on
        self.reloader.check_all = True
        self.lock = threading.Lock()

    def start_async(self):
        self.stop_event = threading.Event()

        def run():
            while not self.stop_event.wait(0.05):
                self.check()

        threading.Thread(target=run, daemon=True).start()

    def check(self):
        with self.lock:
            stderr, sys.stderr = sys.stderr, open(os.devnull, "w")  # it prints failures too
            try:
                self.reloader.check()
            finally:
                sys.stderr.close()
                sys.stderr = stderr

    def load(self, name):
        module = importlib.import_module(name)
        self.check()  # records the module's mtime and source, as the next cell would
        return lambda: module

    def reload_now(self, name):
        self.check()

    def stop(self):
        if hasattr(self, "stop_event"):
            self.stop_event.set()


def make_tool(kind, directory):
    if kind == "pmnc_hook":
        return PmncHook(directory)
    if kind == "pmnc_hook_poll":
        return PmncHook(directory, poll=0.05)
    return {"jurigged": Jurigged, "importlib": Importlib, "ipython": IPythonAutoreload}[kind](
        directory
    )


# -- the measurements (in the tool's own interpreter) ----------------------------------------


def latency(tool, directory, edits, name="lat", pause=0.1, timeout=2.0, start=1):
    """Edit ``name`` ``edits`` times; return (seconds to visible per seen edit, missed, calls
    that raised). Pauses get 0-50 ms of jitter, so that edits do not fall into step with a
    tool's polling period."""
    path = directory / f"{name}.py"
    write(path, small_source(start - 1))
    access = tool.load(name)
    time.sleep(0.2)
    jitter = random.Random(start)
    samples, missed, raised = [], 0, 0
    for n in range(start, start + edits):
        time.sleep(pause + jitter.uniform(0, 0.05))
        started = time.perf_counter()
        write(path, small_source(n))
        while True:
            try:
                value = access().f()
            except Exception:
                raised += 1
                value = None
            elapsed = time.perf_counter() - started
            if value == n:
                samples.append(elapsed)
                break
            if elapsed > timeout:
                missed += 1
                break
            time.sleep(0.0005)
    return samples, missed, raised


def call_cost(tool, directory):
    plain = directory / "plain"
    plain.mkdir()
    for folder, name in ((directory, "callee"), (plain, "plain_callee")):
        write(folder / f"{name}.py", "def f(x):\n    return x\n")
    sys.path.insert(0, str(plain))
    baseline = importlib.import_module("plain_callee")
    access = tool.load("callee")
    namespace = {"mod": access(), "pmnc": getattr(getattr(tool, "pmnc_hook", None), "pmnc", None)}

    def best(stmt, ns):
        return min(timeit.Timer(stmt, globals=ns).repeat(7, 200_000)) / 200_000

    base = best("plain.f(1)", {"plain": baseline})
    through = best(tool.call_stmt, namespace)
    return {"ns": through * 1e9, "base_ns": base * 1e9, "ratio": through / base}


def reload_cost(tool, directory, reloads):
    path = directory / "big.py"
    write(path, big_source(0))
    access = tool.load("big")
    times, stale = [], 0
    for n in range(1, reloads + 1):
        write(path, big_source(n))
        started = time.perf_counter()
        tool.reload_now("big")
        times.append(time.perf_counter() - started)
        if access().f250(0) != (0 + 250) * 2 + n:
            stale += 1
    return {
        "best_ms": min(times) * 1000,
        "median_ms": statistics.median(times) * 1000,
        "stale": stale,
        "reloads": reloads,
    }


def memory(tool, directory, reloads, warmup=20, functions=25):
    path = directory / "mem.py"
    write(path, big_source(0, functions))
    access = tool.load("mem")
    n = 0
    for _ in range(warmup):
        n += 1
        write(path, big_source(n, functions))
        tool.reload_now("mem")
    gc.collect()
    before, blocks = rss_mb(), sys.getallocatedblocks()
    for _ in range(reloads):
        n += 1
        write(path, big_source(n, functions))
        tool.reload_now("mem")
    gc.collect()
    after, blocks = rss_mb() - before, sys.getallocatedblocks() - blocks
    middle = functions // 2
    served = getattr(access(), f"f{middle}")(0) == middle * 2 + n
    return {"growth_mb": after, "blocks": blocks, "reloads": reloads, "last_served": served}


def under_load(tool, directory, reloads, threads=4, timeout=2.0):
    path = directory / "load.py"
    write(path, load_source(0))
    access = tool.load("load")
    stop = threading.Event()
    counts = collections.Counter()
    kinds = collections.Counter()
    torn_seen = collections.Counter()
    first_error = {}
    lock = threading.Lock()

    def caller():
        calls = errors = torn = 0
        mine = collections.Counter()
        torn_marks = collections.Counter()
        while not stop.is_set():
            try:
                marks = access().call()
            except Exception as exc:
                errors += 1
                mine[type(exc).__name__] += 1
                if type(exc).__name__ not in first_error:
                    first_error[type(exc).__name__] = str(exc)[:100]
                continue
            calls += 1
            if marks[0] != marks[1] or marks[1] != marks[2]:
                torn += 1
                torn_marks[marks] += 1
        with lock:
            counts.update(calls=calls, errors=errors, torn=torn)
            kinds.update(mine)
            torn_seen.update(torn_marks)

    workers = [threading.Thread(target=caller) for _ in range(threads)]
    for worker in workers:
        worker.start()
    missed = 0
    try:
        jitter = random.Random(0)
        for n in range(1, reloads + 1):
            time.sleep(0.05 + jitter.uniform(0, 0.05))
            started = time.perf_counter()
            write(path, load_source(n))
            while True:
                try:
                    seen = access().call() == (n, n, n)
                except Exception:
                    seen = False
                if seen:
                    break
                if time.perf_counter() - started > timeout:
                    missed += 1
                    break
                time.sleep(0.001)
    finally:
        stop.set()
        for worker in workers:
            worker.join()
    return {
        **counts,
        "kinds": dict(kinds),
        "first_error": first_error,
        "torn_examples": [[list(m), c] for m, c in torn_seen.most_common(3)],
        "reloads": reloads,
        "missed": missed,
    }


def worker(kind, directory, quick):
    directory = Path(directory)
    sys.dont_write_bytecode = True
    edits, reloads, mem_reloads, load_reloads = (10, 5, 100, 10) if quick else (50, 15, 1000, 30)
    tool = make_tool(kind, directory)
    result = {}
    tool.start_sync()
    if kind != "pmnc_hook_poll":  # poll mode differs from watch mode in detection only
        result["call"] = call_cost(tool, directory)
        result["reload"] = reload_cost(tool, directory, reloads)
        result["memory"] = memory(tool, directory, mem_reloads)
    tool.start_async()
    samples, missed, raised = latency(tool, directory, edits)
    result["latency"] = summary(samples, missed, raised, edits)
    sys.dont_write_bytecode = False  # as Python runs by default
    samples, missed, raised = latency(
        tool, directory, 10 if quick else 20, name="stale", pause=0.15, timeout=0.5, start=11
    )
    result["stale"] = {"missed": missed, "edits": 10 if quick else 20}
    sys.dont_write_bytecode = True
    result["load"] = under_load(tool, directory, load_reloads)
    result["tool_errors"] = tool.errors
    tool.stop()
    return result


def summary(samples, missed, raised, edits):
    ordered = sorted(samples)
    if not ordered:
        return {"median_ms": None, "p95_ms": None, "missed": missed, "edits": edits}
    p95 = ordered[max(0, int(round(len(ordered) * 0.95)) - 1)]
    return {
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": p95 * 1000,
        "missed": missed,
        "raised": raised,
        "edits": edits,
    }


# -- hupper: a restarting reloader, in processes of its own -----------------------------------

HUPPER_APP = """
import time

import lat


def main():
    import hupper

    hupper.get_reloader().watch_files([lat.__file__])
    print("ready", lat.f(), flush=True)
    while True:
        time.sleep(1)
"""

HUPPER_MONITOR = "import hupper; hupper.start_reloader('hupper_app.main', verbose=0)"


def hupper_latency(directory, edits):
    """Restart latency with hupper's defaults: write, then wait for the new worker's line."""
    path = directory / "lat.py"
    write(path, small_source(0))
    write(directory / "hupper_app.py", HUPPER_APP)
    env = dict(os.environ, PYTHONPATH=str(directory), PYTHONDONTWRITEBYTECODE="1")
    monitor = subprocess.Popen(
        [sys.executable, "-c", HUPPER_MONITOR],
        cwd=directory,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in monitor.stdout], daemon=True).start()
    samples, missed = [], 0
    jitter = random.Random(1)
    try:
        lines.get(timeout=20)  # ready 0
        for n in range(1, edits + 1):
            time.sleep(0.2 + jitter.uniform(0, 0.05))
            started = time.perf_counter()
            write(path, small_source(n))
            deadline = started + 5
            while True:
                try:
                    line = lines.get(timeout=max(0.01, deadline - time.perf_counter()))
                except queue.Empty:
                    missed += 1
                    break
                if line.split() == ["ready", str(n)]:
                    samples.append(time.perf_counter() - started)
                    break
    finally:
        os.killpg(monitor.pid, 15)
        monitor.wait(10)
    return {"latency": summary(samples, missed, 0, edits)}


# -- the orchestra: run each tool in its own interpreter, print and draw ---------------------

TOOLS = [
    ("pmnc_hook", "pmnc_hook (watch)", "pmnc_hook"),
    ("pmnc_hook_poll", "pmnc_hook (poll 50 ms)", "pmnc_hook"),
    ("jurigged", "jurigged", "jurigged"),
    ("importlib", "watchfiles + importlib.reload", "watchfiles"),
    ("ipython", "IPython autoreload (check every 50 ms)", "IPython"),
    ("hupper", "hupper (restarts the process)", "hupper"),
]


def run_tool(kind, quick):
    directory = Path(tempfile.mkdtemp(prefix=f"peers-{kind}-"))
    try:
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind,
                   "--dir", str(directory)] + (["--quick"] if quick else [])  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
        if done.returncode != 0:
            return {"failed": (done.stderr.strip().splitlines() or ["?"])[-1]}
        return json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return {"failed": "timed out"}
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def cell(result, *keys, fmt="{}", missing="–"):
    value = result
    for key in keys:
        if not isinstance(value, dict) or value.get(key) is None:
            return missing
        value = value[key]
    return fmt.format(value)


def row(label, result):
    if "missing" in result:
        return f"| {label} | not installed ({result['missing']}) | | | | | |"
    if "failed" in result:
        return f"| {label} | failed: {result['failed']} | | | | | |"
    lat = result["latency"]
    latency_text = (
        "never"
        if lat["median_ms"] is None
        else (f"{lat['median_ms']:.0f} / {lat['p95_ms']:.0f} ms")
    )
    if lat["missed"]:
        latency_text += f" ({lat['missed']} of {lat['edits']} not seen in 2 s)"
    stale = "–"
    if "stale" in result:
        stale = f"{result['stale']['missed']} of {result['stale']['edits']}"
    call = cell(result, "call", "ratio", fmt="{:.2f}x")
    if "call" in result:
        call += f" ({result['call']['ns']:.0f} ns)"
    reload_text = "–"
    if "reload" in result:
        reload_text = f"{result['reload']['best_ms']:.1f} / {result['reload']['median_ms']:.1f} ms"
    if result.get("reload", {}).get("stale"):
        reload_text += f" ({result['reload']['stale']} stale)"
    mem = cell(result, "memory", "growth_mb", fmt="{:+.1f} MB")
    if "blocks" in result.get("memory", {}):
        mem += f" ({result['memory']['blocks']:+,} blocks)"
    load = result.get("load")
    if load:
        load_text = f"{load.get('errors', 0)} errors, {load.get('torn', 0)} torn in " + (
            f"{load.get('calls', 0):,} calls"
        )
        if load.get("kinds"):
            load_text += " (" + ", ".join(f"{k} {v}" for k, v in load["kinds"].items()) + ")"
        if load.get("missed"):
            load_text += f"; {load['missed']} of {load['reloads']} versions never served"
    else:
        load_text = "–"
    return f"| {label} | {latency_text} | {stale} | {call} | {reload_text} | {mem} | {load_text} |"


def same_as_watch(results):
    """Poll mode shares everything but detection with watch mode: say so in its row."""
    poll, watch = results.get("pmnc_hook_poll"), results.get("pmnc_hook")
    if poll and watch and "latency" in poll and "call" in watch:
        for key in ("call", "reload", "memory"):
            poll.setdefault(key, watch[key])


def chart(results, labels, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib is not installed: no chart)")
        return
    kinds = [k for k in labels if "latency" in results.get(k, {})]
    names = [labels[k].replace(" (", "\n(") for k in kinds]
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    median = [results[k]["latency"]["median_ms"] or 0 for k in kinds]
    p95 = [results[k]["latency"]["p95_ms"] or 0 for k in kinds]
    ax = axes[0][0]
    ax.barh(names, median, xerr=[[0] * len(kinds), [b - a for a, b in zip(median, p95)]])
    ax.set_xscale("log")
    ax.set_title("edit to visible, ms (bar: median, whisker: p95; log scale)")
    panels = [
        (axes[0][1], "reload", "median_ms", "reload of a 2,000-line module, ms (median)"),
        (axes[1][0], "memory", "blocks", "memory blocks gained over 1,000 reloads"),
    ]
    for ax, key, field, title in panels:
        some = [k for k in kinds if field in results[k].get(key, {})]
        bars = ax.barh([labels[k].replace(" (", "\n(") for k in some],
                       [results[k][key][field] for k in some])  # fmt: skip
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=7)
        ax.set_title(title)
    ax = axes[1][1]
    some = [k for k in kinds if "load" in results[k]]
    places = range(len(some))
    for offset, field in ((-0.2, "errors"), (0.2, "torn")):
        counts = [results[k]["load"].get(field, 0) for k in some]
        bars = ax.barh([p + offset for p in places], counts, height=0.4, label=field)
        ax.bar_label(bars, fmt="{:,.0f}", fontsize=7)
    ax.set_yticks(list(places), [labels[k].replace(" (", "\n(") for k in some])
    ax.set_xscale("symlog")
    ax.legend(fontsize=8)
    ax.set_title("under load: calls that raised, and torn calls (4 threads, 30 reloads)")
    for ax in axes.flat:
        ax.invert_yaxis()
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle(f"pmnc_hook and peers, Python {platform.python_version()}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"chart: {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer edits and reloads")
    parser.add_argument("--tools", help="comma-separated: " + ",".join(k for k, _, _ in TOOLS))
    parser.add_argument("--json", metavar="FILE", help="also write the raw results here")
    parser.add_argument("--chart", default=str(HERE / "peers.png"), metavar="PNG")
    parser.add_argument(
        "--release",
        action="store_true",
        help="also a two-module release under load (peers_release.py) and websocket "
        "connections dropped per change (peers_websocket.py)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        if args.worker == "hupper":
            result = hupper_latency(Path(args.dir), 5 if args.quick else 20)
        else:
            result = worker(args.worker, args.dir, args.quick)
        print(json.dumps(result))
        return 0

    chosen = args.tools.split(",") if args.tools else [k for k, _, _ in TOOLS]
    labels = {k: label for k, label, _ in TOOLS if k in chosen}
    results = {}
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs{' (quick run)' if args.quick else ''}", flush=True)  # fmt: skip
    for kind, label, package in TOOLS:
        if kind not in chosen:
            continue
        if importlib.util.find_spec(package) is None:
            results[kind] = {"missing": package}
            continue
        started = time.monotonic()
        results[kind] = run_tool(kind, args.quick)
        print(f"  {label}: {time.monotonic() - started:.0f} s", flush=True)
    same_as_watch(results)
    print()
    print(
        "| tool | edit → visible, median / p95 | missed same-second edits | call vs plain "
        "| reload, 2,000 lines, best / median | memory after 1,000 reloads | under load |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind, label in labels.items():
        print(row(label, results[kind]))
    if args.release:
        sys.path.insert(0, str(HERE))
        import peers_release
        import peers_websocket

        results["release"] = peers_release.table(args.quick)
        results["websocket"] = peers_websocket.table(args.quick)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    chart(results, labels, args.chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
