"""Forked children have a working hook of their own (issue 9).

Every test runs its scenario in a fresh interpreter (forking with threads alive raises a
DeprecationWarning on 3.12+, so never under this process's ``filterwarnings = error``), with a
subprocess deadline; inside it, each child exits through ``os._exit`` with its verdict as the
exit code, and the parent reaps it with a deadline of its own, killing it if it hangs.

The watcher's backup stat sweep is pushed out of reach (``BACKUP_SWEEP``) in the scenarios
that wait for an edit without ``refresh()``: there, only the child's own watcher and its
check right after the fork can bring the edit in.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import CHILD_FORK_WARNINGS, CHILD_WAIT_FOR, run_script, write

DEADLINE = 60  # seconds for a whole scenario's interpreter

PRELUDE = (
    CHILD_FORK_WARNINGS
    + CHILD_WAIT_FOR
    + r"""
import os, select, signal, sys, threading, time, traceback, warnings



def reap(pid, timeout=30.0):
    # Wait for child pid; kill it and fail if it has not exited in time (longer than the
    # children's own waits, so that a child failing a wait reports why).
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"child {pid} hung: killed after {timeout} s")
        time.sleep(0.005)

def spawn(body):
    # Fork; the child runs body() and leaves through os._exit: 0 if it returned, else 1.
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            body()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    return pid

def send(fd):
    os.write(fd, b"!")

def receive(fd, timeout=20.0):
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready or os.read(fd, 1) != b"!":
        raise AssertionError(f"no signal within {timeout} s")

def write_in_place(path, text):
    # As an editor saving in place does.
    with open(path, "w") as f:
        f.write(text)

def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)

def no_backup_sweep():
    # Only the watcher (and the check right after a fork) may find an edit.
    import pmnc_hook.detect.detector as detect
    assert hasattr(detect, "BACKUP_SWEEP")
    detect.BACKUP_SWEEP = 3600.0
"""
)

COUNTER = """\
VERSION = 1
N = 0

def bump():
    global N
    N += 1
    return N

def value():
    return VERSION, N

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is not None:
        new_module.N = old_module.N
"""


def run(tmp_path: Path, code: str) -> str:
    """Run PRELUDE + ``code`` with the deadline; fail with its output unless it exits 0.

    The scenario is written to ``scenario.py`` first, so that tracebacks show its lines.
    """
    r = run_script(tmp_path, PRELUDE + code, timeout=DEADLINE)
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert "Traceback" not in r.stderr and "Exception in thread" not in r.stderr, r.stderr
    return r.stdout


def test_os_fork_child_reloads_on_its_own_in_watch_mode_without_refresh(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    write(mods / "counter.py", COUNTER)
    out = run(
        tmp_path,
        f"""
no_backup_sweep()
import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook import _api as _hook
MODS = {str(mods)!r}
BAR, COUNTER = os.path.join(MODS, "bar.py"), os.path.join(MODS, "counter.py")
hook = pmnc_hook.install([MODS])
assert hook.detector_mode() == "watch", hook.detector_mode()
assert pmnc.bar.V == 1
for _ in range(5):
    pmnc.counter.bump()

ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()

def child():
    hook = _hook.current()
    assert hook.detector_mode() == "watch" and hook.detector.threads_alive()
    assert pmnc.bar.V == 1
    for _ in range(3):
        pmnc.counter.bump()
    send(ready_w)
    receive(go_r)
    # No refresh(): the child's own watcher brings the edits in.
    wait_for(lambda: pmnc.bar.V == 2, what="child sees bar v2")
    wait_for(lambda: pmnc.counter.value() == (2, 8), what="child sees counter v2 with N=8")
    assert pmnc_hook.status()["bar"].version == 2

pid = spawn(child)
receive(ready_r)
write_in_place(BAR, "V = 2\\n")
write_in_place(COUNTER, open(COUNTER).read().replace("VERSION = 1", "VERSION = 2"))
send(go_w)
assert reap(pid) == 0, "child failed"
# The child's reloads and its state are its own: this process has its own N, and reloads
# by itself (its watcher saw the same edits).
wait_for(lambda: pmnc.counter.value() == (2, 5), what="parent sees counter v2 with N=5")
wait_for(lambda: pmnc.bar.V == 2, what="parent sees bar v2")
versions = pmnc_hook.status()
print("parent versions", versions["bar"].version, versions["counter"].version, flush=True)

