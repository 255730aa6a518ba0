"""Start-up by environment variable: the ``pmnc_hook.pth`` line and ``process_startup()``.

A process with ``PMNC_HOOK_PATH`` set pays for the hook only when it first uses it: the
start-up installs a small finder; the hook (imports, watcher thread, logging) comes with the
first ``pmnc.<name>`` access, ``status()``/``refresh()``, or import of a managed name.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import venvs
from conftest import CHILD_WAIT_FOR, write

from pmnc_hook import _deferred
from pmnc_hook._api import current
from pmnc_hook.run import logs as _logs
from pmnc_hook.run import startup as _startup

REPO = Path(__file__).resolve().parents[2]
PTH = REPO / "pmnc_hook.pth"

# What a process that has not used the hook must not have imported (or started).
HEAVY = (
    "watchdog", "typeguard", "logging", "importlib.metadata", "inspect", "dataclasses",
    "typing", "threading", "asyncio", "email", "zipfile", "signal", "enum", "collections",
    "pmnc_hook._api", "pmnc_hook.reload.registry",
)  # fmt: skip


def pth_line() -> str:
    (line,) = [x for x in PTH.read_text().splitlines() if x.startswith("import ")]
    return line


@pytest.fixture
def logger_state():
    """Restore the pmnc_hook logger's handlers, level and propagation after the test."""
    logger = logging.getLogger("pmnc_hook")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        yield logger
    finally:
        logger.handlers[:] = saved[0]
        logger.setLevel(saved[1])
        logger.propagate = saved[2]


@pytest.fixture
def fresh_start(monkeypatch, logger_state, isolated):
    """A process_startup() that has not run yet, with no PMNC_HOOK_* variable set."""
    for name in list(os.environ):
        if name.startswith("PMNC_HOOK_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(_startup, "_started", False)
    monkeypatch.setattr(_startup, "_set_up", False)
    try:
        yield
    finally:
        _startup.cancel()


# -- helpers ------------------------------------------------------------------------------


def test_configure_logging_is_idempotent(logger_state, capsys):
    first = _logs.configure_logging(logging.INFO)
    second = _logs.configure_logging(logging.WARNING)
    assert first is second
    assert logger_state.handlers.count(first) == 1
    assert (logger_state.level, first.level, logger_state.propagate) == (30, 30, False)
    logging.getLogger("pmnc_hook.registry").warning("pmnc.x reloaded")
    logging.getLogger("pmnc_hook.registry").info("not shown")
    err = capsys.readouterr().err  # the handler writes to the sys.stderr of the moment
    assert err.endswith(" pmnc_hook WARNING pmnc.x reloaded\n")
    assert "not shown" not in err


def test_main_files_script(tmp_path, monkeypatch):
    script = write(tmp_path / "mods" / "main.py", "")
    monkeypatch.setattr(sys, "argv", [str(script), "x"])
    assert _startup._main_files((str(tmp_path / "mods"),)) == (str(script.resolve()),)
    assert _startup._main_files((str(tmp_path),)) == ()
    monkeypatch.setattr(sys, "argv", ["-c", "x"])
    assert _startup._main_files((str(tmp_path / "mods"),)) == ()


@pytest.mark.parametrize(
    "orig, argv",
    [
        (["python", "-m", "main", "a"], ["-m", "a"]),
        (["python", "-X", "dev", "-mmain"], ["-m"]),
        (["python", "-Bm", "main", "-m", "main"], ["-m", "-m", "main"]),
    ],
)
def test_main_files_module(tmp_path, monkeypatch, orig, argv):
    write(tmp_path / "main.py", "")
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(sys, "orig_argv", orig, raising=False)
    expected = (str((tmp_path / "main.py").resolve()),)
    assert _startup._main_files((str(tmp_path),)) == expected


def test_main_files_dotted_module(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["-m"])
    monkeypatch.setattr(sys, "orig_argv", ["python", "-m", "pkg.main"], raising=False)
    assert _startup._main_files((str(tmp_path),)) == ()


# -- process_startup() --------------------------------------------------------------------


def test_unset_sets_up_nothing(fresh_start):
    meta = list(sys.meta_path)
    assert _startup.process_startup() is False
    assert sys.meta_path == meta and not _deferred.pending()
    assert current() is None


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"PMNC_HOOK_POLL": "soon"}, "PMNC_HOOK_POLL='soon' is not a number of seconds"),
        ({"PMNC_HOOK_POLL": "-1"}, "PMNC_HOOK_POLL='-1' must be a positive number"),
        ({"PMNC_HOOK_POLL": "nan"}, "PMNC_HOOK_POLL='nan' must be a positive number"),
        ({"PMNC_HOOK_POLL": "inf"}, "PMNC_HOOK_POLL='inf' must be a positive number"),
        ({"PMNC_HOOK_LOG_LEVEL": "LOUD"}, "'LOUD' is not a logging level"),
        ({"PMNC_HOOK_RELOAD_SIGNAL": "NOPE"}, "PMNC_HOOK_RELOAD_SIGNAL='NOPE' is not a signal"),
        ({"PMNC_HOOK_RELOAD_SIGNAL": "KILL"}, "'KILL' cannot serve as the reload signal"),
        ({"PMNC_HOOK_PATH": "{missing}"}, "{missing} does not exist or is no directory"),
    ],
)
def test_errors_are_one_line_on_stderr(
    fresh_start, monkeypatch, tmp_path, capsys, variables, message
):
    monkeypatch.setenv("PMNC_HOOK_PATH", str(tmp_path))
    missing = str(tmp_path / "missing")
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(missing=missing))
    meta = list(sys.meta_path)
    assert _startup.process_startup() is False
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("pmnc_hook: not installed at start-up: ")
    assert message.format(missing=missing) in err
    assert sys.meta_path == meta and current() is None


