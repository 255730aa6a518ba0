"""The core contract, in process (isolated): loading, reloading, failures, status, events."""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback

import pytest
from conftest import write

import pmnc_hook
from pmnc_hook import ModuleLoadError, pmnc

pytestmark = pytest.mark.usefixtures("isolated")


def install(*dirs, **kw):
    kw.setdefault("poll", 3600)  # these tests drive detection with refresh()
    return pmnc_hook.install([str(d) for d in dirs], **kw)


def rewrite(path, text):
    """Write new content so that even a same-size, same-tick write is a change."""
    write(path, text)


def test_first_access_loads_and_calls(moddir):
    write(moddir / "bar.py", "def some_method(a, b):\n    return a + b\n")
    install(moddir)
    assert pmnc.bar.some_method(1, 2) == 3
    st = pmnc_hook.status()["bar"]
    assert st.version == 1 and st.name == "bar"
    assert st.filename == str(moddir / "bar.py")
    assert st.reloadable and not st.stateful and st.last_error is None
    assert st.lingering == ()


def test_module_is_namespaced_not_bare(moddir):
    write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    mod = pmnc.bar
    assert mod.__name__ == "pmnc_hook.modules.bar"
    assert "bar" not in sys.modules
    assert sys.modules["pmnc_hook.modules.bar"] is mod
    import pmnc_hook.modules.bar as again  # the namespaced import gives the current version

    assert again is mod


def test_reload_makes_a_fresh_module_and_old_calls_keep_old_version(moddir):
    write(moddir / "bar.py", "def f():\n    return 1\n")
    install(moddir)
    old = pmnc.bar
    old_f = old.f
    rewrite(moddir / "bar.py", "def f():\n    return 2\n")
    assert pmnc_hook.refresh() == ["bar"]
    new = pmnc.bar
    assert new is not old
    assert new.f() == 2
    assert old.f() == 1 and old_f() == 1
    assert pmnc_hook.status()["bar"].version == 2


def test_refresh_reports_changes_the_watcher_noticed_first(moddir):
    write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    assert pmnc.bar.X == 1
    rewrite(moddir / "bar.py", "X = 22\n")
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc_hook.refresh() == ["bar"]  # still differs from what is published
    assert pmnc.bar.X == 22
    assert pmnc_hook.refresh() == []


def test_touch_with_same_content_does_not_reload(moddir):
    p = write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    assert pmnc.bar.X == 1
    os.utime(p, (1, 1))
    p.write_text("X = 1\n")
    assert pmnc_hook.refresh() == []
    assert pmnc_hook.status()["bar"].version == 1


def test_same_size_edits_in_one_tick_both_reload(moddir):
    p = write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    assert pmnc.bar.X == 1
    for value in (2, 3, 4):
        st = os.stat(p)
        p.write_text(f"X = {value}\n")
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime
        assert pmnc_hook.refresh() == ["bar"]
        assert pmnc.bar.X == value


def test_file_restored_with_older_mtime_reloads(moddir):
    p = write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    assert pmnc.bar.X == 1
    p.write_text("X = 9\n")
    os.utime(p, (1_000_000, 1_000_000))
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.X == 9


def test_missing_file_keeps_last_good_version(moddir):
    p = write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    assert pmnc.bar.X == 1
    p.unlink()
    assert pmnc_hook.refresh() == []
    assert pmnc.bar.X == 1
    write(p, "X = 2\n")
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.X == 2


