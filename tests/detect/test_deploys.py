"""Deployments as the watcher meets them: watcher failures, release switches, replaced
directories, bursts, a module appearing in an earlier directory. Fresh interpreters where
start-up matters."""

from __future__ import annotations

import pytest
from conftest import CHILD_WAIT_FOR, run_python, wait_for, write

import pmnc_hook
from pmnc_hook import pmnc

WAIT = CHILD_WAIT_FOR


def test_watcher_failing_with_enospc_falls_back_to_polling_logged_once(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    r = run_python(
        WAIT
        + f"""
import errno, logging
logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
from watchdog.observers.api import BaseObserver
def refuse(self, *args, **kwargs):
    raise OSError(errno.ENOSPC, "inotify watch limit reached")
BaseObserver.schedule = refuse
import pmnc_hook
from pmnc_hook import pmnc
hook = pmnc_hook.install([{str(mods)!r}])
print("mode", hook.detector_mode())
assert pmnc.bar.V == 1
for v in (2, 3):
    with open({str(mods / "bar.py")!r}, "w") as f:
        f.write(f"V = {{v}}\\n")
    wait_for(lambda: pmnc.bar.V == v)
print("reloaded", pmnc_hook.status()["bar"].version)
""",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "mode poll" in r.stdout and "reloaded 3" in r.stdout
    warnings = [line for line in r.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, r.stderr
    assert "polling" in warnings[0] and "max_user_watches" in warnings[0]


def test_watcher_thread_dying_later_falls_back_once(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "V = 1\n")
    r = run_python(
        WAIT
        + f"""
import logging
logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook.detect import watchdog_backend as _watch
hook = pmnc_hook.install([{str(mods)!r}])
assert hook.detector_mode() == "watch"
_watch.Watcher.alive = lambda self: False   # every watcher's thread "dies" from now on
wait_for(lambda: hook.detector_mode() == "poll")
assert pmnc.bar.V == 1
with open({str(mods / "bar.py")!r}, "w") as f:
    f.write("V = 2\\n")
wait_for(lambda: pmnc.bar.V == 2)
print("ok")
""",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, r.stderr
    assert "stopped" in warnings[0]


def test_symlink_release_switch_is_followed_in_watch_mode(tmp_path):
    r1, r2 = tmp_path / "releases" / "r1", tmp_path / "releases" / "r2"
    write(r1 / "a.py", "V = 1\n")
    write(r1 / "b.py", "V = 1\n")
    write(r2 / "a.py", "V = 2\n")
    write(r2 / "b.py", "V = 1\n")
    write(r2 / "c.py", "V = 'new'\n")
    write(r1 / "outside.py", "V = 'r1'\n")
    (r2 / "sneaky.py").symlink_to(r1 / "outside.py")
    current = tmp_path / "current"
    current.symlink_to(r1)
    r = run_python(
        WAIT
        + f"""
import os
import pmnc_hook
from pmnc_hook import pmnc
hook = pmnc_hook.install([{str(current)!r}])
assert hook.detector_mode() == "watch"
assert pmnc.a.V == 1 and pmnc.b.V == 1
assert not hasattr(pmnc, "c")
tmp = {str(tmp_path / "tmp-link")!r}
os.symlink({str(r2)!r}, tmp)
os.replace(tmp, {str(current)!r})   # ln -s r2 tmp && mv -T tmp current
wait_for(lambda: pmnc.a.V == 2)
st = pmnc_hook.status()
assert st["a"].version == 2 and st["b"].version == 1, st
assert pmnc.c.V == "new"
try:
    pmnc.sneaky
except ImportError as exc:
    assert "outside" in str(exc), exc
else:
    raise SystemExit("a symlink out of the current release was loaded")
with open(os.path.join({str(r2)!r}, "a.py"), "w") as f:
    f.write("V = 3\\n")
wait_for(lambda: pmnc.a.V == 3)   # the watcher now watches the new release
print("ok")
""",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_replaced_directory_serves_last_versions_then_is_watched(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "a.py", "V = 1\n")
    r = run_python(
        WAIT
        + f"""
import logging, os, threading
import pmnc_hook
from pmnc_hook import pmnc
missing = threading.Event()
class Seen(logging.Handler):
    def emit(self, record):
        if "is missing" in record.getMessage():
            missing.set()
logging.getLogger("pmnc_hook").addHandler(Seen())
logging.getLogger("pmnc_hook").setLevel(logging.INFO)
hook = pmnc_hook.install([{str(mods)!r}])
assert pmnc.a.V == 1
os.rename({str(mods)!r}, {str(tmp_path / "mods.old")!r})
assert missing.wait(20)   # the detector has seen the directory go
assert pmnc_hook.refresh() == []
for _ in range(50):
    assert pmnc.a.V == 1   # missing: the last good version serves
st = pmnc_hook.status()["a"]
assert st.version == 1 and st.last_error is None, st
os.mkdir({str(mods)!r})
with open({str(mods / "a.py")!r}, "w") as f:
    f.write("V = 2\\n")
wait_for(lambda: pmnc.a.V == 2)
with open({str(mods / "a.py")!r}, "w") as f:
    f.write("V = 3\\n")
wait_for(lambda: pmnc.a.V == 3)
assert hook.detector_mode() == "watch"
print("ok")
""",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_burst_of_120_changes_reloads_each_module_once(tmp_path):
    mods = tmp_path / "mods"
    for i in range(120):
        write(mods / f"m{i}.py", f"V = 1\nNAME = 'm{i}'\n")
    r = run_python(
        WAIT
        + f"""
import os
import pmnc_hook
from pmnc_hook import pmnc
events = []
pmnc_hook.on_reload(events.append)
hook = pmnc_hook.install([{str(mods)!r}])
names = [f"m{{i}}" for i in range(120)]
assert all(getattr(pmnc, n).V == 1 for n in names)
for n in names:   # a branch switch rewriting every module at once
    with open(os.path.join({str(mods)!r}, n + ".py"), "w") as f:
        f.write(f"V = 2\\nNAME = {{n!r}}\\n" + "# padding\\n" * 50)
wait_for(lambda: all(getattr(pmnc, n).V == 2 for n in names), timeout=60)
st = pmnc_hook.status()
wrong = [(n, st[n].version) for n in names if st[n].version != 2]
assert not wrong, wrong
assert all(e.ok for e in events), [e for e in events if not e.ok][:3]
assert len(events) == 240, len(events)
print("ok")
""",
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


@pytest.mark.usefixtures("isolated")
def test_new_module_in_earlier_directory_takes_over(tmp_path):
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    d1.mkdir()
    write(d2 / "m.py", "WHO = 'd2'\n")
    pmnc_hook.install([str(d1), str(d2)])
    assert pmnc.m.WHO == "d2"
    write(d1 / "m.py", "WHO = 'd1'\n")
    wait_for(lambda: pmnc.m.WHO == "d1")
    assert pmnc_hook.status()["m"].filename == str(d1 / "m.py")
