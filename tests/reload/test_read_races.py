"""A module file swapped between the check of its path and the open: made deterministic.

``swap_after_check`` runs the swap right after the reader has stat-ed the module file (the
check) and before it opens it, which is where a real attacker or a confused deploy tool would
have to hit. A swap to a FIFO would block a blocking reader forever: every such test runs the
access in a thread with a deadline, and unblocks a stuck reader before failing.
"""

from __future__ import annotations

import os
import sys
import threading

import pytest
from conftest import write

import pmnc_hook
from pmnc_hook import ModuleLoadError, PmncHookError, pmnc
from pmnc_hook.reload.source import read_source, stat_key

pytestmark = pytest.mark.usefixtures("isolated")

DEADLINE = 20.0


def _reading() -> bool:
    """Tell whether the caller of os.stat/os.lstat is pmnc_hook's reader, inside read_source."""
    caller = sys._getframe(2)
    if caller.f_globals.get("__name__") != "pmnc_hook.reload.source":
        return False
    frame = caller
    while frame is not None:
        if frame.f_code.co_name == "read_source":
            return True
        frame = frame.f_back
    return False


def swap_after_check(monkeypatch, target, swap):
    """Call ``swap()`` once, right after the reader's own stat of ``target``; return a list
    that holds ``True`` once it fired."""
    fired = []

    def wrap(real):
        def stat_then_swap(path, *args, **kwargs):
            result = real(path, *args, **kwargs)
            if not fired and os.path.basename(os.fspath(path)) == target.name and _reading():
                fired.append(True)
                swap()
            return result

        return stat_then_swap

    monkeypatch.setattr(os, "stat", wrap(os.stat))
    monkeypatch.setattr(os, "lstat", wrap(os.lstat))
    return fired


def to_symlink(path, target):
    def swap():
        link = path.with_name("swap.tmp")
        link.symlink_to(target)
        os.replace(link, path)

    return swap


def to_fifo(path):
    def swap():
        fifo = path.with_name("swap.tmp")
        os.mkfifo(fifo)
        os.replace(fifo, path)

    return swap


def to_file(path, text):
    def swap():
        write(path.with_name("swap.tmp"), text)
        os.replace(path.with_name("swap.tmp"), path)

    return swap


def run_with_deadline(fn, fifo):
    """Run ``fn()`` in a thread; fail (after unblocking a reader stuck on ``fifo``) if it does
    not finish within the deadline. Return what it returned or raised."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    if thread.is_alive():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)  # a reader waits: this succeeds
        os.close(fd)  # the stuck reader now reads an empty file and returns
        thread.join(DEADLINE)
        pytest.fail(f"blocked on the FIFO for {DEADLINE} s")
    return outcome


def install(moddir):
    return pmnc_hook.install([str(moddir)], poll=3600)


def test_first_load_swapped_to_an_outside_symlink_is_refused(moddir, tmp_path, monkeypatch):
    outside = write(tmp_path / "outside" / "bar.py", "WHO = 'outside'\n")
    p = write(moddir / "bar.py", "WHO = 'inside'\n")
    fired = swap_after_check(monkeypatch, p, to_symlink(p, outside))
    install(moddir)
    with pytest.raises(ModuleLoadError) as info:
        pmnc.bar
    assert fired
    assert isinstance(info.value.__cause__, PmncHookError)
    assert str(outside) in str(info.value) and "outside its module directory" in str(info.value)


def test_reload_swapped_to_an_outside_symlink_is_not_loaded(moddir, tmp_path, monkeypatch):
    outside = write(tmp_path / "outside" / "bar.py", "WHO = 'outside'\n")
    p = write(moddir / "bar.py", "WHO = 'inside'\n")
    install(moddir)
    assert pmnc.bar.WHO == "inside"
    write(p, "WHO = 'inside, edited'\n")
    fired = swap_after_check(monkeypatch, p, to_symlink(p, outside))
    assert pmnc_hook.refresh() == []
    assert fired
    assert pmnc.bar.WHO == "inside"


def test_first_load_swapped_to_a_fifo_fails_at_once(moddir, monkeypatch):
    p = write(moddir / "bar.py", "X = 1\n")
    fired = swap_after_check(monkeypatch, p, to_fifo(p))
    install(moddir)
    outcome = run_with_deadline(lambda: pmnc.bar, p)
    assert fired
    error = outcome.get("error")
    assert isinstance(error, ModuleLoadError), outcome
    assert "named pipe" in str(error) and str(p) in str(error)


def test_refresh_over_a_file_swapped_to_a_fifo_returns(moddir, monkeypatch):
    p = write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    assert pmnc.bar.X == 1
    write(p, "X = 2\n")
    fired = swap_after_check(monkeypatch, p, to_fifo(p))
    outcome = run_with_deadline(pmnc_hook.refresh, p)
    assert fired
    assert outcome == {"value": []}
    assert pmnc.bar.X == 1  # the last good version keeps serving


def test_a_file_replaced_between_check_and_open_is_read_with_its_own_key(tmp_path, monkeypatch):
    p = write(tmp_path / "m.py", "X = 1\n")
    fired = swap_after_check(monkeypatch, p, to_file(p, "X = 'replaced'\n"))
    src = read_source(str(p))
    assert fired
    assert src is not None and src.data == b"X = 'replaced'\n"
    assert src.fingerprint.key == stat_key(str(p))  # the key describes the bytes read
