"""The detector against stand-in registries: when a noticed file is judged, and which changes
are committed together as one change-set."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest
from conftest import wait_for, write

import pmnc_hook.detect.settle as settle_module
from pmnc_hook.detect.detector import Detector
from pmnc_hook.detect.interfaces import Notice
from pmnc_hook.detect.watchdog_backend import Watcher
from pmnc_hook.reload.source import Fingerprint, read_source


class Recorder:
    """A stand-in registry: judges by content, stages what differs, records each commit."""

    def __init__(self, *paths, fingerprints=None):
        self.paths = [str(p) for p in paths]
        self.published = {p: Path(p).read_text() for p in self.paths}
        self.fingerprints = fingerprints or {}
        self.judged: list[tuple[str, str]] = []  # (path, content) for every confirm
        self.staged: list[str] = []
        self.commits: list[list[str]] = []

    def watched(self):
        return [(p, self.fingerprints.get(p)) for p in self.paths]

    def confirm(self, path, *, settled, expect=None):
        assert not settled  # the detector asks for a stable read
        if path not in self.published:
            return None
        data = Path(path).read_text()
        self.judged.append((path, data))
        if path in self.fingerprints:  # like the registry: the file as last judged
            self.fingerprints[path] = read_source(path).fingerprint
        if data == self.published[path]:
            return None
        self.published[path] = data
        self.staged.append(Path(path).stem)
        return Path(path).stem

    def commit(self):
        names, self.staged = sorted(self.staged), []
        self.commits.append(names)
        return names

    def committed(self, name):
        return any(name in c for c in self.commits)


@pytest.fixture
def started():
    detectors = []

    def start(target, make_backend=None, **kwargs):
        kwargs.setdefault("poll", None if make_backend else 3600)
        detector = Detector(target, make_backend, **kwargs)
        detectors.append(detector)
        detector.start()
        return detector

    yield start
    for detector in detectors:
        detector.stop()
        assert not detector.threads_alive()


def watching(directory):
    return lambda notify: Watcher([str(directory)], notify)


def test_detector_waits_for_the_file_to_settle(tmp_path, started):
    p = write(tmp_path / "m.py", "part 1\n")
    target = Recorder(p)
    detector = started(target, settle=0.3)
    detector.notify(str(p))
    for i in range(2, 5):  # keep writing faster than the settle time
        time.sleep(0.05)
        with open(p, "a") as f:
            f.write(f"part {i}\n")
        detector.notify(str(p))
    wait_for(lambda: target.commits)
    assert target.judged == [(str(p), "part 1\npart 2\npart 3\npart 4\n")]


def test_detector_settles_on_stat_even_without_events(tmp_path, started):
    """Polling sees no events between writes: it re-stats before judging."""
    p = write(tmp_path / "m.py", "a\n")
    target = Recorder(p)
    detector = started(target, settle=0.2)
    detector.notify(str(p), Notice.STAT)
    writer_done = threading.Event()

    def writer():
        for i in range(5):
            time.sleep(0.03)
            with open(p, "a") as f:
                f.write(f"{i}\n")
        writer_done.set()

    threading.Thread(target=writer).start()
    wait_for(lambda: target.judged)
    assert writer_done.is_set()
    assert target.judged == [(str(p), p.read_text())]


def test_sweep_notices_what_events_missed_and_nothing_else(tmp_path, started):
    changed = write(tmp_path / "changed.py", "x = 1\n")
    before = read_source(str(changed)).fingerprint
    changed.write_text("x = 'two'\n")  # no event: the detector only learns it by sweeping
    same = write(tmp_path / "same.py", "y = 1\n")
    fp = read_source(str(same)).fingerprint
    trusted = Fingerprint(fp.key, fp.taken_ns + 10**10, fp.digest)  # not "racy": stat suffices
    target = Recorder(changed, same, fingerprints={str(changed): before, str(same): trusted})
    target.published[str(changed)] = "x = 1\n"
    detector = started(target, settle=0.01)
    detector.sweep()
    wait_for(lambda: target.commits)
    # Both would have been judged in the same batch had the sweep noticed both.
    assert target.commits == [["changed"]]
    assert [path for path, _ in target.judged] == [str(changed)]


def test_sweeps_faster_than_the_settle_time_do_not_hold_a_change_back(tmp_path, started):
    p = write(tmp_path / "m.py", "V = 1\n")
    target = Recorder(p)  # no fingerprints: every sweep notices m.py again
    started(target, poll=0.005, settle=0.2)
    p.write_text("V = 2\n")
    wait_for(lambda: target.judged)
    assert target.judged == [(str(p), "V = 2\n")]


def test_an_empty_sighting_does_not_delay_the_next_content(tmp_path, started, caplog):
    """A sweep that once saw the file empty must not hold later content back."""
    p = write(tmp_path / "m.py", "")
    target = Recorder(p)
    detector = started(target, settle=0.05, empty_wait=3600)
    with caplog.at_level(logging.DEBUG, logger="pmnc_hook.detect"):
        detector.notify(str(p), Notice.STAT)  # settles on an empty file: waits to see it stay so
        wait_for(lambda: [r for r in caplog.records if "is empty" in r.getMessage()])
    p.write_text("V = 1\n")
    detector.notify(str(p), Notice.STAT)
    wait_for(lambda: target.commits)
    assert target.judged == [(str(p), "V = 1\n")]


def test_an_empty_file_counts_once_it_has_stayed_empty_even_if_closed(tmp_path, started):
    """A close event may be the previous write's, seen after the next truncation."""
    p = write(tmp_path / "m.py", "V = 1\n")
    other = write(tmp_path / "other.py", "V = 1\n")
    target = Recorder(p, other)
    detector = started(target, settle=0.02, window=0.1, empty_wait=1.0)
    p.write_text("")
    detector.notify(str(p), Notice.EVENT)
    other.write_text("V = 2\n")
    detector.notify(str(other), Notice.EVENT)
    wait_for(lambda: target.committed("other"))  # settled long ago: m.py was not judged
    assert target.commits == [["other"]] and target.judged == [(str(other), "V = 2\n")]
    wait_for(lambda: target.committed("m"))
    assert target.published[str(p)] == ""


