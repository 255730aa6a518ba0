"""Tracebacks show the lines each version ran, whatever became of the file since."""

from __future__ import annotations

import gc
import linecache
import logging
import traceback

import pytest
from conftest import write

import pmnc_hook
from pmnc_hook import pmnc

pytestmark = pytest.mark.usefixtures("isolated")

V1 = "def f():\n    raise ValueError('raised by version one')\n"
V2 = "\n\ndef f():\n    raise KeyError('raised by version two')\n"


def install(moddir):
    return pmnc_hook.install([str(moddir)], poll=3600)


def shown_by(fn):
    """Return the formatted traceback of what ``fn()`` raises (linecache checked as usual)."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    raise AssertionError("did not raise")


def test_current_version_names_the_real_file_and_its_lines(moddir):
    p = write(moddir / "bar.py", V1)
    install(moddir)
    text = shown_by(pmnc.bar.f)
    assert f'File "{p}", line 2, in f' in text
    assert "raise ValueError('raised by version one')" in text


@pytest.mark.parametrize("broken", ["body", "syntax"])
def test_after_a_failed_reload_the_published_version_shows_its_own_lines(moddir, broken, caplog):
    p = write(moddir / "bar.py", V1)
    install(moddir)
    f = pmnc.bar.f
    caplog.set_level(logging.ERROR, logger="pmnc_hook")
    if broken == "body":
        write(p, "raise RuntimeError('the new body fails')\n" + V2)
    else:
        write(p, "def f(:\n    raise KeyError('never compiled')\n")
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.f is f  # the reload failed; version one keeps serving
    assert pmnc_hook.status()["bar"].last_error is not None
    text = shown_by(pmnc.bar.f)
    assert f'File "{p}", line 2, in f' in text
    assert "raise ValueError('raised by version one')" in text
    assert "version two" not in text and "never compiled" not in text
    if broken == "body":  # the failure itself was logged with the lines that failed
        assert "raise RuntimeError('the new body fails')" in caplog.text


def test_after_the_file_is_deleted_the_running_version_shows_its_lines(moddir):
    p = write(moddir / "bar.py", V1)
    install(moddir)
    f = pmnc.bar.f
    p.unlink()
    assert pmnc_hook.refresh() == []
    text = shown_by(f)
    assert "raise ValueError('raised by version one')" in text


def test_a_lingering_old_version_shows_its_own_lines(moddir):
    p = write(moddir / "bar.py", V1 + "class C:\n    def m(self):\n        return 1 / 0\n")
    install(moddir)
    old_f, old_c = pmnc.bar.f, pmnc.bar.C()
    write(p, V2 + "class C:\n    def m(self):\n        return 'two'\n")
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.C().m() == "two"  # version two is published
    text = shown_by(old_f)
    assert "raise ValueError('raised by version one')" in text
    assert "version two" not in text
    assert "(version 1, superseded)" in text  # says which version the frame ran
    assert "return 1 / 0" in shown_by(old_c.m)
    new_text = shown_by(pmnc.bar.f)  # and the published version names the real file
    assert f'File "{p}", line 4, in f' in new_text
    assert "raise KeyError('raised by version two')" in new_text


def test_closures_handed_out_by_an_old_version_show_its_lines(moddir):
    p = write(
        moddir / "bar.py", "def make():\n    def inner():\n        return 1 / 0\n    return inner\n"
    )
    install(moddir)
    handed_out = pmnc.bar.make()
    old_make = pmnc.bar.make
    write(p, "\n\n\ndef make():\n    def inner():\n        return 'two'\n    return inner\n")
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.make()() == "two"
    assert "return 1 / 0" in shown_by(handed_out)
    assert "return 1 / 0" in shown_by(old_make())  # closures made later, too


def test_the_lines_of_a_retired_version_go_with_its_last_code(moddir):
    p = write(moddir / "bar.py", V1)
    install(moddir)
    old_f = pmnc.bar.f
    write(p, V2)
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.f is not old_f
    alias = old_f.__code__.co_filename
    assert alias != str(p) and alias in linecache.cache
    del old_f
    gc.collect()
    assert alias not in linecache.cache


def count_heap_scans(monkeypatch):
    calls = []
    real = gc.get_referrers
    monkeypatch.setattr(gc, "get_referrers", lambda *a: calls.append(a) or real(*a))
    return calls


def test_functions_found_in_the_namespace_need_no_heap_scan(moddir, monkeypatch):
    p = write(
        moddir / "bar.py",
        "import functools\n"
        "def f():\n    return 1 / 0\n"
        "@functools.wraps(f)\ndef g():\n    return f()\n"
        "class C:\n    @staticmethod\n    def s():\n        return 1 / 0\n"
        "    @property\n    def p(self):\n        return 1 / 0\n",
    )
    install(moddir)
    old = pmnc.bar
    captured, instance = old.f, old.C()
    scans = count_heap_scans(monkeypatch)
    write(p, "\n" * 20 + "def f():\n    return 'two'\n")
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.f() == "two"
    assert scans == []
    for fn in (captured, old.g, old.C.s, lambda: instance.p):
        assert "return 1 / 0" in shown_by(fn)


def test_a_closure_handed_out_is_found_by_one_heap_scan(moddir, monkeypatch):
    p = write(moddir / "bar.py", "def make():\n    return lambda: 1 / 0\n")
    install(moddir)
    handed_out = pmnc.bar.make()
    scans = count_heap_scans(monkeypatch)
    write(p, "\n" * 20 + "def make():\n    return lambda: 'two'\n")
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.make()() == "two"
    assert len(scans) == 1
    assert "return lambda: 1 / 0" in shown_by(handed_out)


def test_after_uninstall_the_file_is_python_s_own_again(moddir, monkeypatch):
    import importlib.util
    import sys

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    p = write(moddir / "bar.py", V1)
    hook = install(moddir)
    assert "version one" in shown_by(pmnc.bar.f)
    hook.uninstall()
    write(p, V2)
    spec = importlib.util.spec_from_file_location("plain_bar", p)
    plain = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plain)
    text = shown_by(plain.f)
    assert "raise KeyError('raised by version two')" in text and "version one" not in text
