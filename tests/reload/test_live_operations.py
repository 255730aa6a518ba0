"""Operating live upgrades (issue 18): no watcher, a reload signal, rollback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from conftest import CHILD_WAIT_FOR, clean_env, run_python, run_script, wait_for, write

import pmnc_hook
from pmnc_hook import PmncHookError, pmnc

# -- no watcher -------------------------------------------------------------------------------


def test_watch_false_starts_no_thread_and_edits_wait_for_refresh(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    r = run_script(
        tmp_path,
        CHILD_WAIT_FOR
        + f"""
import threading, time, os
import pmnc_hook
from pmnc_hook import pmnc
before = set(threading.enumerate())
hook = pmnc_hook.install([{str(mods)!r}], watch=False)
assert pmnc.bar.V == 1
assert set(threading.enumerate()) == before, threading.enumerate()
assert hook.detector_mode() == "none"
with open(os.path.join({str(mods)!r}, "bar.py"), "w") as f:
    f.write("V = 2\\n")
time.sleep(1.5)  # longer than any settle window or directory check: nothing looks
assert pmnc.bar.V == 1
assert pmnc_hook.refresh() == ["bar"]
assert pmnc.bar.V == 2
assert set(threading.enumerate()) == before
pid = os.fork()
if pid == 0:
    code = 0 if set(threading.enumerate()) == {{threading.current_thread()}} else 1
    os._exit(code)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, "the forked child started a thread"
print("ok")
""",
        timeout=60,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert "ok" in r.stdout


# -- the reload signal ----------------------------------------------------------------------


SIGNAL_PROGRAM = """
import os, signal, sys, threading, time, logging
import pmnc_hook
from pmnc_hook import pmnc
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
MODS = {mods!r}
others = []
signal.signal(signal.SIGUSR1, lambda s, f: others.append(s))
hook = pmnc_hook.install([MODS], watch={watch}, reload_signal=signal.SIGHUP)
assert pmnc.bar.V == 1
with open(os.path.join(MODS, "bar.py"), "w") as f:
    f.write("V = 2\\n")
os.kill(os.getpid(), signal.SIGUSR1)
os.kill(os.getpid(), signal.SIGHUP)
wait_for(lambda: pmnc.bar.V == 2, what="reload on SIGHUP")
assert others == [signal.SIGUSR1]  # the program's handler for another signal still works
os.kill(os.getpid(), signal.SIGHUP)  # nothing changed: says so
time.sleep(0.2)
hook.uninstall()
assert signal.getsignal(signal.SIGHUP) is signal.SIG_DFL  # put back
print("ok")
"""


@pytest.mark.parametrize("watch", [False, True])
def test_reload_signal_runs_refresh_and_logs_what_changed(tmp_path, watch):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    program = CHILD_WAIT_FOR + SIGNAL_PROGRAM.format(mods=str(mods), watch=watch)
    r = run_script(tmp_path, program, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "ok" in r.stdout
    assert "reload signal SIGHUP: changed: bar" in r.stderr
    assert "reload signal SIGHUP: nothing changed" in r.stderr


def test_reload_signal_in_each_forked_worker(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    program = (
        CHILD_WAIT_FOR
        + f"""
import os, signal, sys, time
import pmnc_hook
from pmnc_hook import pmnc
MODS = {str(mods)!r}
pmnc_hook.install([MODS], watch=False, reload_signal=signal.SIGUSR2)
assert pmnc.bar.V == 1
workers = []
for i in range(2):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.write(write, b"ready")
            wait_for(lambda: pmnc.bar.V == 2, timeout=20, what="worker reload")
            os._exit(0)
        except BaseException:
            os._exit(1)
    os.close(write)
    assert os.read(read, 5) == b"ready"
    workers.append(pid)
with open(os.path.join(MODS, "bar.py"), "w") as f:
    f.write("V = 2\\n")
for pid in workers:
    os.kill(pid, signal.SIGUSR2)  # each worker reloads on its own signal
for pid in workers:
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
assert pmnc.bar.V == 1  # this process got no signal, has no watcher
print("ok")
"""
    )
    r = run_script(tmp_path, program, timeout=60)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "ok" in r.stdout


def test_a_handler_installed_later_for_the_signal_wins_with_a_warning(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    program = (
        CHILD_WAIT_FOR
        + f"""
