"""Clean exits and clean uninstalls (issue 9).

A program that never calls ``uninstall()`` exits with status 0, nothing on stderr and no hang,
even with reloads in progress and threads calling through ``pmnc`` at that moment; and
``uninstall()`` stops and joins every thread the hook started. Each scenario runs in a fresh
interpreter with a deadline.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from conftest import CHILD_FORK_WARNINGS, CHILD_WAIT_FOR, run_script, write

DEADLINE = 30  # seconds; an interpreter hanging at exit fails the test
EXIT_BUDGET = 10.0  # seconds from the end of the program's work to the process being gone

PRELUDE = (
    CHILD_FORK_WARNINGS
    + CHILD_WAIT_FOR
    + r"""
import os, sys, threading, time, warnings



def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)

def write_in_place(path, text):
    with open(path, "w") as f:
        f.write(text)

def done():
    # The program's work is over: from here on, only the interpreter's exit remains.
    print("DONE", time.monotonic(), flush=True)
"""
)

STATEFUL = """\
VERSION = 1
N = 0

def bump():
    global N
    N += 1
    return N

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is not None:
        new_module.N = old_module.N
"""


def run(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run PRELUDE + ``code`` as a script with the deadline; check that its exit was clean."""
    r = run_script(tmp_path, PRELUDE + code, timeout=DEADLINE)
    ended = time.monotonic()
    report = f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.returncode == 0, report
    assert "Traceback" not in r.stderr and "Exception in thread" not in r.stderr, report
    assert r.stderr == "", report
    marks = [line for line in r.stdout.splitlines() if line.startswith("DONE ")]
    assert marks, report
    # time.monotonic() is system-wide on Linux: compare the child's mark with our clock.
    exit_took = ended - float(marks[-1].split()[1])
    print(f"exit took {exit_took:.2f} s")
    assert exit_took < EXIT_BUDGET, f"the exit took {exit_took:.1f} s\n{report}"
    return r


@pytest.mark.parametrize("mode", ["watch", "poll"])
def test_exit_without_uninstall_is_clean(tmp_path, mode):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    write(mods / "st.py", STATEFUL)
    poll = "None" if mode == "watch" else "0.05"
    run(
        tmp_path,
        f"""
import pmnc_hook
from pmnc_hook import pmnc
MODS = {str(mods)!r}
hook = pmnc_hook.install([MODS], poll={poll})
assert hook.detector_mode() == {mode!r}
assert pmnc.bar.V == 1 and pmnc.st.bump() == 1
write_in_place(os.path.join(MODS, "bar.py"), "V = 2\\n")
wait_for(lambda: pmnc.bar.V == 2)
done()
""",
    )