def test_files_written_close_together_are_one_change_set(tmp_path, started):
    files = [write(tmp_path / f"{name}.py", "V = 1\n") for name in "abc"]
    target = Recorder(*files)
    started(target, watching(tmp_path), directories=[str(tmp_path)], settle=0.2)
    for f in files:
        f.write_text("V = 2\n")
        time.sleep(0.005)  # the deploy's pace
    wait_for(lambda: target.commits)
    assert target.commits[0] == ["a", "b", "c"]


def test_a_file_rewritten_forever_does_not_hold_the_others_back(tmp_path, started):
    hot = write(tmp_path / "hot.py", "V = 0\n")
    cold = write(tmp_path / "cold.py", "V = 1\n")
    target = Recorder(hot, cold)
    started(target, watching(tmp_path), directories=[str(tmp_path)], settle=0.5, window=1.0)
    writes = [0]
    stop = threading.Event()

    def rewrite():  # far faster than the settle time: hot.py never settles
        tmp = tmp_path / "hot.py.tmp~"
        while not stop.is_set():
            writes[0] += 1
            tmp.write_text(f"V = {writes[0]}\n")
            os.replace(tmp, hot)  # by rename: hot.py itself is never open for writing
            time.sleep(0.005)

    writer = threading.Thread(target=rewrite)
    writer.start()
    try:
        wait_for(lambda: writes[0] >= 5)
        cold.write_text("V = 2\n")
        wait_for(lambda: target.committed("cold"))
        at_commit = writes[0]
        wait_for(lambda: writes[0] >= at_commit + 5)  # the writer was still going on
    finally:
        stop.set()
        writer.join()