import logging, os, signal, sys
import pmnc_hook
logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
pmnc_hook.install([{str(mods)!r}], watch=False, reload_signal=signal.SIGHUP)
got = []
signal.signal(signal.SIGHUP, lambda s, f: got.append(s))
os.kill(os.getpid(), signal.SIGHUP)
wait_for(lambda: got, what="the program's handler")
print("ok")
"""
    )
    env = clean_env()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(program) + "\nimport time; time.sleep(2.5)\n"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "ok" in out
    assert err.count("replaces pmnc_hook's reload signal") == 1, err


@pytest.mark.parametrize("signum", [signal.SIGKILL, 0, 999])
def test_unusable_signal_is_a_clear_error(tmp_path, signum, isolated):
    write(tmp_path / "bar.py", "V = 1\n")
    with pytest.raises((PmncHookError, ValueError)) as info:
        pmnc_hook.install([str(tmp_path)], watch=False, reload_signal=signum)
    assert isinstance(info.value, PmncHookError)
    assert "reload signal" in str(info.value)
    assert pmnc_hook._api.current() is None


# -- rollback -------------------------------------------------------------------------------


@pytest.fixture
def hook(moddir, isolated):
    return pmnc_hook.install([str(moddir)], watch=False)


def test_rollback_of_a_stateless_module_and_it_holds_against_refresh(moddir, hook):
    write(moddir / "bar.py", "V = 1\n")
    assert pmnc.bar.V == 1
    write(moddir / "bar.py", "V = 2\n")
    pmnc_hook.refresh()
    assert pmnc.bar.V == 2
    events = []
    pmnc_hook.on_reload(events.append)
    assert pmnc_hook.rollback("bar") == 3
    assert pmnc.bar.V == 1
    st = pmnc_hook.status()["bar"]
    assert (st.version, st.rollback_of, st.restores) == (3, 2, 1)
    assert [(e.version, e.rollback_of, e.restores) for e in events] == [(3, 2, 1)]
    assert pmnc_hook.refresh() == []  # the file still holds V = 2: ignored
    assert pmnc.bar.V == 1
    write(moddir / "bar.py", "V = 4\n")  # changed to something else: followed again
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.V == 4


def test_rollback_of_a_rollback_goes_forward_again(moddir, hook):
    write(moddir / "bar.py", "V = 1\n")
    assert pmnc.bar.V == 1
    write(moddir / "bar.py", "V = 2\n")
    pmnc_hook.refresh()
    assert pmnc.bar.V == 2
    assert pmnc_hook.rollback("bar") == 3 and pmnc.bar.V == 1
    assert pmnc_hook.rollback("bar") == 4 and pmnc.bar.V == 2
    assert pmnc_hook.status()["bar"].restores == 2


def test_rollback_of_a_stateful_module_carries_state_forward(moddir, hook):
    acc = (
        "total = 0\ndef add(n):\n    global total\n    total += n * {k}\n"
        "def pmnc_init(old_module, new_module, new_module_filename):\n"
        "    if old_module:\n        new_module.total = old_module.total\n"
    )
    write(moddir / "acc.py", acc.format(k=1))
    pmnc.acc.add(1)
    write(moddir / "acc.py", acc.format(k=10))
    pmnc_hook.refresh()
    pmnc.acc.add(1)
    assert pmnc.acc.total == 11
    pmnc_hook.rollback("acc")
    pmnc.acc.add(1)
    assert pmnc.acc.total == 12  # state moved forward, code moved back


def test_rollback_of_a_change_set_is_one_generation(moddir, hook):
    write(moddir / "a.py", "def g():\n    return pmnc.b.f(1)\n")
    write(moddir / "b.py", "def f(x):\n    return x\n")
    assert pmnc.a.g() == 1
    write(moddir / "a.py", "def g():\n    return pmnc.b.f(1, 2)\n")
    write(moddir / "b.py", "def f(x, y):\n    return x + y\n")
    pmnc_hook.refresh()
    assert pmnc.a.g() == 3 and pmnc_hook.generation() == 1
    events = []
    pmnc_hook.on_reload(events.append)
    assert pmnc_hook.rollback("b") == 3
    assert pmnc.a.g() == 1  # a rolled back with b: never a mixed pair
    assert pmnc_hook.generation() == 2
    assert {e.changeset for e in events} == {("a", "b")} and len(events) == 2
    assert pmnc_hook.refresh() == []


def test_rollback_errors_name_the_module(moddir, hook):
    write(moddir / "bar.py", "V = 1\n")
    assert pmnc.bar.V == 1
    with pytest.raises(PmncHookError, match=r"pmnc\.bar.*no previous|pmnc\.bar.*first version"):
        pmnc_hook.rollback("bar")
    with pytest.raises(PmncHookError, match="nosuch"):
        pmnc_hook.rollback("nosuch")


def test_rollback_without_a_hook_is_an_error(isolated):
    with pytest.raises(PmncHookError, match="not installed"):
        pmnc_hook.rollback("bar")


def test_rollback_from_inside_a_unit_is_published_when_the_unit_ends(moddir, hook):
    write(moddir / "bar.py", "V = 1\n")
    assert pmnc.bar.V == 1
    write(moddir / "bar.py", "V = 2\n")
    pmnc_hook.refresh()
    assert pmnc.bar.V == 2
    with pmnc_hook.request():
        assert pmnc_hook.rollback("bar") == 3
        assert pmnc.bar.V == 2  # this unit keeps its generation
    assert pmnc.bar.V == 1 and pmnc_hook.status()["bar"].version == 3


def test_env_and_command_line_forms_of_watch_and_signal(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    script = write(
        tmp_path / "app.py",
        CHILD_WAIT_FOR
        + """