# Children that stop their hook (uninstall(), or a normal interpreter exit running the
# atexit handler) stop their own watcher, never the parent's inherited one.
def uninstalling_child():
    pmnc_hook.uninstall()
    assert [t for t in threading.enumerate() if t is not threading.current_thread()] == []

assert reap(spawn(uninstalling_child)) == 0
pid = os.fork()
if pid == 0:
    sys.exit(0)  # a normal exit: atexit handlers, interpreter finalization
assert reap(pid) == 0
write_in_place(BAR, "V = 3\\n")
wait_for(lambda: pmnc.bar.V == 3, what="parent's watcher still working")
print("ok")
""",
    )
    assert "parent versions 2 2" in out and "ok" in out


def test_multiprocessing_fork_process_and_pool_see_edits_without_refresh(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    out = run(
        tmp_path,
        f"""
no_backup_sweep()
import multiprocessing
import pmnc_hook
from pmnc_hook import pmnc
MODS = {str(mods)!r}
BAR = os.path.join(MODS, "bar.py")
hook = pmnc_hook.install([MODS])
assert hook.detector_mode() == "watch"
assert pmnc.bar.V == 1
ctx = multiprocessing.get_context("fork")

def target(conn):
    from pmnc_hook import _api as _hook
    conn.send(("ready", pmnc.bar.V, _hook.current().detector_mode()))
    assert conn.poll(20) and conn.recv() == "edited"
    wait_for(lambda: pmnc.bar.V == 2, what="process sees v2")
    conn.send(("saw", pmnc_hook.status()["bar"].version))

here, there = ctx.Pipe()
p = ctx.Process(target=target, args=(there,))
p.start()
try:
    assert here.poll(20), "no answer from the process"
    assert here.recv() == ("ready", 1, "watch")
    write_in_place(BAR, "V = 2\\n")
    here.send("edited")
    assert here.poll(20), "the process did not see the edit"
    assert here.recv() == ("saw", 2)
    p.join(20)
    assert p.exitcode == 0, p.exitcode
finally:
    if p.is_alive():
        p.kill()
        p.join(5)

# A pool forked now: its workers start from this process's modules and reload on their own.
# The barrier makes two different workers take the two tasks of each round.
barrier = ctx.Barrier(2)

def task(_):
    barrier.wait(20)
    return os.getpid(), pmnc.bar.V

pool = ctx.Pool(2)
try:
    first = pool.map_async(task, range(2), chunksize=1).get(20)
    assert sorted(v for _, v in first) == [2, 2] and len({{p for p, _ in first}}) == 2, first
    write_in_place(BAR, "V = 3\\n")
    def all_workers_see_v3():
        answers = pool.map_async(task, range(2), chunksize=1).get(20)
        return all(v == 3 for _, v in answers)
    wait_for(all_workers_see_v3, what="both pool workers see v3")
finally:
    pool.terminate()
    pool.join()
print("ok")
""",
    )
    assert "ok" in out


def test_edit_between_fork_and_child_watcher_ready_is_not_lost(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    out = run(
        tmp_path,
        f"""
# This hook is registered before pmnc_hook's, so in the child it runs first: the child waits
# there, before its new watcher exists, while the parent edits the file.
assert "pmnc_hook" not in sys.modules
SYNC = {{}}

def hold_child_until_edited():
    if SYNC:
        send(SYNC["forked_w"])
        receive(SYNC["edited_r"])

os.register_at_fork(after_in_child=hold_child_until_edited)
no_backup_sweep()
import pmnc_hook
from pmnc_hook import pmnc
MODS = {str(mods)!r}
BAR = os.path.join(MODS, "bar.py")
pmnc_hook.install([MODS])
assert pmnc.bar.V == 1
forked_r, SYNC["forked_w"] = os.pipe()
SYNC["edited_r"], edited_w = os.pipe()

def child():
    wait_for(lambda: pmnc.bar.V == 2, what="child sees the edit made before its watcher")