def test_sets_up_once_and_installs_at_first_use(fresh_start, monkeypatch, tmp_path, capsys):
    write(tmp_path / "greeting.py", "VALUE = 1\n")
    monkeypatch.setenv("PMNC_HOOK_PATH", str(tmp_path))
    monkeypatch.setenv("PMNC_HOOK_POLL", "0.5")
    monkeypatch.setenv("PMNC_HOOK_LOG_LEVEL", "info")
    monkeypatch.setenv("PMNC_HOOK_WATCH", "0")
    meta = list(sys.meta_path)
    assert _startup.process_startup() is True
    assert _startup.process_startup() is True
    assert len(sys.meta_path) == len(meta) + 1 and _deferred.pending()
    from pmnc_hook import pmnc

    assert pmnc.greeting.VALUE == 1
    hook = current()
    assert hook is not None and not _deferred.pending()
    assert hook.directories == (str(tmp_path),)
    assert (hook.settings.poll, hook.settings.watch) == (0.5, False)
    assert "pmnc_hook INFO pmnc.greeting loaded version 1" in capsys.readouterr().err


# -- the .pth line, run by hand in fresh interpreters ----------------------------------------


def run_line(
    tmp_path: Path, code: str, flags: tuple[str, ...] = (), args: tuple[str, ...] = (), **env: str
):
    """Run ``code`` after the .pth line, in a fresh interpreter (as if at start-up)."""
    full_env = venvs.clean_env(env)
    program = f"exec({pth_line()!r})\n{CHILD_WAIT_FOR}\n{textwrap.dedent(code)}"
    result = subprocess.run(
        [sys.executable, *flags, "-c", program, *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result.stderr = venvs.stderr_of(result.stderr)
    return result


def test_pth_file_is_one_guarded_import_line():
    lines = [x for x in PTH.read_text().splitlines() if x and not x.startswith("#")]
    assert len(lines) == 1 and lines[0].startswith("import os;")
    assert lines[0].endswith(' if os.environ.get("PMNC_HOOK_PATH") else None')


def test_pth_line_unset_imports_nothing(tmp_path):
    code = "import sys; print(sorted(m for m in sys.modules if 'pmnc' in m))"
    result = run_line(tmp_path, code)
    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "")
    result = run_line(tmp_path, code, PMNC_HOOK_PATH="")
    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "")