import os, signal, threading
import pmnc_hook
from pmnc_hook import pmnc
assert pmnc.bar.V == 1
hook = pmnc_hook._api.current()
assert hook.settings.watch is False and hook.detector_mode() == "none"
assert hook.settings.reload_signal == signal.SIGHUP
path = os.path.join(os.environ["MODS"], "bar.py")
with open(path, "w") as f:
    f.write("V = 2\\n")
os.kill(os.getpid(), signal.SIGHUP)
wait_for(lambda: pmnc.bar.V == 2, what="reload on SIGHUP")
print("ok")
""",
    )
    env = {"MODS": str(mods)}
    runs = [
        (
            [
                sys.executable,
                "-m",
                "pmnc_hook",
                "--path",
                str(mods),
                "--no-watch",
                "--reload-signal",
                "HUP",
                str(script),
            ],
            {},
        ),
        (
            [sys.executable, str(script)],
            {
                "PMNC_HOOK_PATH": str(mods),
                "PMNC_HOOK_WATCH": "0",
                "PMNC_HOOK_RELOAD_SIGNAL": "SIGHUP",
            },
        ),
    ]
    for command, extra in runs:
        write(mods / "bar.py", "V = 1\n")
        full = clean_env()
        full.update(env)
        full.update(extra)
        r = subprocess.run(
            command, cwd=tmp_path, env=full, capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, (command, r.stderr[-2000:])
        assert "ok" in r.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "pmnc_hook", "--reload-signal", "NOPE", str(script)],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "NOPE" in bad.stderr


def test_signal_thread_stops_and_process_exits_cleanly(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    r = run_python(
        f"""
        import signal, threading
        import pmnc_hook
        from pmnc_hook import pmnc
        hook = pmnc_hook.install([{str(mods)!r}], watch=False, reload_signal=signal.SIGHUP)
        assert pmnc.bar.V == 1
        assert [t.name for t in threading.enumerate() if t.name.startswith("pmnc_hook")] == [
            "pmnc_hook-signal"]
        hook.uninstall()
        assert not [t for t in threading.enumerate() if t.name.startswith("pmnc_hook")]
        pmnc_hook.install([{str(mods)!r}], watch=False, reload_signal=signal.SIGHUP)
        print("ok")
        """,
        cwd=tmp_path,
    )
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "ok" in r.stdout


def test_uninstall_during_a_waiting_publication_releases_everyone(moddir, isolated):
    write(
        moddir / "acc.py",
        "def hold(e):\n    e.wait(20)\n"
        "def v():\n    return 1\n"
        "def pmnc_init(old_module, new_module, new_module_filename):\n    pass\n",
    )
    hook = pmnc_hook.install([str(moddir)], watch=False, drain_timeout=30)
    release = threading.Event()
    holder = threading.Thread(target=lambda: pmnc.acc.hold(release))
    holder.start()
    from pmnc_hook._testing import in_flight, phase

    wait_for(lambda: in_flight("acc") == 1)
    write(moddir / "acc.py", (moddir / "acc.py").read_text() + "# 2\n")
    pmnc_hook.refresh()
    builder = threading.Thread(target=lambda: pmnc.acc)
    builder.start()
    wait_for(lambda: phase("acc") == "draining")
    caller = threading.Thread(target=lambda: pmnc.acc.v())  # waits at the gate
    caller.start()
    started = time.monotonic()
    hook.uninstall()
    for t in (builder, caller):
        t.join(10)
        assert not t.is_alive()
    assert time.monotonic() - started < 5
    release.set()
    holder.join(10)
    assert os.path.exists(moddir / "acc.py")
