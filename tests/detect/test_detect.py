"""Change detection as users meet it: module files in tmp_path, every editor's save style,
writers that hold files open, emptied files, symlinked modules, fast polling."""

from __future__ import annotations

import os
import threading
import time

import pytest
from conftest import wait_for, write

import pmnc_hook
import pmnc_hook.detect.detector as detector_module
from pmnc_hook import pmnc

pytestmark = pytest.mark.usefixtures("isolated")


def save_in_place(path, text):
    with open(path, "r+") as f:
        f.truncate(0)
        f.write(text)


def save_by_rename(path, text):
    tmp = path.with_name(path.name + ".tmp~")
    tmp.write_text(text)
    os.replace(tmp, path)


def save_by_delete_recreate(path, text):
    path.unlink()
    path.write_text(text)


STYLES = [save_in_place, save_by_rename, save_by_delete_recreate]


def detection_goes_on(probe, value):
    """Change ``probe`` and wait until it is served: detection has been through every notice
    that came before (sweeps included)."""
    pmnc_hook._api.current().detector.sweep()
    probe.write_text(f"V = {value}\n")
    wait_for(lambda: pmnc.probe.V == value)


@pytest.mark.parametrize("save", STYLES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", ["watch", "poll"])
def test_every_save_style_is_seen_without_refresh(moddir, save, mode):
    p = write(moddir / "bar.py", "X = 1\n")
    hook = pmnc_hook.install([str(moddir)], poll=0.05 if mode == "poll" else None)
    assert hook.detector_mode() == mode
    assert pmnc.bar.X == 1
    for value in (2, 3):
        save(p, f"X = {value}\n")
        wait_for(lambda v=value: pmnc.bar.X == v)
    assert pmnc_hook.status()["bar"].version == 3


def test_touch_does_not_reload_in_watch_mode(moddir):
    p = write(moddir / "bar.py", "X = 1\n")
    probe = write(moddir / "probe.py", "V = 1\n")
    pmnc_hook.install([str(moddir)])
    assert pmnc.bar.X == 1 and pmnc.probe.V == 1
    p.write_text("X = 1\n")
    os.utime(p)
    detection_goes_on(probe, 2)
    assert pmnc.bar.X == 1
    assert pmnc_hook.status()["bar"].version == 1


def test_missing_file_serves_last_version_until_recreated(moddir):
    p = write(moddir / "bar.py", "X = 1\n")
    probe = write(moddir / "probe.py", "V = 1\n")
    pmnc_hook.install([str(moddir)])
    assert pmnc.bar.X == 1 and pmnc.probe.V == 1
    p.unlink()
    detection_goes_on(probe, 2)  # the deletion has been judged
    assert pmnc.bar.X == 1
    st = pmnc_hook.status()["bar"]
    assert st.version == 1 and st.last_error is None
    write(p, "X = 2\n")
    wait_for(lambda: pmnc.bar.X == 2)


def test_uninstall_stops_every_thread(moddir):
    before = set(threading.enumerate())
    write(moddir / "bar.py", "X = 1\n")
    hook = pmnc_hook.install([str(moddir)])
    assert pmnc.bar.X == 1
    assert set(threading.enumerate()) - before
    hook.uninstall()
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not left, left


def test_file_held_open_by_its_writer_is_published_only_once_closed(moddir, monkeypatch):
    # Any bound on the wait is wrong; the one the detector had (10 s), shortened if it is
    # still there, shows in a fast test.
    monkeypatch.setattr(detector_module, "MAX_OPEN_WAIT", 0.2, raising=False)
    p = write(moddir / "bar.py", "def f():\n    return 1\n")
    probe = write(moddir / "probe.py", "V = 0\n")
    pmnc_hook.install([str(moddir)])
    assert pmnc.bar.f() == 1 and pmnc.probe.V == 0
    with open(p, "w") as f:
        f.write("def f():\n    return 2\n")  # the first half is a valid module on its own
        f.flush()
        time.sleep(0.5)  # the writer pauses with the file open
        for value in (1, 2):
            detection_goes_on(probe, value)
        assert pmnc.bar.f() == 1
        st = pmnc_hook.status()["bar"]
        assert st.version == 1 and st.last_error is None
        f.write("\ndef g():\n    return 2\n")
    wait_for(lambda: hasattr(pmnc.bar, "g"))
    assert pmnc.bar.f() == 2 and pmnc_hook.status()["bar"].version == 2


def test_truncated_file_held_open_is_not_published_in_watch_mode(moddir):
    p = write(moddir / "bar.py", "def f():\n    return 1\n")
    probe = write(moddir / "probe.py", "V = 1\n")
    pmnc_hook.install([str(moddir)])
    assert pmnc.bar.f() == 1 and pmnc.probe.V == 1
    with open(p, "w") as f:  # a writer that truncated the file and stalls
        for value in (2, 3):
            detection_goes_on(probe, value)
        assert pmnc.bar.f() == 1
        assert pmnc_hook.status()["bar"].version == 1
        f.write("def f():\n    return 2\n")  # the writer finishes
    wait_for(lambda: pmnc.bar.f() == 2)
    assert pmnc_hook.status()["bar"].version == 2


@pytest.mark.parametrize("mode", ["watch", "poll"])
def test_emptied_file_that_stays_empty_is_published(moddir, mode):
    p = write(moddir / "bar.py", "def f():\n    return 1\n")
    pmnc_hook.install([str(moddir)], poll=0.05 if mode == "poll" else None)
    assert pmnc.bar.f() == 1
    p.write_text("")
    wait_for(lambda: not hasattr(pmnc.bar, "f"), timeout=20)
    st = pmnc_hook.status()["bar"]
    assert st.version == 2 and st.last_error is None


@pytest.mark.parametrize("poll", [0.005, 0.01])
def test_poll_interval_below_the_settle_time_reloads(moddir, poll):
    p = write(moddir / "bar.py", "V = 1\n")
    hook = pmnc_hook.install([str(moddir)], poll=poll)
    assert hook.detector_mode() == "poll" and pmnc.bar.V == 1
    for value in (2, 3):
        p.write_text(f"V = {value}\n")
        wait_for(lambda v=value: pmnc.bar.V == v, timeout=20)


@pytest.mark.parametrize("save", [save_in_place, save_by_rename], ids=lambda f: f.__name__)
def test_module_symlinked_to_a_sibling_reloads_on_events_for_the_target(moddir, monkeypatch, save):
    monkeypatch.setattr(detector_module, "BACKUP_SWEEP", 3600.0)  # events alone must find it
    target = write(moddir / "bar_impl.py", "V = 1\n")
    (moddir / "bar.py").symlink_to("bar_impl.py")
    hook = pmnc_hook.install([str(moddir)])
    assert hook.detector_mode() == "watch" and pmnc.bar.V == 1
    for value in (2, 3):
        save(target, f"V = {value}\n")
        wait_for(lambda v=value: pmnc.bar.V == v)
    assert pmnc_hook.status()["bar"].version == 3
    assert "bar_impl" not in pmnc_hook.status()  # only the link was ever loaded


def test_module_symlinked_to_a_file_held_open_waits_for_its_writer(moddir, monkeypatch):
    monkeypatch.setattr(detector_module, "BACKUP_SWEEP", 3600.0)
    target = write(moddir / "bar_impl.py", "def f():\n    return 1\n")
    (moddir / "bar.py").symlink_to("bar_impl.py")
    probe = write(moddir / "probe.py", "V = 0\n")
    pmnc_hook.install([str(moddir)])
    assert pmnc.bar.f() == 1 and pmnc.probe.V == 0
    probe.write_text("V = -1\n")  # served by an event: the watcher is watching already
    wait_for(lambda: pmnc.probe.V == -1)
    with open(target, "w") as f:
        f.write("def f():\n    return 2\n")
        f.flush()
        for value in (1, 2):  # each sweep notices bar.py: its stat no longer matches
            detection_goes_on(probe, value)
        assert pmnc.bar.f() == 1 and pmnc_hook.status()["bar"].version == 1
        f.write("\ndef g():\n    return 2\n")
    wait_for(lambda: hasattr(pmnc.bar, "g"))
    assert pmnc_hook.status()["bar"].version == 2