def test_unknown_name_is_attribute_error_listing_directories(moddir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    install(moddir, other)
    with pytest.raises(AttributeError) as info:
        pmnc.nothing_here
    assert "nothing_here" in str(info.value)
    assert str(moddir) in str(info.value) and str(other) in str(info.value)
    assert isinstance(info.value, pmnc_hook.PmncHookError)
    assert not hasattr(pmnc, "nothing_here")
    assert not hasattr(pmnc, "not-an-identifier")
    assert not hasattr(pmnc, "__wrapped__")


def test_file_created_after_install_is_found_at_once(moddir):
    install(moddir)
    assert not hasattr(pmnc, "late")
    write(moddir / "late.py", "X = 5\n")
    assert pmnc.late.X == 5


def test_earlier_directory_wins(tmp_path):
    d1, d2 = tmp_path / "d1", tmp_path / "d2"
    write(d1 / "m.py", "WHO = 'd1'\n")
    write(d2 / "m.py", "WHO = 'd2'\n")
    write(d2 / "only2.py", "WHO = 'd2'\n")
    install(d1, d2)
    assert pmnc.m.WHO == "d1"
    assert pmnc.only2.WHO == "d2"


def test_symlink_escaping_the_directory_is_refused(moddir, tmp_path):
    outside = write(tmp_path / "elsewhere" / "evil.py", "X = 1\n")
    (moddir / "evil.py").symlink_to(outside)
    write(moddir / "inside_target.py", "X = 2\n")
    (moddir / "alias.py").symlink_to(moddir / "inside_target.py")
    install(moddir)
    with pytest.raises(ImportError) as info:
        pmnc.evil
    assert "outside" in str(info.value) and str(outside) in str(info.value)
    assert pmnc.alias.X == 2  # a symlink inside the directory is fine


def test_module_body_runs_once_per_version_under_concurrent_first_access(moddir, tmp_path):
    log = tmp_path / "runs.log"
    write(
        moddir / "slow.py",
        f"""
        import time
        with open({str(log)!r}, "a") as f:
            f.write("ran\\n")
        time.sleep(0.05)
        VALUE = 42
        """,
    )
    install(moddir)
    barrier = threading.Barrier(16)
    results, errors = [], []

    def worker():
        barrier.wait()
        try:
            results.append(pmnc.slow.VALUE)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert results == [42] * 16
    assert log.read_text() == "ran\n"


def test_not_reloadable_loads_once_and_logs_a_change_once(moddir, caplog):
    p = write(moddir / "fixed.py", "__reloadable__ = False\nX = 1\n")
    install(moddir)
    assert pmnc.fixed.X == 1
    assert pmnc_hook.status()["fixed"].reloadable is False
    caplog.set_level(logging.WARNING, logger="pmnc_hook")
    p.write_text("__reloadable__ = False\nX = 2\n")
    assert pmnc_hook.refresh() == []
    assert pmnc_hook.refresh() == []
    assert pmnc.fixed.X == 1
    assert pmnc_hook.status()["fixed"].version == 1
    notes = [r for r in caplog.records if "__reloadable__ = False" in r.getMessage()]
    assert len(notes) == 1 and "fixed" in notes[0].getMessage()


def test_bad_directive_on_first_load_is_module_load_error(moddir):
    write(moddir / "bad.py", "import os\n__reloadable__ = os.name\n")
    install(moddir)
    with pytest.raises(ModuleLoadError) as info:
        pmnc.bad
    cause = info.value.__cause__
    assert isinstance(cause, pmnc_hook.DirectiveError)
    assert cause.lineno == 2 and str(moddir / "bad.py") in str(cause)
    assert isinstance(info.value, ImportError)
    assert f"{moddir / 'bad.py'}:2" in str(info.value)


def test_directive_error_is_raised_before_the_body_runs(moddir, tmp_path):
    marker = tmp_path / "ran"
    write(moddir / "bad.py", f"open({str(marker)!r}, 'w').close()\n__reloadable__ = 1\n")
    install(moddir)
    with pytest.raises(ModuleLoadError):
        pmnc.bad
    assert not marker.exists()


FAILURES = {
    "syntax": ("def f(:\n", SyntaxError),
    "body": ("X = 1\nraise RuntimeError('boom in body')\n", RuntimeError),
    "directive": ("__reloadable__ = 'maybe'\n", pmnc_hook.DirectiveError),
    "init": (
        "X = 3\ndef pmnc_init(old_module, new_module, new_module_filename):\n"
        "    raise ValueError('boom in init')\n",
        ValueError,
    ),
    "exit": ("import sys\nsys.exit(3)\n", SystemExit),
}


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_failed_reload_keeps_old_version_logs_once_and_retries_on_next_change(moddir, caplog, kind):
    source, error = FAILURES[kind]
    p = write(moddir / "bar.py", "X = 1\n")
    events = []
    unsubscribe = pmnc_hook.on_reload(events.append)
    try:
        install(moddir)
        assert pmnc.bar.X == 1
        caplog.set_level(logging.ERROR, logger="pmnc_hook")
        p.write_text(source)
        assert pmnc_hook.refresh() == ["bar"]
        assert pmnc.bar.X == 1  # old version keeps serving
        assert pmnc.bar.X == 1
        pmnc_hook.refresh()
        assert pmnc.bar.X == 1
        st = pmnc_hook.status()["bar"]
        assert st.version == 1 and isinstance(st.last_error, error)
        failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(failures) == 1, [r.getMessage() for r in failures]
        assert str(p) in failures[0].getMessage() and failures[0].exc_info
        assert [e.ok for e in events] == [True, False]
        assert isinstance(events[-1].error, error) and events[-1].version == 1
        p.write_text("X = 2\n")  # the next change retries
        assert pmnc_hook.refresh() == ["bar"]
        assert pmnc.bar.X == 2
        st = pmnc_hook.status()["bar"]
        assert st.version == 2 and st.last_error is None
    finally:
        unsubscribe()


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_failed_first_load_raises_module_load_error_chained(moddir, kind):
    source, error = FAILURES[kind]
    write(moddir / "bar.py", source)
    install(moddir)
    with pytest.raises(ModuleLoadError) as info:
        pmnc.bar
    assert isinstance(info.value.__cause__, error)
    assert "bar" in str(info.value) and str(moddir / "bar.py") in str(info.value)
    assert "bar" not in pmnc_hook.status()


def test_pmnc_init_gets_old_and_new_before_publishing(moddir):
    p = write(
        moddir / "acc.py",
        """
        seen = []
        def pmnc_init(old_module, new_module, new_module_filename):
            import pmnc_hook
            st = pmnc_hook.status().get("acc")
            new_module.seen = (old_module.seen if old_module else []) + [
                (old_module is None, new_module_filename, st.version if st else None)
            ]
        """,
    )
    install(moddir)
    assert pmnc.acc.seen == [(True, str(p), None)]
    p.write_text(p.read_text() + "\n# v2\n")
    assert pmnc_hook.refresh() == ["acc"]
    assert pmnc.acc.seen == [(True, str(p), None), (False, str(p), 1)]
    assert pmnc_hook.status()["acc"].stateful


def test_seed_examples_run_verbatim(moddir):
    write(
        moddir / "pure.py",
        """
        @takes(list_of(int))
        def pure_function(*args):
            return sum(args)
        # EOF
        """,
    )
    write(
        moddir / "acc.py",
        """
        @takes(int)
        def accumulate(x):
            global sum
            sum += x

        def pmnc_init(old_module, new_module, new_module_filename):
            if old_module:
                new_module.sum = old_module.sum # state migration
            else:
                new_module.sum = 0 # initial value enters the module scope
        # EOF
        """,
    )
    install(moddir)
    assert pmnc.pure.pure_function(1, 2, 3) == 6
    with pytest.raises(TypeError):
        pmnc.pure.pure_function(1, "x")
    pmnc.acc.accumulate(5)
    pmnc.acc.accumulate(7)
    with pytest.raises(TypeError):
        pmnc.acc.accumulate("x")
    p = moddir / "acc.py"
    p.write_text(p.read_text() + "\n# touched\n")
    assert pmnc_hook.refresh() == ["acc"]
    pmnc.acc.accumulate(1)
    assert pmnc.acc.sum == 13
    assert pmnc_hook.status()["acc"].version == 2


def test_pmnc_usable_at_module_top_level(moddir):
    write(moddir / "a.py", "B_VALUE = pmnc.b.VALUE * 2\n")
    write(moddir / "b.py", "VALUE = 21\n")
    install(moddir)
    assert pmnc.a.B_VALUE == 42


def test_top_level_cycle_is_a_clear_error(moddir):
    write(moddir / "a.py", "X = pmnc.b.Y\n")
    write(moddir / "b.py", "Y = pmnc.a.X\n")
    install(moddir)
    with pytest.raises(ModuleLoadError) as info:
        pmnc.a
    chain = []
    exc: BaseException | None = info.value
    while exc is not None:
        chain.append(exc)
        exc = exc.__cause__
    cycles = [e for e in chain if type(e).__name__ == "CycleError"]
    assert cycles, chain
    assert "pmnc.a -> pmnc.b -> pmnc.a" in str(cycles[0])


def test_self_access_during_reload_sees_old_version(moddir):
    p = write(moddir / "me.py", "V = 1\n")
    install(moddir)
    assert pmnc.me.V == 1
    p.write_text("PREVIOUS = pmnc.me.V\nV = 2\n")
    pmnc_hook.refresh()
    assert pmnc.me.V == 2 and pmnc.me.PREVIOUS == 1


def test_on_reload_events_and_unsubscribe(moddir):
    p = write(moddir / "bar.py", "X = 1\n")
    events = []
    unsubscribe = pmnc_hook.on_reload(events.append)
    install(moddir)
    pmnc.bar
    p.write_text("X = 2\n")
    pmnc_hook.refresh()
    pmnc.bar
    unsubscribe()
    p.write_text("X = 3\n")
    pmnc_hook.refresh()
    pmnc.bar
    assert [(e.name, e.version, e.ok, e.error) for e in events] == [
        ("bar", 1, True, None),
        ("bar", 2, True, None),
    ]
    assert all(e.filename == str(p) and e.duration >= 0 for e in events)


def test_failing_listener_never_breaks_a_reload(moddir, caplog):
    write(moddir / "bar.py", "X = 1\n")

    def bad(event):
        raise RuntimeError("listener broke")

    unsubscribe = pmnc_hook.on_reload(bad)
    try:
        install(moddir)
        with caplog.at_level(logging.ERROR, logger="pmnc_hook"):
            assert pmnc.bar.X == 1
        assert any("listener" in r.getMessage() for r in caplog.records)
    finally:
        unsubscribe()


def test_reload_log_line_has_duration(moddir, caplog):
    p = write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    with caplog.at_level(logging.INFO, logger="pmnc_hook"):
        pmnc.bar
        p.write_text("X = 2\n")
        pmnc_hook.refresh()
        pmnc.bar
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("pmnc_hook")]
    assert any("pmnc.bar reloaded to version 2" in m and " ms" in m for m in lines), lines