SEEN = """\
import sys
modules = sorted(sys.modules)
threads = len(sys._current_frames())
import json
print(json.dumps({"modules": modules, "threads": threads}))
"""


def test_untouched_process_imports_only_the_start_up_and_starts_no_thread(tmp_path):
    import json

    write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n")
    bare = json.loads(run_line(tmp_path, SEEN).stdout)
    result = run_line(tmp_path, SEEN, PMNC_HOOK_PATH=str(tmp_path / "mods"))
    assert result.stderr == ""
    seen = json.loads(result.stdout)
    added = sorted(set(seen["modules"]) - set(bare["modules"]))
    assert all(m.startswith("pmnc_hook") or m == "__future__" for m in added), added
    assert "pmnc_hook.run.startup" in added
    assert [m for m in HEAVY if m in added] == []
    assert seen["threads"] == bare["threads"] == 1


FIRST_USE = """\
import os, sys, threading
path = os.path.join(sys.argv[1], "greeting.py")
def edit(value):
    with open(path, "w") as f:
        f.write(f"VALUE = {value}\\n")
edit(2)  # after start-up, before the first use: the first access reads the file
assert threading.active_count() == 1
from pmnc_hook import pmnc
print(pmnc.greeting.VALUE, threading.active_count() > 1)
edit(3)  # after the first use: the watcher started with the hook sees it
wait_for(lambda: pmnc.greeting.VALUE == 3, what="reload")
print(pmnc.greeting.VALUE)
"""


def test_first_access_loads_then_watches(tmp_path):
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n").parent
    result = run_line(tmp_path, FIRST_USE, args=(str(mods),), PMNC_HOOK_PATH=str(mods))
    assert (result.stdout, result.stderr, result.returncode) == ("2 True\n3\n", "", 0)


def test_status_and_refresh_before_the_first_access(tmp_path):
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n").parent
    code = """\
    import pmnc_hook
    print(dict(pmnc_hook.status()), pmnc_hook.refresh())
    print(pmnc_hook.pmnc.greeting.VALUE, sorted(pmnc_hook.status()))
    """
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods))
    assert (result.stdout, result.stderr) == ("{} []\n1 ['greeting']\n", "")


def test_namespace_import_installs_the_hook(tmp_path):
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 'ns'\n").parent
    code = """\
    from pmnc_hook.modules import greeting
    import pmnc_hook
    print(greeting.VALUE, greeting is pmnc_hook.pmnc.greeting)
    """
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods))
    assert (result.stdout, result.stderr) == ("ns True\n", "")
    code = "import pmnc_hook as p\nprint(p.modules.__name__, p._api.current() is not None)"
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods))
    assert (result.stdout, result.stderr) == ("pmnc_hook.modules True\n", "")


DIRECT = """\
import sys, warnings
warnings.simplefilter("always")
sys.path.insert(0, "mods")
import greeting
import pmnc_hook
print(greeting is pmnc_hook.pmnc.greeting, greeting.VALUE)
"""


def test_direct_import_is_caught_from_the_start(tmp_path):
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n").parent
    result = run_line(tmp_path, DIRECT, PMNC_HOOK_PATH=str(mods))
    assert result.stdout == "True 1\n", result.stderr
    assert "<string>:" in result.stderr and "PmncHookWarning: 'import greeting'" in result.stderr
    result = run_line(tmp_path, DIRECT, PMNC_HOOK_PATH=str(mods), PMNC_HOOK_STRICT="1")
    assert result.returncode == 1 and result.stdout == ""
    last = result.stderr.rstrip().splitlines()[-1]
    assert "DirectImportError: <string>:" in last
    assert last.endswith("write pmnc.greeting instead (strict mode refuses direct imports)")


