"""Reload listeners from installed distributions (entry-point group ``pmnc_hook.listeners``)."""

from __future__ import annotations

import logging
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest
import venvs
from conftest import write

import pmnc_hook
from pmnc_hook.reload import events as _events
from pmnc_hook.reload import plugins as _plugins
from pmnc_hook.reload.events import Listeners, ReloadEvent

EVENT = ReloadEvent("bar", "/x/bar.py", 2, True, None, 0.001)

PLUGIN = """\
calls = []

def record(event):
    calls.append(event)

def explode(event):
    raise RuntimeError("listener exploded")

not_callable = 42
"""


@pytest.fixture
def plugin(tmp_path, monkeypatch, isolated):
    """A module ``plug`` importable from tmp_path; listeners load afresh into a new set."""
    write(tmp_path / "plug.py", PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_plugins, "_loaded", False)
    fresh = Listeners()
    monkeypatch.setattr(_plugins, "listeners", fresh)
    return fresh


def points(monkeypatch, **spec: str) -> list[EntryPoint]:
    found = [EntryPoint(name, value, _plugins.GROUP) for name, value in spec.items()]
    monkeypatch.setattr(_plugins, "_entry_points", lambda: found)
    return found


def test_listeners_are_subscribed_and_called(plugin, monkeypatch):
    points(monkeypatch, record="plug:record")
    _plugins.load_listeners()
    plugin.emit(EVENT)
    import plug

    assert plug.calls == [EVENT]


def test_broken_listeners_are_logged_and_skipped(plugin, monkeypatch, caplog):
    points(
        monkeypatch,
        missing="no_such_module_xyz:listener",
        absent="plug:no_such_name",
        number="plug:not_callable",
        explode="plug:explode",
        record="plug:record",
    )
    with caplog.at_level(logging.DEBUG, logger="pmnc_hook"):
        _plugins.load_listeners()
        plugin.emit(EVENT)
    import plug

    assert plug.calls == [EVENT]
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert messages[:3] == [
        "reload listener missing (no_such_module_xyz:listener) failed to load",
        "reload listener absent (plug:no_such_name) failed to load",
        "reload listener number (plug:not_callable) is not callable",
    ]
    assert messages[3].startswith("reload listener <function explode")
    assert messages[3].endswith("failed on the event for pmnc.bar")
    assert len(messages) == 4


def test_loaded_once_per_process(plugin, monkeypatch):
    calls = []
    monkeypatch.setattr(_plugins, "_entry_points", lambda: calls.append(1) or [])
    _plugins.load_listeners()
    _plugins.load_listeners()
    assert calls == [1]


def test_reading_entry_points_fails(plugin, monkeypatch, caplog):
    def fail():
        raise OSError("unreadable metadata")

    monkeypatch.setattr(_plugins, "_entry_points", fail)
    _plugins.load_listeners()
    assert "reading the pmnc_hook.listeners entry points failed" in caplog.text


def test_real_entry_points_are_read():
    assert isinstance(_plugins._entry_points(), list)


def test_loaded_at_the_first_event_and_told_of_reloads(tmp_path, monkeypatch, isolated):
    write(tmp_path / "plugins" / "plug.py", PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    points(monkeypatch, record="plug:record", explode="plug:explode")
    monkeypatch.setattr(_plugins, "_loaded", False)
    monkeypatch.setattr(_events.listeners, "_callbacks", [])
    monkeypatch.setattr(_events.listeners, "_plugins_loaded", False)
    greeting = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n")
    pmnc_hook.install([str(tmp_path / "mods")], poll=3600)
    assert "plug" not in sys.modules  # issue 15: listeners load when the first event is due
    assert not _plugins.loaded()
    import plug

    assert pmnc_hook.pmnc.greeting.VALUE == 1
    greeting.write_text("VALUE = 2\n")
    pmnc_hook.refresh()
    assert pmnc_hook.pmnc.greeting.VALUE == 2
    assert [(e.name, e.version, e.ok) for e in plug.calls] == [
        ("greeting", 1, True),
        ("greeting", 2, True),
    ]


# -- a distribution installed in a fresh environment --------------------------------------

DISTRIBUTION = {
    "pyproject.toml": """\
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "pmnc-test-listeners"
        version = "1.0"

        [project.entry-points."pmnc_hook.listeners"]
        record = "pmnc_test_listeners:record"
        explode = "pmnc_test_listeners:explode"
        broken = "pmnc_test_listeners.broken:listener"
        """,
    # Each misbehaves only when the test asks, so other tests in the environment see nothing.
    "pmnc_test_listeners/__init__.py": """\
        import os

        def record(event):
            log = os.environ.get("PMNC_TEST_LISTENER_LOG")
            if log:
                with open(log, "a") as f:
                    f.write(f"{event.name} {event.version} {event.ok}\\n")

        def explode(event):
            if os.environ.get("PMNC_TEST_LISTENER_LOG"):
                raise RuntimeError("listener exploded")
        """,
    "pmnc_test_listeners/broken.py": """\
        import os

        if os.environ.get("PMNC_TEST_LISTENER_LOG"):
            raise ImportError("this listener cannot be imported")

        def listener(event):
            pass
        """,
}

_installed: list[venvs.Venv] = []


@pytest.fixture(scope="session")
def with_listeners(tmp_path_factory):
    venv = venvs.fresh(tmp_path_factory)
    if not _installed:
        source = tmp_path_factory.mktemp("listeners")
        for name, text in DISTRIBUTION.items():
            write(source / name, textwrap.dedent(text))
        venv.pip("install", "--quiet", str(source))
        _installed.append(venv)
    return venv


MAIN = """\
import sys
import pmnc_hook
from pmnc_hook import pmnc

print(pmnc.greeting.VALUE)
with open(sys.argv[1], "w") as f:
    f.write("VALUE = 2\\n")
pmnc_hook.refresh()
print(pmnc.greeting.VALUE)
"""


@venvs.SLOW
class TestListenersFreshVenv:
    def test_installed_listeners_hear_reloads(self, with_listeners, tmp_path):
        write(tmp_path / "main.py", MAIN)
        greeting = write(tmp_path / "modules" / "greeting.py", "VALUE = 1\n")
        log = tmp_path / "events.log"
        env = {"PMNC_HOOK_PATH": str(tmp_path / "modules"), "PMNC_TEST_LISTENER_LOG": str(log)}
        result = with_listeners.run(["main.py", str(greeting)], cwd=tmp_path, env=env)
        assert result.stdout == "1\n2\n", result.stderr
        assert log.read_text() == "greeting 1 True\ngreeting 2 True\n"
        err = result.stderr
        assert "reload listener broken (pmnc_test_listeners.broken:listener) failed to load" in err
        assert "ImportError: this listener cannot be imported" in err
        assert err.count("RuntimeError: listener exploded") == 2
        assert "failed on the event for pmnc.greeting" in err

    def test_listeners_under_the_runner(self, with_listeners, tmp_path):
        write(tmp_path / "main.py", MAIN)
        greeting = write(tmp_path / "greeting.py", "VALUE = 1\n")
        log = tmp_path / "events.log"
        env = {"PMNC_TEST_LISTENER_LOG": str(log)}
        args = ["-m", "pmnc_hook", "main.py", str(greeting)]
        result = with_listeners.run(args, cwd=tmp_path, env=env)
        assert result.stdout == "1\n2\n", result.stderr
        assert log.read_text() == "greeting 1 True\ngreeting 2 True\n"
        assert "pmnc_hook ERROR reload listener broken" in result.stderr