def test_a_file_held_open_neither_holds_the_others_back_nor_is_judged(tmp_path, started):
    held = write(tmp_path / "held.py", "V = 0\n")
    cold = write(tmp_path / "cold.py", "V = 1\n")
    target = Recorder(held, cold)
    # A window far longer than the test: only "held open" can let the others go.
    started(target, watching(tmp_path), directories=[str(tmp_path)], settle=0.05, window=3600)
    with open(held, "w") as f:
        f.write("V = 'half'\n")
        f.flush()
        cold.write_text("V = 2\n")
        wait_for(lambda: target.committed("cold"))
        assert target.commits == [["cold"]]
        assert str(held) not in [path for path, _ in target.judged]
        f.write("W = 'whole'\n")
    wait_for(lambda: target.committed("held"))
    assert target.published[str(held)] == "V = 'half'\nW = 'whole'\n"


def test_a_directory_switch_is_one_change_set(tmp_path, started):
    r1, r2 = tmp_path / "r1", tmp_path / "r2"
    for release, values in ((r1, (1, 1, 1)), (r2, (2, 2, 1))):
        for name, value in zip("abc", values):
            write(release / f"{name}.py", f"V = {value}\n")
    current = tmp_path / "current"
    current.symlink_to(r1)
    target = Recorder(*(current / f"{name}.py" for name in "abc"))
    started(target, directories=[str(current)], settle=0.02)
    link = tmp_path / "link"
    link.symlink_to(r2)
    os.replace(link, current)  # ln -s r2 link && mv -T link current
    wait_for(lambda: target.commits)
    assert target.commits == [["a", "b"]]


class FakeBackend:
    def __init__(self, notify):
        self.notify = notify
        self.living = True
        self.ticks = 0

    def start(self):
        pass

    def alive(self):
        return self.living

    def stop(self, timeout=None):
        self.living = False

    def housekeeping(self):  # once per supervision tick while alive
        self.ticks += 1

    def forget_after_fork(self):
        pass


def test_a_replaced_watcher_stops_vouching_for_open_files(tmp_path, started):
    """A close event may be lost while the watcher is replaced: settle on the stat alone."""
    p = write(tmp_path / "m.py", "V = 1\n")
    target = Recorder(p)
    backends = []

    def make(notify):
        backends.append(FakeBackend(notify))
        return backends[-1]

    detector = started(target, make, directories=[str(tmp_path)], settle=0.02)
    assert detector.mode == "watch"
    p.write_text("V = 2\n")
    backends[0].notify(str(p), Notice.WRITE)  # and its close is never reported
    backends[0].living = False
    wait_for(lambda: target.commits)
    assert len(backends) == 2 and detector.mode == "watch"
    assert target.commits == [["m"]]


def test_a_long_write_is_logged_once(tmp_path, started, monkeypatch, caplog):
    monkeypatch.setattr(settle_module, "LONG_OPEN", 0.0)
    p = write(tmp_path / "m.py", "V = 1\n")
    target = Recorder(p)
    backends = []
    detector = started(
        target, lambda n: backends.append(FakeBackend(n)) or backends[-1], settle=0.02
    )
    with caplog.at_level(logging.INFO, logger="pmnc_hook.detect"):
        detector.notify(str(p), Notice.WRITE)
        wait_for(lambda: [r for r in caplog.records if "open for writing" in r.getMessage()])
        detector.notify(str(p), Notice.WRITE)  # the same write goes on: not logged again
        ticks = backends[0].ticks
        wait_for(lambda: backends[0].ticks >= ticks + 2)  # looked again twice since
    logged = [r.getMessage() for r in caplog.records if "open for writing" in r.getMessage()]
    assert len(logged) == 1 and str(p) in logged[0] and "refresh()" in logged[0]
    assert target.judged == []


def test_watcher_that_cannot_start_falls_back_to_polling(tmp_path, caplog):
    class Broken:
        def start(self):
            raise OSError(28, "inotify watch limit reached")

    p = write(tmp_path / "m.py", "x\n")
    with caplog.at_level("WARNING", logger="pmnc_hook"):
        detector = Detector(Recorder(p), lambda notify: Broken(), poll=None, settle=0.01)
        detector.start()
    try:
        assert detector.mode == "poll" and detector.poll
        assert detector.fallback_reason and "could not start" in detector.fallback_reason
        warnings = [r.getMessage() for r in caplog.records]
        assert len(warnings) == 1
        assert "max_user_watches" in warnings[0] and "polling" in warnings[0]
    finally:
        detector.stop()