def test_threads_first_using_the_hook_at_once_all_get_it(tmp_path):
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n").parent
    code = """\
    import threading, time
    from pmnc_hook import pmnc
    barrier = threading.Barrier(8)
    spans, errors = [], []
    def first_use():
        barrier.wait()
        started = time.monotonic()
        try:
            pmnc.greeting.VALUE
        except Exception as exc:
            errors.append(repr(exc))
        spans.append((started, time.monotonic()))
    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join(30)
    # Accesses that began before the first one ended met the install running: the race.
    overlapped = sum(s < min(e for _, e in spans) for s, _ in spans)
    assert overlapped >= 2, spans
    print(len(spans), errors)
    """
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods))
    assert (result.stdout, result.stderr) == ("8 []\n", "")


def test_an_import_waiting_for_the_start_up_cannot_deadlock_it(tmp_path):
    # Thread B imports a managed name (holding that name's import lock) while thread A runs
    # the start-up, which imports the same name (a module file shadowing a module the hook
    # needs): B's wait is bounded, so both finish.
    mods = write(tmp_path / "mods" / "shadowed.py", "WHO = 'file'\n").parent
    code = f"""
    import importlib, sys, threading, time
    sys.path.append({str(mods)!r})
    from pmnc_hook import _deferred
    from pmnc_hook.run import startup
    startup._WAIT_FOR_START = 0.5
    a_started, results = threading.Event(), {{}}

    def b_waits_in_finish():
        frame = sys._current_frames().get(b.ident)
        while frame is not None:
            if frame.f_code.co_name == "finish":
                return True
            frame = frame.f_back
        return False

    def start():  # what the start-up runs at the first use, in thread A
        a_started.set()
        wait_for(b_waits_in_finish, what="B waiting for the start")
        results["a"] = importlib.import_module("shadowed").WHO

    def b_imports():
        a_started.wait(20)
        import shadowed
        results["b"] = shadowed.WHO

    _deferred.defer(start)
    sys.meta_path.insert(0, startup._Trigger(({str(mods)!r},), ()))
    a = threading.Thread(target=_deferred.finish)
    b = threading.Thread(target=b_imports)
    began = time.monotonic()
    a.start(); b.start(); a.join(30); b.join(30)
    assert not a.is_alive() and not b.is_alive(), "deadlock"
    print(sorted(results.items()), time.monotonic() - began < 20)
    """
    result = run_line(tmp_path, code)
    assert (result.stdout, result.stderr) == ("[('a', 'file'), ('b', 'file')] True\n", ""), result


def test_settings_reach_the_hook(tmp_path):
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n").parent
    code = """\
    import threading
    from pmnc_hook import _api, pmnc
    pmnc.greeting
    s = _api.current().settings
    print(s.watch, s.reload_signal, s.strict)
    """
    env = {"PMNC_HOOK_WATCH": "0", "PMNC_HOOK_RELOAD_SIGNAL": "sighup", "PMNC_HOOK_STRICT": "1"}
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods), **env)
    assert (result.stdout, result.stderr) == (f"False {int(signal.SIGHUP)} True\n", "")
    code = """\
    import threading
    from pmnc_hook import pmnc
    pmnc.greeting
    print(threading.active_count())
    """
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods), PMNC_HOOK_WATCH="0")
    assert (result.stdout, result.stderr) == ("1\n", "")