def test_exit_with_reloads_in_progress_and_threads_calling(tmp_path):
    """At the moment of exit: daemon threads calling through pmnc, a thread rewriting and
    reloading modules, a reload stuck in a module body, and a stateful swap draining for a
    call that never ends. None of them may hold up the exit or print anything."""
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 0\n")
    write(mods / "st.py", STATEFUL)
    write(
        mods / "stuck.py",
        """\
import builtins
V = 1

def forever():
    builtins.STUCK_CALL.set()
    builtins.NEVER.wait()

def pmnc_init(old_module, new_module, new_module_filename):
    pass
""",
    )
    write(mods / "body.py", "V = 1\n")
    run(
        tmp_path,
        f"""
import builtins
import pmnc_hook
from pmnc_hook import pmnc
MODS = {str(mods)!r}
builtins.NEVER = threading.Event()
builtins.STUCK_CALL = threading.Event()
builtins.IN_BODY = threading.Event()
pmnc_hook.install([MODS], drain_timeout=60)
assert pmnc.bar.V == 0 and pmnc.st.bump() == 1 and pmnc.stuck.V == 1 and pmnc.body.V == 1
ST_TEXT = open(os.path.join(MODS, "st.py")).read()
counts = {{"calls": 0, "reloads": 0}}

def caller():
    while True:
        pmnc.bar.V
        pmnc.st.bump()
        counts["calls"] += 1

def reloader():
    n = 0
    while True:
        n += 1
        write_atomically(os.path.join(MODS, "bar.py"), f"V = {{n}}\\n")
        write_in_place(
            os.path.join(MODS, "st.py"), ST_TEXT.replace("VERSION = 1", f"VERSION = {{n}}")
        )
        pmnc_hook.refresh()
        pmnc.bar.V
        counts["reloads"] = n

def start(fn):
    threading.Thread(target=fn, daemon=True).start()

# a call that never returns, and a reload of its module draining for it
start(pmnc.stuck.forever)
builtins.STUCK_CALL.wait(20)
STUCK = os.path.join(MODS, "stuck.py")
write_in_place(STUCK, open(STUCK).read() + "# 2\\n")
assert "stuck" in pmnc_hook.refresh()
start(lambda: pmnc.stuck.V)
from pmnc_hook._testing import phase
wait_for(lambda: phase("stuck") == "draining", what="the swap of stuck draining")
# a reload whose module body never finishes
write_in_place(
    os.path.join(MODS, "body.py"),
    "import builtins\\nbuiltins.IN_BODY.set()\\nbuiltins.NEVER.wait()\\nV = 2\\n",
)
assert "body" in pmnc_hook.refresh()
start(lambda: pmnc.body.V)
builtins.IN_BODY.wait(20)
# callers, and reloads in a loop (refresh() only from the thread that writes the files: it
# reads them at once, trusting that they are complete)
for _ in range(3):
    start(caller)
start(reloader)
wait_for(lambda: counts["reloads"] >= 3 and counts["calls"] >= 100, what="activity")
done()
""",
    )


def test_forked_children_exit_cleanly_without_uninstall(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    r = run(
        tmp_path,
        f"""
import multiprocessing
import pmnc_hook
from pmnc_hook import pmnc
MODS = {str(mods)!r}
pmnc_hook.install([MODS])
assert pmnc.bar.V == 1

def use_the_hook():
    write_in_place(os.path.join(MODS, "bar.py"), f"V = {{os.getpid()}}\\n")
    wait_for(lambda: pmnc.bar.V == os.getpid())

# os.fork(), the child leaving through a normal interpreter exit (atexit handlers run)
pid = os.fork()
if pid == 0:
    use_the_hook()
    print("child", flush=True)
    sys.exit(0)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0
# multiprocessing with the fork start method
p = multiprocessing.get_context("fork").Process(target=use_the_hook)
p.start()
p.join(20)
assert p.exitcode == 0, p.exitcode
done()
""",
    )
    assert "child" in r.stdout


@pytest.mark.parametrize("mode", ["watch", "poll"])
def test_uninstall_stops_and_joins_every_thread_it_started(tmp_path, mode):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    write(mods / "st.py", STATEFUL)
    poll = "None" if mode == "watch" else "0.05"
    r = run(
        tmp_path,
        f"""
import pmnc_hook
from pmnc_hook import pmnc
MODS = {str(mods)!r}
BAR = os.path.join(MODS, "bar.py")

def fds():
    return len(os.listdir("/proc/self/fd"))

def threads():
    return sorted(t.name for t in threading.enumerate())

before = threads()
hook = pmnc_hook.install([MODS], poll={poll})
assert hook.detector_mode() == {mode!r}
started = threads()
assert len(started) > len(before), started
assert pmnc.bar.V == 1 and pmnc.st.bump() == 1
write_in_place(BAR, "V = 2\\n")
wait_for(lambda: pmnc.bar.V == 2)
hook.uninstall()
# uninstall() joined them: nothing is left, with no waiting on our side
assert threads() == before, (before, threads())

# install/uninstall again and again: nothing accumulates
baseline_fds = fds()
for n in range(3, 23):
    with pmnc_hook.install([MODS], poll={poll}) as hook:
        assert pmnc.bar.V == n - 1
        write_in_place(BAR, f"V = {{n}}\\n")
        wait_for(lambda: pmnc.bar.V == n)
    assert threads() == before, (n, threads())
assert fds() == baseline_fds, (baseline_fds, fds())
print("threads while installed:", len(started) - len(before))
done()
""",
    )
    assert "threads while installed" in r.stdout
