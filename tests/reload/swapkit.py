"""Scenario programs for the swap engine's tests: fresh interpreters with deadlines.

Every scenario is a program whose ``main()`` runs in a fresh interpreter over module files
written into ``tmp_path/mods``. It uses the public API only (and ``pmnc_hook._testing`` where a
test needs to see a phase; such a test fails on code without that seam), so the same scenario
runs against older code (``PYTHONPATH=<old checkout>``). Every wait in it is bounded:
``bounded``/``joined`` fail a thread that does not finish, ``faulthandler`` dumps every stack
and ends the interpreter shortly before the test's own deadline, and the test's subprocess
deadline kills whatever is left. A hang is a failure with the stacks in its message.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import CHILD_FORK_WARNINGS, CHILD_WAIT_FOR, run_script, write

__all__ = ("MUTUAL", "PRELUDE", "run_scenario", "write")

# Two stateful modules that call each other (format with v= and other=): a state counter
# migrated by copy, so an update landing in an old version after its pmnc_init is lost.
MUTUAL = """\
import asyncio, threading
VERSION = {v}
SC = __import__("builtins").SC

def add(n, depth=0):
    with LOCK:
        STATE["n"] += n
    if depth:
        pmnc.{other}.add(n, depth - 1)
    return VERSION

def gen(n):
    for i in range(n):
        with LOCK:
            STATE["n"] += 1
        yield i

async def aadd(n):
    await asyncio.sleep(0)
    with LOCK:
        STATE["n"] += n
    return VERSION

def total():
    with LOCK:
        return STATE["n"]

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is None:
        new_module.STATE, new_module.LOCK = {{"n": 0}}, threading.Lock()
        return
    new_module.LOCK = old_module.LOCK
    with old_module.LOCK:
        new_module.STATE = dict(old_module.STATE)
    new_module.PEER = pmnc.{other}.VERSION  # reads the other module while migrating
    SC.get("after_init", lambda: None)()  # e.g. a fork in the middle of a migration
"""

PRELUDE = (
    CHILD_FORK_WARNINGS
    + CHILD_WAIT_FOR
    + r'''
import builtins, faulthandler, os, random, signal, sys, threading, time, traceback
faulthandler.enable()  # a child killed with SIGABRT (see reap) prints its stacks too
faulthandler.dump_traceback_later(DUMP_AFTER, exit=True)
import pmnc_hook
from pmnc_hook import pmnc

# Signals shared with module code: modules reach them as __import__("builtins").SC.
SC = builtins.SC = {}

def event(name):
    return SC.setdefault(name, threading.Event())

def path_of(name):
    return os.path.join(MODS, name + ".py")

def edit(name, text):
    with open(path_of(name), "w") as f:
        f.write(text)

def version(name):
    return pmnc_hook.status()[name].version

def bounded(target, timeout, what):
    """Run target() on a daemon thread; fail if it is still running after timeout s."""
    box = {}
    def run():
        try:
            box["value"] = target()
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc
    t = threading.Thread(target=run, name=what, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise AssertionError(f"{what}: still running after {timeout} s (a hang)")
    if "error" in box:
        raise box["error"]
    return box.get("value")

def started(target, what, *args):
    """Start target(*args) on a daemon thread; errors go to ERRORS."""
    def run():
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001
            ERRORS.append((what, exc))
            traceback.print_exc()
    t = threading.Thread(target=run, name=what, daemon=True)
    t.start()
    return t

ERRORS = []

def joined(threads, timeout, what="threads"):
    """Join every thread within one deadline; fail naming those still running."""
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in threads if t.is_alive()]
    if alive:
        raise AssertionError(f"{what}: {alive} still running after {timeout} s (a hang)")

def settled(names, timeout=20.0, quiet=0.3):
    """Access names until their versions stay put for quiet s; return them (fail if never)."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    while True:
        for name in names:
            getattr(pmnc, name)
        now = pmnc_hook.status()
        versions = {n: now[n].version for n in names}
        if versions != last:
            last, since = versions, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return versions
        if time.monotonic() > deadline:
            raise AssertionError(f"versions never settled: {versions}")
        time.sleep(0.01)

def reap(pid, timeout):
    """Wait for child pid; kill it and fail if it has not exited in time."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGABRT)  # its stacks first, on the stderr it shares
            time.sleep(1.0)
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"child {pid} hung: killed after {timeout} s")
        time.sleep(0.005)
'''
)

EPILOGUE = r"""
try:
    main()
    assert not ERRORS, ERRORS[:5]
except BaseException:
    traceback.print_exc()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)
print("ok", flush=True)
"""


def run_scenario(
    tmp_path: Path,
    code: str,
    *,
    timeout: float = 60,
    mods: Path | None = None,
    helpers: str = "",
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` (defining ``main()``) after the prelude and ``helpers`` (more
    definitions); fail on an error, a hang, or no "ok" at the end."""
    mods = mods or tmp_path / "mods"
    mods.mkdir(exist_ok=True)
    head = f"DUMP_AFTER = {max(timeout - 5, timeout * 0.8)!r}\nMODS = {str(mods)!r}\n"
    source = head + PRELUDE + textwrap.dedent(helpers) + textwrap.dedent(code) + EPILOGUE
    try:
        result = run_script(tmp_path, source, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        pytest.fail(f"scenario hung: killed after {timeout} s\n{out[-2000:]}\n{err[-6000:]}")
    if result.returncode != 0 or not result.stdout.rstrip().endswith("ok"):
        pytest.fail(
            f"scenario failed (exit {result.returncode})\nstdout:\n{result.stdout[-3000:]}\n"
            f"stderr:\n{result.stderr[-8000:]}"
        )
    return result