def test_traceback_shows_new_source_lines(moddir):
    p = write(moddir / "bar.py", "def f():\n    raise ValueError('old line')\n")
    install(moddir)
    with pytest.raises(ValueError):
        pmnc.bar.f()
    st = os.stat(p)
    p.write_text("def f():\n    raise KeyError('new line')\n")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    pmnc_hook.refresh()
    with pytest.raises(KeyError) as info:
        pmnc.bar.f()
    text = "".join(traceback.format_exception(info.type, info.value, info.tb))
    assert "raise KeyError('new line')" in text
    assert "old line" not in text


def test_no_bytecode_cache_is_written(moddir, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    assert pmnc.bar.X == 1
    assert not (moddir / "__pycache__").exists()


def test_install_twice_is_harmless_and_uninstall_restores(moddir):
    write(moddir / "bar.py", "X = 1\n")
    meta = list(sys.meta_path)
    before = set(sys.modules)
    hook = install(moddir)
    assert install(moddir) is hook
    assert pmnc.bar.X == 1
    hook.uninstall()
    assert sys.meta_path == meta
    assert not {m for m in set(sys.modules) - before if m.startswith("pmnc_hook.modules")}
    assert not hasattr(pmnc, "bar")
    hook.uninstall()  # twice is harmless too


def test_hook_is_a_context_manager(moddir):
    write(moddir / "bar.py", "X = 1\n")
    with install(moddir) as hook:
        assert isinstance(hook, pmnc_hook.Hook)
        assert pmnc.bar.X == 1
    assert hook not in sys.meta_path and pmnc_hook._api.current() is None
    with pytest.raises(AttributeError):
        pmnc.bar


def test_install_with_other_settings_replaces(moddir, tmp_path):
    other = tmp_path / "other"
    write(other / "o.py", "X = 1\n")
    first = install(moddir)
    second = install(other)
    assert second is not first and not first.installed
    assert pmnc.o.X == 1


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(pmnc_hook.PmncHookError, match="does not exist"):
        pmnc_hook.install([str(tmp_path / "absent")])


def test_status_is_read_only(moddir):
    write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    pmnc.bar
    st = pmnc_hook.status()
    with pytest.raises(TypeError):
        st["x"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        st["bar"].version = 5  # type: ignore[misc]