def test_reload_signal_when_the_first_use_is_in_another_thread(tmp_path):
    # The start-up caught the signal in the main thread; the hook, installed by a worker
    # thread's first use (where signal.signal cannot be called), adopts it.
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n").parent
    code = f"""\
    import os, signal, threading
    from pmnc_hook import pmnc
    first = []
    worker = threading.Thread(target=lambda: first.append(pmnc.greeting.VALUE))
    worker.start(); worker.join(30)
    with open({str(mods / "greeting.py")!r}, "w") as f:
        f.write("VALUE = 2\\n")
    os.kill(os.getpid(), signal.SIGHUP)
    wait_for(lambda: pmnc.greeting.VALUE == 2, what="the reload the signal asks for")
    print(first, pmnc.greeting.VALUE)
    """
    env = {"PMNC_HOOK_WATCH": "0", "PMNC_HOOK_RELOAD_SIGNAL": "HUP"}
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods), **env)
    assert (result.stdout, result.stderr) == ("[1] 2\n", "")


def test_reload_signal_before_the_first_use_does_not_end_the_process(tmp_path):
    code = """\
    import os, signal
    os.kill(os.getpid(), signal.SIGHUP)
    print("alive")
    """
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(tmp_path), PMNC_HOOK_RELOAD_SIGNAL="HUP")
    assert (result.returncode, result.stdout, result.stderr) == (0, "alive\n", "")


def test_the_held_reload_signal_can_be_adopted_and_given_back(tmp_path):
    # The hook's installation (in whatever thread the first use runs) adopts the signal the
    # start-up caught in the main thread; the runner's cancel() gives it back.
    code = """\
    import os, signal
    from pmnc_hook.run import startup
    seen = []
    print(startup.adopt_signal(signal.SIGUSR2, lambda n, f: seen.append(n)) is None)
    print(startup.adopt_signal(signal.SIGUSR1, lambda n, f: seen.append(n)) is not None)
    os.kill(os.getpid(), signal.SIGUSR1)
    wait_for(lambda: seen, what="the forwarded signal")
    print(seen == [signal.SIGUSR1])
    startup.cancel()
    print(signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL)
    """
    env = {"PMNC_HOOK_PATH": str(tmp_path), "PMNC_HOOK_RELOAD_SIGNAL": "usr1"}
    result = run_line(tmp_path, code, **env)
    assert (result.stdout, result.stderr) == ("True\nTrue\nTrue\nTrue\n", "")


def test_namespace_name_is_the_hooks():
    from pmnc_hook import _api

    assert _startup.NAMESPACE == _api.NAMESPACE


def test_logging_is_configured_at_the_first_use(tmp_path):
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n").parent
    code = """\
    import sys
    print("logging" in sys.modules)
    from pmnc_hook import pmnc
    pmnc.greeting
    """
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods), PMNC_HOOK_LOG_LEVEL="info")
    assert result.stdout == "False\n"
    assert "pmnc_hook INFO pmnc.greeting loaded version 1" in result.stderr


def test_a_directory_gone_by_the_first_use_is_one_line(tmp_path):
    mods = write(tmp_path / "mods" / "greeting.py", "VALUE = 1\n").parent
    code = f"""\
    import shutil
    shutil.rmtree({str(mods)!r})
    from pmnc_hook import pmnc
    try:
        pmnc.greeting
    except AttributeError as exc:
        print(type(exc).__name__)
    """
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(mods))
    assert result.stdout == "UnknownModuleError\n"
    assert result.stderr == (
        f"pmnc_hook: not installed at first use: module directory {mods} does not exist or "
        "is no directory\n"
    )