pid = spawn(child)
SYNC.clear()
receive(forked_r)
write_in_place(BAR, "V = 2\\n")
send(edited_w)
assert reap(pid) == 0, "the edit made before the child's watcher was ready was lost"

# Also an edit racing the child's start, with no hold: made the moment fork() returns here.
def child3():
    wait_for(lambda: pmnc.bar.V == 3, what="child sees the edit racing its start")

pid = spawn(child3)
write_in_place(BAR, "V = 3\\n")
assert reap(pid) == 0
print("ok")
""",
    )
    assert "ok" in out


def test_fork_while_other_threads_hold_locks_mid_load_and_mid_swap(tmp_path):
    """Threads blocked inside a first load, a reload body, a drain and a postponed swap at
    the moment of the fork: the child waits for none of them and loads everything itself."""
    mods = tmp_path / "mods"
    gate = """\
import builtins, os
if os.getpid() == builtins.PARENT:
    builtins.ENTERED[__name__.rsplit(".", 1)[-1]].set()
    builtins.GATE.wait(30)
"""
    write(mods / "first.py", gate + "V = 1\n")
    write(mods / "again.py", "V = 1\n")
    write(
        mods / "st.py",
        """\
import builtins, os
V = 1

def slow():
    builtins.ENTERED[__name__.rsplit(".", 1)[-1] + "-slow"].set()
    builtins.GATE.wait(30)
    return V

def v():
    return V

def pmnc_init(old_module, new_module, new_module_filename):
    pass
""",
    )
    write(mods / "st2.py", (mods / "st.py").read_text())
    out = run(
        tmp_path,
        f"""
import builtins, collections
builtins.PARENT = os.getpid()
builtins.GATE = threading.Event()
builtins.ENTERED = collections.defaultdict(threading.Event)
no_backup_sweep()
import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook import _api as _hook
MODS = {str(mods)!r}
hook = pmnc_hook.install([MODS], drain_timeout=0.3)
assert pmnc.again.V == 1 and pmnc.st.v() == 1 and pmnc.st2.v() == 1
threads = []

def start(fn):
    t = threading.Thread(target=fn, daemon=True)
    t.start()
    threads.append(t)

# 1. a first load blocked in the module body (holds first's module lock)
start(lambda: pmnc.first.V)
# 2. a reload blocked in the new body (holds again's module lock)
write_atomically(os.path.join(MODS, "again.py"), {gate!r} + "V = 2\\n")
assert pmnc_hook.refresh() == ["again"]
start(lambda: pmnc.again.V)
# 3. st: a call in flight, and a reload draining for it (long drain: the swap is in progress)
start(pmnc.st.slow)
builtins.ENTERED["st-slow"].wait(20)
st_src = os.path.join(MODS, "st.py")
write_atomically(st_src, open(st_src).read().replace("V = 1", "V = 2"))
assert "st" in pmnc_hook.refresh()
from pmnc_hook._testing import phase, set_drain_timeout
set_drain_timeout(30.0)
start(lambda: pmnc.st.v())
wait_for(lambda: phase("st") == "draining", what="st's swap draining")
set_drain_timeout(0.3)
# 4. st2: a call in flight, and a swap postponed after its drain timed out
start(pmnc.st2.slow)
builtins.ENTERED["st2-slow"].wait(20)
st2_src = os.path.join(MODS, "st2.py")
write_atomically(st2_src, open(st2_src).read().replace("V = 1", "V = 2"))
assert "st2" in pmnc_hook.refresh()
assert pmnc.st2.v() == 1  # drains 0.3 s, then postpones
assert phase("st2") == "postponed"
for name in ("first", "again"):
    builtins.ENTERED[name].wait(20)
assert phase("st") == "draining"

def child():
    assert pmnc.first.V == 1
    wait_for(lambda: pmnc.again.V == 2, what="again v2 in the child")
    wait_for(lambda: pmnc.st.v() == 2, what="st v2 in the child")
    wait_for(lambda: pmnc.st2.v() == 2, what="st2 v2 in the child")
    assert pmnc_hook.refresh() == []
    st = pmnc_hook.status()
    assert st["first"].last_error is None and st["st2"].last_error is None, st

