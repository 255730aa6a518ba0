"""Change detection: watchdog events, polling, settling, every editor's save style."""

from __future__ import annotations

import os
import threading
import time

import pytest
from conftest import wait_for, write

import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook.detect.detector import Detector
from pmnc_hook.reload.source import Fingerprint

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
    write(moddir / "probe.py", "X = 1\n")
    pmnc_hook.install([str(moddir)])
    assert pmnc.bar.X == 1 and pmnc.probe.X == 1
    p.write_text("X = 1\n")
    os.utime(p)
    # A later real change to another module shows the watcher has processed the touch.
    (moddir / "probe.py").write_text("X = 2\n")
    wait_for(lambda: pmnc.probe.X == 2)
    assert pmnc.bar.X == 1
    assert pmnc_hook.status()["bar"].version == 1


def test_missing_file_serves_last_version_until_recreated(moddir):
    p = write(moddir / "bar.py", "X = 1\n")
    pmnc_hook.install([str(moddir)])
    assert pmnc.bar.X == 1
    p.unlink()
    for _ in range(20):
        assert pmnc.bar.X == 1
    write(p, "X = 2\n")
    wait_for(lambda: pmnc.bar.X == 2)


class _Target:
    """A stand-in registry that records confirmations and what the file held then."""

    def __init__(self, path):
        self.path = path
        self.confirmed: list[str] = []

    def watched(self):
        return [(str(self.path), None)]

    def confirm(self, path, *, settled, expect=None):
        assert not settled  # the detector asks for a stable read
        self.confirmed.append(self.path.read_text())
        return "m"


def test_detector_waits_for_the_file_to_settle(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("part 1\n")
    target = _Target(p)
    detector = Detector(target, None, poll=3600, settle=0.3)
    detector.start()
    try:
        detector.notify(str(p))
        for i in range(2, 5):  # keep writing faster than the settle time
            time.sleep(0.05)
            with open(p, "a") as f:
                f.write(f"part {i}\n")
            detector.notify(str(p))
        wait_for(lambda: target.confirmed, timeout=10)
        assert target.confirmed == ["part 1\npart 2\npart 3\npart 4\n"]
    finally:
        detector.stop()
    assert not detector.threads_alive()


def test_detector_settles_on_stat_even_without_events(tmp_path):
    """Polling sees no events between writes: it re-stats before confirming."""
    p = tmp_path / "m.py"
    p.write_text("a\n")
    target = _Target(p)
    detector = Detector(target, None, poll=3600, settle=0.2)
    detector.start()
    try:
        detector.notify(str(p))
        writer_done = threading.Event()

        def writer():
            for i in range(5):
                time.sleep(0.03)
                with open(p, "a") as f:
                    f.write(f"{i}\n")
            writer_done.set()

        threading.Thread(target=writer).start()
        wait_for(lambda: target.confirmed, timeout=10)
        assert writer_done.is_set()
        assert target.confirmed[0] == p.read_text()
    finally:
        detector.stop()


def test_sweep_notices_changes_events_missed(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("x\n")

    class T(_Target):
        def watched(self):
            from pmnc_hook.reload.source import read_source

            src = read_source(str(self.path))
            fp = src.fingerprint
            return [(str(self.path), Fingerprint(fp.key, fp.taken_ns + 10**10, fp.digest))]

    target = T(p)
    detector = Detector(target, None, poll=3600, settle=0.01)
    detector.start()
    try:
        detector.sweep()  # nothing changed: no notice
        time.sleep(0.05)
        assert target.confirmed == []
    finally:
        detector.stop()


def test_watcher_that_cannot_start_falls_back_to_polling(moddir, caplog):
    class Broken:
        def start(self):
            raise OSError(28, "inotify watch limit reached")

        def alive(self):
            return False

        def stop(self, timeout=None):
            pass

    target = _Target(moddir / "m.py")
    (moddir / "m.py").write_text("x\n")
    with caplog.at_level("WARNING", logger="pmnc_hook"):
        detector = Detector(target, lambda notify: Broken(), poll=None, settle=0.01)
        detector.start()
    try:
        assert detector.mode == "poll" and detector.poll
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1
        assert "max_user_watches" in warnings[0] and "polling" in warnings[0]
    finally:
        detector.stop()


def test_uninstall_stops_every_thread(moddir):
    before = set(threading.enumerate())
    write(moddir / "bar.py", "X = 1\n")
    hook = pmnc_hook.install([str(moddir)])
    assert pmnc.bar.X == 1
    assert set(threading.enumerate()) - before
    hook.uninstall()
    left = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert not left, left


def test_an_empty_sighting_does_not_delay_the_next_content(tmp_path):
    """A sweep that once saw the file empty must not hold later content back."""
    p = tmp_path / "m.py"
    p.write_text("")
    target = _Target(p)
    detector = Detector(target, None, poll=3600, settle=0.05)
    detector.start()
    try:
        detector.notify(str(p))  # settles on an empty file: not confirmed
        p.write_text("V = 1\n")
        detector.notify(str(p))
        wait_for(lambda: target.confirmed, timeout=5)
        assert target.confirmed == ["V = 1\n"]
    finally:
        detector.stop()


@pytest.mark.parametrize("mode", ["watch", "poll"])
def test_truncated_file_is_never_published_by_detection(moddir, mode):
    p = write(moddir / "bar.py", "def f():\n    return 1\n")
    write(moddir / "probe.py", "V = 1\n")
    pmnc_hook.install([str(moddir)], poll=0.05 if mode == "poll" else None)
    assert pmnc.bar.f() == 1 and pmnc.probe.V == 1
    with open(p, "w"):
        pass  # a writer that truncated the file and stalls
    # A later change elsewhere shows detection has been through the truncated file.
    (moddir / "probe.py").write_text("V = 2\n")
    wait_for(lambda: pmnc.probe.V == 2)
    pmnc_hook._api.current().detector.sweep()
    (moddir / "probe.py").write_text("V = 3\n")
    wait_for(lambda: pmnc.probe.V == 3)
    assert pmnc.bar.f() == 1
    assert pmnc_hook.status()["bar"].version == 1
    p.write_text("def f():\n    return 2\n")  # the writer finishes
    wait_for(lambda: pmnc.bar.f() == 2)
    assert pmnc_hook.status()["bar"].version == 2
    p.write_text("")
    assert pmnc_hook.refresh() == ["bar"]  # an explicit refresh() loads what is there
    assert not hasattr(pmnc.bar, "f")