def test_pth_line_is_harmless_without_the_package(tmp_path):
    # -S: no site-packages, so no pmnc_hook to import (the package was removed).
    result = run_line(tmp_path, "print('ran')", ("-S",), PMNC_HOOK_PATH=str(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (0, "ran\n", "")


def test_pth_line_reports_a_package_that_cannot_import(tmp_path):
    write(
        tmp_path / "pmnc_hook" / "__init__.py",
        "import some_missing_dependency_xyz\nsome_missing_dependency_xyz.ready\n",
    )
    result = run_line(tmp_path, "print('ran')", ("-S",), PMNC_HOOK_PATH=str(tmp_path))
    assert (result.returncode, result.stdout) == (0, "ran\n")
    assert result.stderr == (
        "pmnc_hook: not installed at start-up: ModuleNotFoundError "
        "No module named 'some_missing_dependency_xyz'\n"
    )


# -- a fresh environment with the wheel installed -----------------------------------------


@pytest.fixture(scope="session")
def fresh(tmp_path_factory):
    return venvs.fresh(tmp_path_factory)


MAIN = """\
import sys
import pmnc_hook
from pmnc_hook import pmnc

print(pmnc.greeting.VALUE)
with open(sys.argv[1], "w") as f:
    f.write("VALUE = 2\\n")
print(pmnc_hook.refresh(), pmnc.greeting.VALUE)
"""

MODULES_SEEN = "import sys; print(sorted(m for m in sys.modules if 'pmnc' in m))"


@venvs.SLOW
class TestFreshVenv:
    def test_wheel_ships_the_pth_file(self, fresh, tmp_path_factory):
        with zipfile.ZipFile(venvs.wheel(tmp_path_factory)) as wheel:
            assert "pmnc_hook.pth" in wheel.namelist()
            assert wheel.read("pmnc_hook.pth") == PTH.read_bytes()
        assert (fresh.site_packages / "pmnc_hook.pth").read_bytes() == PTH.read_bytes()

    def test_variable_installs_the_hook_with_no_code_change(self, fresh, tmp_path):
        write(tmp_path / "main.py", MAIN)
        greeting = write(tmp_path / "modules" / "greeting.py", "VALUE = 1\n")
        env = {"PMNC_HOOK_PATH": str(tmp_path / "modules")}
        result = fresh.run(["main.py", str(greeting)], cwd=tmp_path, env=env)
        assert result.stdout == "1\n['greeting'] 2\n"
        assert result.stderr == ""

    def test_unset_imports_nothing(self, fresh, tmp_path):
        result = fresh.run(["-c", MODULES_SEEN], cwd=tmp_path)
        assert (result.stdout, result.stderr) == ("[]\n", "")
        result = fresh.run(["-c", MODULES_SEEN], cwd=tmp_path, env={"PMNC_HOOK_PATH": ""})
        assert (result.stdout, result.stderr) == ("[]\n", "")

    def test_set_imports_only_the_start_up(self, fresh, tmp_path):
        import json

        code = f"import json, sys\n{SEEN.replace('import json', '')}"
        bare = json.loads(fresh.run(["-c", code], cwd=tmp_path).stdout)
        env = {"PMNC_HOOK_PATH": str(tmp_path)}
        seen = json.loads(fresh.run(["-c", code], cwd=tmp_path, env=env).stdout)
        added = sorted(set(seen["modules"]) - set(bare["modules"]))
        assert "pmnc_hook.run.startup" in added
        assert all(m.startswith("pmnc_hook") or m == "__future__" for m in added), added
        assert seen["threads"] == 1

    def test_bad_settings_do_not_stop_the_program(self, fresh, tmp_path):
        for env, message in [
            ({"PMNC_HOOK_PATH": str(tmp_path), "PMNC_HOOK_POLL": "x"}, "PMNC_HOOK_POLL='x'"),
            ({"PMNC_HOOK_PATH": str(tmp_path), "PMNC_HOOK_POLL": "nan"}, "PMNC_HOOK_POLL='nan'"),
            (
                {"PMNC_HOOK_PATH": str(tmp_path), "PMNC_HOOK_RELOAD_SIGNAL": "HUPP"},
                "PMNC_HOOK_RELOAD_SIGNAL='HUPP' is not a signal name",
            ),
            ({"PMNC_HOOK_PATH": str(tmp_path / "gone")}, "does not exist or is no directory"),
        ]:
            result = fresh.run(["-c", "print('ran')"], cwd=tmp_path, env=env)
            assert result.stdout == "ran\n"
            assert result.stderr.count("\n") == 1, result.stderr
            assert result.stderr.startswith("pmnc_hook: not installed at start-up: ")
            assert message in result.stderr

    def test_settings_from_the_environment(self, fresh, tmp_path):
        write(tmp_path / "main.py", MAIN)
        greeting = write(tmp_path / "modules" / "greeting.py", "VALUE = 1\n")
        env = {
            "PMNC_HOOK_PATH": str(tmp_path / "modules"),
            "PMNC_HOOK_LOG_LEVEL": "info",
            "PMNC_HOOK_POLL": "0.5",
            "PMNC_HOOK_STRICT": "1",
        }
        result = fresh.run(["main.py", str(greeting)], cwd=tmp_path, env=env)
        assert result.stdout == "1\n['greeting'] 2\n"
        lines = result.stderr.splitlines()
        assert len(lines) == 2, result.stderr
        assert "pmnc_hook INFO pmnc.greeting loaded version 1" in lines[0]
        assert "pmnc_hook INFO pmnc.greeting reloaded to version 2" in lines[1]
        code = (
            "from pmnc_hook import _api as _hook; from pmnc_hook.run import startup as _startup; "
            "hook = _hook.current(); "
            "print(hook.detector_mode(), hook.settings.strict, _startup.process_startup())"
        )
        result = fresh.run(["-c", code], cwd=tmp_path, env=env)
        assert result.stdout == "poll True True\n"

    def test_the_script_is_not_a_module(self, fresh, tmp_path):
        write(
            tmp_path / "main.py",
            "from pmnc_hook import _api\nprint(sorted(_api.current().settings.exclude))\n",
        )
        result = fresh.run(["main.py"], cwd=tmp_path, env={"PMNC_HOOK_PATH": str(tmp_path)})
        assert result.stdout == f"[{str((tmp_path / 'main.py').resolve())!r}]\n"

    @pytest.mark.skipif(sys.version_info < (3, 10), reason="needs sys.orig_argv (3.10+)")
    def test_dash_m_module_in_a_module_directory(self, fresh, tmp_path):
        code = "import sys\nprint('ran as', __name__, [m for m in sys.modules if 'api' in m])\n"
        write(tmp_path / "app.py", code)
        result = fresh.run(["-m", "app"], cwd=tmp_path, env={"PMNC_HOOK_PATH": str(tmp_path)})
        # runpy's look-up of app is not a first use: the hook stays uninstalled.
        assert (result.stdout, result.stderr) == ("ran as __main__ []\n", "")

    def test_env_var_example(self, fresh):
        env = {"PMNC_HOOK_PATH": "examples/env_var/modules"}
        result = fresh.run(["examples/env_var/main.py", "1"], cwd=REPO, env=env)
        assert (result.stdout, result.stderr) == ("Hello, world!\n", "")

    def test_harmless_once_the_package_is_gone(self, tmp_path_factory, tmp_path):
        bare = venvs.bare(tmp_path_factory)
        (bare.site_packages / "pmnc_hook.pth").write_bytes(PTH.read_bytes())
        result = bare.run(["-c", "print('ran')"], cwd=tmp_path, env={"PMNC_HOOK_PATH": "x"})
        assert (result.stdout, result.stderr) == ("ran\n", "")

    def test_editable_install(self, tmp_path_factory, tmp_path):
        editable = venvs.editable(tmp_path_factory)
        assert (editable.site_packages / "pmnc_hook.pth").exists()
        result = editable.run(["-c", MODULES_SEEN], cwd=tmp_path)
        assert (result.stdout, result.stderr) == ("[]\n", "")
        write(tmp_path / "main.py", MAIN)
        greeting = write(tmp_path / "modules" / "greeting.py", "VALUE = 1\n")
        env = {"PMNC_HOOK_PATH": str(tmp_path / "modules")}
        result = editable.run(["main.py", str(greeting)], cwd=tmp_path, env=env)
        assert (result.stdout, result.stderr) == ("1\n['greeting'] 2\n", "")