assert reap(spawn(child)) == 0, "child failed or hung"
builtins.GATE.set()
for t in threads:
    t.join(20)
    assert not t.is_alive()
assert pmnc.again.V == 2 and pmnc.st.v() == 2
wait_for(lambda: pmnc.st2.v() == 2)
print("ok")
""",
    )
    assert "ok" in out


def test_25_forks_while_another_thread_reloads_continuously(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 0\n")
    write(mods / "st.py", COUNTER)
    out = run(
        tmp_path,
        f"""
import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook import _api as _hook
MODS = {str(mods)!r}
BAR, ST = os.path.join(MODS, "bar.py"), os.path.join(MODS, "st.py")
ST_TEXT = open(ST).read()
pmnc_hook.install([MODS])
assert pmnc.bar.V == 0 and pmnc.st.bump() == 1
stop = threading.Event()
reloads = [0]
errors = []

def reloader():
    n = 0
    try:
        while not stop.is_set():
            n += 1
            write_atomically(BAR, f"V = {{n}}\\n")
            write_atomically(ST, ST_TEXT.replace("VERSION = 1", f"VERSION = {{n}}"))
            pmnc_hook.refresh()
            # Served at once, unless a caller's access is building the set: then the old
            # versions serve until it is published (bodies never block callers).
            wait_for(lambda: pmnc.bar.V >= n and pmnc.st.value()[0] >= n, what="published")
            reloads[0] = n
    except BaseException as exc:
        errors.append(exc)
        traceback.print_exc()

def caller():
    try:
        while not stop.is_set():
            pmnc.st.bump()
            pmnc.bar.V
    except BaseException as exc:
        errors.append(exc)
        traceback.print_exc()

workers = [threading.Thread(target=reloader, daemon=True)]
workers += [threading.Thread(target=caller, daemon=True) for _ in range(2)]
for t in workers:
    t.start()

def child():
    hook = _hook.current()
    assert hook.detector.threads_alive()
    assert isinstance(pmnc.bar.V, int) and pmnc.st.bump() > 0
    assert isinstance(pmnc_hook.status()["st"].version, int)
    # This process's own reloads work: the parent keeps changing the files.
    before = (pmnc_hook.status()["bar"].version, pmnc_hook.status()["st"].version)
    def reloaded():
        pmnc_hook.refresh()
        pmnc.bar.V, pmnc.st.value()
        now = pmnc_hook.status()
        return now["bar"].version > before[0] and now["st"].version > before[1]
    wait_for(reloaded, timeout=10, what="child reloads")

failures = []
for i in range(25):
    mark = reloads[0]
    wait_for(lambda: reloads[0] > mark or errors, what="a reload between forks")
    holder = {{}}
    if i % 2:
        # half of the forks come from a thread other than the main one
        t = threading.Thread(target=lambda: holder.setdefault("pid", spawn(child)))
        t.start()
        t.join(20)
        pid = holder["pid"]
    else:
        pid = spawn(child)
    code = reap(pid)
    if code != 0:
        failures.append((i, code))
stop.set()
for t in workers:
    t.join(20)
    assert not t.is_alive()
assert not errors, errors
assert not failures, failures
print("ok", reloads[0])
""",
    )
    assert "ok" in out
    print(out.strip())


def test_inherited_inotify_descriptors_do_not_pile_up_across_generations(tmp_path):
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "a.py").write_text("V = 1\n")
    code = f"""
import os, sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
import pmnc_hook
from pmnc_hook import pmnc
hook = pmnc_hook.install([{str(mods)!r}])
assert hook.detector_mode() == "watch"
pmnc.a
counts = [len(os.listdir("/proc/self/fd"))]
r, w = os.pipe()
def generation(n):
    pid = os.fork()
    if pid == 0:
        os.write(w, b"%d " % (len(os.listdir("/proc/self/fd")) - 2))  # minus the pipe
        if n < 3:
            generation(n + 1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert status == 0, status
generation(1)
os.close(w)
print(counts[0], os.read(r, 100).decode())
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    parent, *children = (int(x) for x in result.stdout.split())
    assert len(children) == 3
    assert max(children) <= parent, (parent, children)
