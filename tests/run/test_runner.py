"""``python -m pmnc_hook SCRIPT`` / ``-m MODULE``: the program runs as plain Python runs it.

Most tests run the same program twice, under plain ``python`` and under the runner, and
compare what the program saw (``__name__``, ``sys.argv``, ``sys.path``, ...) and how it ended
(exit status, traceback text).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import venvs
from conftest import write

PROBE = '''\
"""The probe's docstring."""
import builtins, json, os, sys
main = sys.modules["__main__"]

def shown(value):
    # What a value is, comparable across processes (loaders and specs are new objects).
    if isinstance(value, (str, int, type(None), bool)):
        return value
    if value is builtins:
        return "<builtins>"
    if type(value).__name__ == "ModuleSpec":
        return {k: shown(getattr(value, k)) for k in ("name", "origin", "cached", "parent",
                "has_location", "submodule_search_locations", "loader")}
    if isinstance(value, (list, tuple)):
        return [shown(v) for v in value]
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    return type(value).__name__

print(json.dumps({
    "main": {k: shown(v) for k, v in sorted(vars(main).items()) if k.startswith("__")},
    "argv": sys.argv,
    "path": sys.path,
    "main_is_me": main.__dict__ is globals(),
    "stdio": [sys.stdin is sys.__stdin__, sys.stdout is sys.__stdout__],
}))
'''


def env_without_hook(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def plain(*args: str, cwd: Path, flags: tuple[str, ...] = (), **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *flags, *args],
        cwd=cwd,
        env=kw.pop("env", None) or env_without_hook(),
        capture_output=True,
        text=True,
        timeout=60,
        **kw,
    )
    result.stderr = venvs.stderr_of(result.stderr)
    return result


def hooked(*args: str, cwd: Path, flags: tuple[str, ...] = (), **kw) -> subprocess.CompletedProcess:
    return plain("-m", "pmnc_hook", *args, cwd=cwd, flags=flags, **kw)


def probe(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# -- the program sees what plain Python gives it ----------------------------------------


def test_script_sees_what_python_gives_it(tmp_path):
    write(tmp_path / "sub" / "app.py", PROBE)
    args = ("sub/app.py", "a", "--strict", "-m", "x")
    expected = probe(plain(*args, cwd=tmp_path))
    seen = probe(hooked(*args, cwd=tmp_path))
    assert seen == expected
    assert seen["main"]["__name__"] == "__main__"
    assert seen["main"]["__doc__"] == "The probe's docstring."
    assert seen["argv"] == list(args)
    assert seen["path"][0] == str((tmp_path / "sub").resolve())
    assert seen["main"]["__file__"] == str(tmp_path / "sub" / "app.py")
    assert seen["main"]["__builtins__"] == "<builtins>"
    assert seen["main_is_me"] and seen["stdio"] == [True, True]


def test_symlinked_script_sees_the_real_directory(tmp_path):
    write(tmp_path / "real" / "app.py", PROBE)
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "app.py").symlink_to(tmp_path / "real" / "app.py")
    expected = probe(plain("links/app.py", cwd=tmp_path))
    assert probe(hooked("links/app.py", cwd=tmp_path)) == expected
    assert expected["path"][0] == str((tmp_path / "real").resolve())


def test_module_sees_what_python_gives_it(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "mod.py", PROBE)
    expected = probe(plain("-m", "pkg.mod", "a", "-m", cwd=tmp_path))
    seen = probe(hooked("-m", "pkg.mod", "a", "-m", cwd=tmp_path))
    assert seen == expected
    assert seen["main"]["__spec__"]["name"] == "pkg.mod"
    assert seen["main"]["__package__"] == "pkg"
    assert seen["argv"] == [str(tmp_path / "pkg" / "mod.py"), "a", "-m"]
    assert seen["path"][0] == str(tmp_path)


def test_package_main_sees_what_python_gives_it(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "__main__.py", PROBE)
    expected = probe(plain("-m", "pkg", cwd=tmp_path))
    assert probe(hooked("-mpkg", cwd=tmp_path)) == expected
    assert expected["main"]["__spec__"]["name"] == "pkg.__main__"


def test_directory_and_zip_apps(tmp_path):
    write(tmp_path / "dirapp" / "__main__.py", PROBE)
    expected = probe(plain("dirapp", "x", cwd=tmp_path))
    assert probe(hooked("dirapp", "x", cwd=tmp_path)) == expected
    with zipfile.ZipFile(tmp_path / "app.pyz", "w") as archive:
        archive.writestr("__main__.py", PROBE)
    expected = probe(plain("app.pyz", cwd=tmp_path))
    assert probe(hooked("app.pyz", cwd=tmp_path)) == expected


def test_compiled_script(tmp_path):
    import py_compile

    write(tmp_path / "app.py", PROBE)
    py_compile.compile(str(tmp_path / "app.py"), str(tmp_path / "app.pyc"), doraise=True)
    expected = probe(plain("app.pyc", "x", cwd=tmp_path))
    assert probe(hooked("app.pyc", "x", cwd=tmp_path)) == expected


@pytest.mark.skipif(sys.version_info < (3, 11), reason="-P and PYTHONSAFEPATH are 3.11+")
def test_safe_path_adds_no_directory(tmp_path):
    write(tmp_path / "sub" / "app.py", PROBE)
    expected = probe(plain("sub/app.py", cwd=tmp_path, flags=("-P",)))
    assert probe(hooked("sub/app.py", cwd=tmp_path, flags=("-P",))) == expected
    assert str((tmp_path / "sub").resolve()) not in expected["path"]
    env = env_without_hook(PYTHONSAFEPATH="1")
    assert probe(hooked("sub/app.py", cwd=tmp_path, env=env)) == expected
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "mod.py", PROBE)
    # With -P the current directory is not searched for -m either, as in plain Python.
    env["PYTHONPATH"] = str(tmp_path)
    expected = probe(plain("-m", "pkg.mod", cwd=tmp_path, env=env))
    assert probe(hooked("-m", "pkg.mod", cwd=tmp_path, env=env)) == expected


def test_isolated_mode(tmp_path):
    write(tmp_path / "sub" / "app.py", PROBE)
    expected = probe(plain("sub/app.py", cwd=tmp_path, flags=("-I",)))
    assert probe(hooked("sub/app.py", cwd=tmp_path, flags=("-I",))) == expected


def test_stdin_and_stdout_are_the_programs(tmp_path):
    write(tmp_path / "echo.py", "import sys\nprint(sys.stdin.readline().upper(), end='')\n")
    result = hooked("echo.py", cwd=tmp_path, input="hello\n")
    assert (result.returncode, result.stdout) == (0, "HELLO\n")


# -- exit status and tracebacks -----------------------------------------------------------


@pytest.mark.parametrize(
    "body, status",
    [
        ("print('done')", 0),
        ("import sys; sys.exit(3)", 3),
        ("raise SystemExit(0)", 0),
        ("import sys; sys.exit('bye')", 1),
    ],
)
def test_exit_status(tmp_path, body, status):
    write(tmp_path / "app.py", body + "\n")
    expected = plain("app.py", cwd=tmp_path)
    result = hooked("app.py", cwd=tmp_path)
    assert result.returncode == expected.returncode == status
    assert (result.stdout, result.stderr) == (expected.stdout, expected.stderr)


FAILING = """\
def inner(x):
    return 1 / x

def outer():
    try:
        inner(0)
    except ZeroDivisionError as exc:
        raise ValueError("outer failed") from exc

outer()
"""


def test_uncaught_exception_traceback_has_no_runner_frames(tmp_path):
    write(tmp_path / "app.py", FAILING)
    expected = plain("app.py", cwd=tmp_path)
    result = hooked("app.py", cwd=tmp_path)
    assert result.returncode == expected.returncode == 1
    assert result.stderr == expected.stderr
    assert "pmnc_hook" not in result.stderr and "runpy" not in result.stderr
    assert result.stderr.startswith("Traceback (most recent call last):\n  File ")
    assert result.stderr.rstrip().endswith("ValueError: outer failed")


def test_uncaught_exception_in_a_module(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "mod.py", FAILING)
    result = hooked("-m", "pkg.mod", cwd=tmp_path)
    assert result.returncode == 1
    assert "pmnc_hook" not in result.stderr and "runpy" not in result.stderr
    frames = [line for line in result.stderr.splitlines() if line.startswith("  File ")]
    assert len(frames) == 4 and all("pkg/mod.py" in line for line in frames), result.stderr


def test_failing_package_of_a_module(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "x = 1 / 0\n")
    write(tmp_path / "pkg" / "mod.py", "print('must not run')\n")
    result = hooked("-m", "pkg.mod", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    assert "pkg/__init__.py" in result.stderr
    assert result.stderr.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "pmnc_hook" not in result.stderr


def test_syntax_error_in_the_script(tmp_path):
    write(tmp_path / "app.py", "x = 1\ndef broken(:\n")
    expected = plain("app.py", cwd=tmp_path)
    result = hooked("app.py", cwd=tmp_path)
    assert result.returncode == expected.returncode == 1
    assert result.stderr == expected.stderr
    assert "SyntaxError" in result.stderr


def test_custom_excepthook_is_used(tmp_path):
    write(
        tmp_path / "app.py",
        """\
        import sys
        def hook(kind, value, tb):
            print("hooked:", kind.__name__, value, tb.tb_frame.f_code.co_filename)
        sys.excepthook = hook
        raise LookupError("gone")
        """,
    )
    expected = plain("app.py", cwd=tmp_path)
    result = hooked("app.py", cwd=tmp_path)
    assert result.returncode == expected.returncode == 1
    assert result.stdout == expected.stdout
    assert result.stdout.startswith("hooked: LookupError gone ")


def test_keyboard_interrupt_raised(tmp_path):
    write(tmp_path / "app.py", "def f():\n    raise KeyboardInterrupt\n\nf()\n")
    expected = plain("app.py", cwd=tmp_path)
    result = hooked("app.py", cwd=tmp_path)
    assert result.returncode == expected.returncode == -signal.SIGINT
    assert result.stderr == expected.stderr
    assert "pmnc_hook" not in result.stderr


def test_ctrl_c_ends_the_process_as_in_plain_python(tmp_path):
    write(
        tmp_path / "app.py",
        """\
        import atexit, os, signal, sys, time
        atexit.register(lambda: print("cleaned up", flush=True))
        print("started", flush=True)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(30)
        """,
    )
    for result in (plain("app.py", cwd=tmp_path), hooked("app.py", cwd=tmp_path)):
        assert result.returncode == -signal.SIGINT
        assert result.stdout == "started\ncleaned up\n"
        assert result.stderr.rstrip().endswith("KeyboardInterrupt")
        assert "pmnc_hook" not in result.stderr and "runpy" not in result.stderr


# -- module directories, reloads and their log lines --------------------------------------

RELOADER = """\
import os, sys
import pmnc_hook
from pmnc_hook import pmnc

def rewrite(name, text):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, "w") as f:
        f.write(text)

print(pmnc.greeting.VALUE)
rewrite("greeting.py", "VALUE = 2\\n")
print(pmnc_hook.refresh())
print(pmnc.greeting.VALUE)
try:
    pmnc.app
except AttributeError as exc:
    print("no pmnc.app:", type(exc).__name__)
print(sorted(pmnc_hook.status()))
"""


def test_sibling_modules_reload_by_default(tmp_path):
    write(tmp_path / "app.py", RELOADER)
    write(tmp_path / "greeting.py", "VALUE = 1\n")
    result = hooked("app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "1",
        "['greeting']",
        "2",
        "no pmnc.app: UnknownModuleError",
        "['greeting']",
    ]
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert "pmnc_hook INFO pmnc.greeting loaded version 1 from " in lines[0]
    assert "pmnc_hook INFO pmnc.greeting reloaded to version 2 from " in lines[1]
    assert str(tmp_path / "greeting.py") in lines[1] and lines[1].endswith(" ms")


def test_module_directory_of_dash_m_is_the_current_directory(tmp_path):
    write(tmp_path / "app.py", RELOADER)
    write(tmp_path / "greeting.py", "VALUE = 1\n")
    result = hooked("-m", "app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [
        "1",
        "['greeting']",
        "2",
        "no pmnc.app: UnknownModuleError",
    ]
    assert "Warning" not in result.stderr


def test_explicit_paths_earlier_wins(tmp_path):
    write(tmp_path / "a" / "shared.py", "WHERE = 'a'\n")
    write(tmp_path / "b" / "shared.py", "WHERE = 'b'\n")
    write(tmp_path / "b" / "only_b.py", "WHERE = 'only b'\n")
    write(tmp_path / "prog" / "sibling.py", "WHERE = 'sibling'\n")
    write(
        tmp_path / "prog" / "app.py",
        """\
        import os
        from pmnc_hook import pmnc
        print(pmnc.shared.WHERE, pmnc.only_b.WHERE)
        print(os.environ["PMNC_HOOK_PATH"])
        try:
            pmnc.sibling
        except AttributeError as exc:
            print(exc)
        """,
    )
    result = hooked("--path", "a", "--path=b", "prog/app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == "a only b"
    assert out[1] == os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])
    assert "sibling" in out[2] and str(tmp_path / "a") in out[2]


def test_failed_reload_is_logged_and_the_old_version_serves(tmp_path):
    write(
        tmp_path / "app.py",
        """\
        import pmnc_hook
        from pmnc_hook import pmnc
        print(pmnc.greeting.VALUE)
        with open("greeting.py", "w") as f:
            f.write("VALUE = (\\n")
        pmnc_hook.refresh()
        print(pmnc.greeting.VALUE)
        """,
    )
    write(tmp_path / "greeting.py", "VALUE = 1\n")
    result = hooked("app.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1", "1"]
    assert "pmnc_hook ERROR pmnc.greeting: reloading" in result.stderr
    assert "version 1 keeps serving" in result.stderr


def test_log_level_option(tmp_path):
    write(tmp_path / "app.py", RELOADER)
    write(tmp_path / "greeting.py", "VALUE = 1\n")
    result = hooked("--log-level", "warning", "app.py", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""
    write(tmp_path / "greeting.py", "VALUE = 1\n")
    result = hooked("--log-level=DEBUG", "app.py", cwd=tmp_path)
    assert " DEBUG " in result.stderr and "reloaded to version 2" in result.stderr


def test_settings_reach_the_hook_and_the_environment(tmp_path):
    write(
        tmp_path / "app.py",
        """\
        import json, os
        from pmnc_hook import _api as _hook
        hook = _hook.current()
        print(json.dumps({
            "mode": hook.detector_mode(),
            "strict": hook.settings.strict,
            "exclude": sorted(hook.settings.exclude),
            "env": {k: v for k, v in os.environ.items() if k.startswith("PMNC_HOOK_")},
        }))
        """,
    )
    script = str((tmp_path / "app.py").resolve())
    seen = probe(hooked("app.py", cwd=tmp_path))
    assert seen["strict"] is False and seen["exclude"] == [script]
    assert seen["env"] == {"PMNC_HOOK_PATH": str(tmp_path), "PMNC_HOOK_EXCLUDE": script}
    seen = probe(
        hooked("--poll", "0.25", "--strict", "--log-level", "warn", "app.py", cwd=tmp_path)
    )
    assert (seen["mode"], seen["strict"]) == ("poll", True)
    assert seen["env"] == {
        "PMNC_HOOK_PATH": str(tmp_path),
        "PMNC_HOOK_EXCLUDE": script,
        "PMNC_HOOK_POLL": "0.25",
        "PMNC_HOOK_STRICT": "1",
        "PMNC_HOOK_LOG_LEVEL": "WARNING",
    }


SETTINGS = """\
import json, os, threading
from pmnc_hook import _api
s = _api.current().settings
print(json.dumps({
    "watch": s.watch,
    "signal": s.reload_signal,
    "threads": threading.active_count(),
    "env": {k: v for k, v in os.environ.items() if k.startswith("PMNC_HOOK_")},
}))
"""


def test_no_watch_and_reload_signal_options(tmp_path):
    write(tmp_path / "app.py", SETTINGS)
    seen = probe(hooked("--no-watch", "app.py", cwd=tmp_path))
    assert (seen["watch"], seen["signal"], seen["threads"]) == (False, None, 1)
    assert seen["env"]["PMNC_HOOK_WATCH"] == "0"
    seen = probe(hooked("--no-watch", "--reload-signal", "sighup", "app.py", cwd=tmp_path))
    assert (seen["watch"], seen["signal"]) == (False, signal.SIGHUP)
    assert seen["env"]["PMNC_HOOK_WATCH"] == "0"
    assert seen["env"]["PMNC_HOOK_RELOAD_SIGNAL"] == "HUP"
    seen = probe(hooked("app.py", cwd=tmp_path))
    assert (seen["watch"], seen["signal"]) == (True, None)
    assert "PMNC_HOOK_WATCH" not in seen["env"] and "PMNC_HOOK_RELOAD_SIGNAL" not in seen["env"]


def test_watch_and_reload_signal_from_the_environment(tmp_path):
    write(tmp_path / "app.py", SETTINGS)
    env = env_without_hook(PMNC_HOOK_WATCH="0", PMNC_HOOK_RELOAD_SIGNAL="USR1")
    seen = probe(hooked("app.py", cwd=tmp_path, env=env))
    assert (seen["watch"], seen["signal"]) == (False, signal.SIGUSR1)
    assert seen["env"]["PMNC_HOOK_RELOAD_SIGNAL"] == "USR1"
    # The command line wins over the environment.
    seen = probe(hooked("--reload-signal", "SIGUSR2", "app.py", cwd=tmp_path, env=env))
    assert seen["signal"] == signal.SIGUSR2 and seen["env"]["PMNC_HOOK_RELOAD_SIGNAL"] == "USR2"


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("PMNC_HOOK_RELOAD_SIGNAL", "HANGUP", "PMNC_HOOK_RELOAD_SIGNAL='HANGUP' is not a signal"),
        ("PMNC_HOOK_POLL", "nan", "PMNC_HOOK_POLL='nan' must be a positive number of seconds"),
    ],
)
def test_bad_environment_is_a_usage_error(tmp_path, variable, value, message):
    write(tmp_path / "app.py", "raise SystemExit('must not run')\n")
    result = hooked("app.py", cwd=tmp_path, env=env_without_hook(**{variable: value}))
    assert result.returncode == 2 and result.stdout == ""
    assert f"python -m pmnc_hook: error: {message}" in result.stderr


FIRST_LOAD = """\
from pmnc_hook import pmnc

def main():
    pmnc.bad.f()

main()
"""


@pytest.mark.parametrize(
    "bad, cause",
    [
        ("def f(:\n    pass\n", "SyntaxError: invalid syntax"),
        ("def g():\n    return 1 / 0\n\nX = g()\n", "ZeroDivisionError: division by zero"),
    ],
)
def test_failed_first_load_shows_the_users_frames_and_the_cause_once(tmp_path, bad, cause):
    write(tmp_path / "app.py", FIRST_LOAD)
    write(tmp_path / "bad.py", bad)
    result = hooked("app.py", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (1, "")
    lines = result.stderr.splitlines()
    assert len(lines) <= 24, result.stderr
    # The log line, then the cause's traceback (bad.py's frames only), then the error raised
    # at the user's access: app.py's frames and one frame of the library.
    assert " pmnc_hook ERROR pmnc.bad: loading " in lines[0]
    assert sum(line == cause for line in lines) == 1, result.stderr
    library = [line for line in lines if line.startswith("  File ") and "pmnc_hook" in line]
    assert len(library) == 1 and "facade.py" in library[0], result.stderr
    user = [line for line in lines if line.startswith(f'  File "{tmp_path}')]
    assert [line.split(",")[1] for line in user if "app.py" in line] == [" line 6", " line 4"]
    assert lines[-1].startswith("pmnc_hook.ModuleLoadError: cannot load pmnc.bad: ")
    assert cause in lines[-1]


def test_failed_first_load_shows_the_cause_when_not_logged(tmp_path):
    write(tmp_path / "app.py", FIRST_LOAD)
    write(tmp_path / "bad.py", "def f(:\n    pass\n")
    result = hooked("--log-level", "critical", "app.py", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) <= 24, result.stderr
    assert "SyntaxError: invalid syntax" in lines
    assert "The above exception was the direct cause of the following exception:" in lines
    assert sum(line.startswith("  File ") and "pmnc_hook" in line for line in lines) == 1


def test_environment_gives_defaults_but_not_the_path(tmp_path):
    write(
        tmp_path / "app.py",
        """\
        from pmnc_hook import _api as _hook
        hook = _hook.current()
        print(hook.detector_mode(), hook.settings.strict, hook.directories)
        """,
    )
    env = env_without_hook(
        PMNC_HOOK_POLL="0.5", PMNC_HOOK_STRICT="1", PMNC_HOOK_PATH=str(tmp_path / "nowhere")
    )
    result = hooked("app.py", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"poll True ('{tmp_path}',)"


# -- child processes (need the .pth file: a fresh environment) ----------------------------


@pytest.fixture(scope="session")
def fresh(tmp_path_factory):
    return venvs.fresh(tmp_path_factory)


CHILDREN = """\
import multiprocessing, subprocess, sys
import pmnc_hook
from pmnc_hook import pmnc

def child(queue):
    from pmnc_hook import pmnc
    queue.put(pmnc.greeting.VALUE)

if __name__ == "__main__":
    print("parent", pmnc.greeting.VALUE)
    code = "import pmnc_hook, sys; print('subprocess', pmnc_hook.pmnc.greeting.VALUE)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    print(out.stdout.strip() + out.stderr.strip())
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=child, args=(queue,))
    process.start()
    print("spawn", queue.get(timeout=60))
    process.join(60)
    print("exit", process.exitcode)
"""


@venvs.SLOW
class TestChildrenFreshVenv:
    def test_children_of_a_script_get_the_hook(self, fresh, tmp_path):
        write(tmp_path / "app.py", CHILDREN)
        write(tmp_path / "greeting.py", "VALUE = 'hi'\n")
        result = fresh.run(["-m", "pmnc_hook", "app.py"], cwd=tmp_path, timeout=120)
        assert result.stdout.splitlines() == [
            "parent hi",
            "subprocess hi",
            "spawn hi",
            "exit 0",
        ], result.stderr

    def test_children_of_a_module_get_the_hook(self, fresh, tmp_path):
        # The spawned child imports the main module by name: it must stay __main__'s code,
        # not become a reloadable module, though it sits in the module directory.
        write(tmp_path / "app.py", CHILDREN)
        write(tmp_path / "greeting.py", "VALUE = 'hi'\n")
        result = fresh.run(["-m", "pmnc_hook", "-m", "app"], cwd=tmp_path, timeout=120)
        assert result.stdout.splitlines()[-2:] == ["spawn hi", "exit 0"], result.stderr
        assert "Warning" not in result.stderr

    def test_runner_replaces_an_inherited_hook_quietly(self, fresh, tmp_path):
        write(tmp_path / "other" / "greeting.py", "VALUE = 'other'\n")
        write(tmp_path / "prog" / "greeting.py", "VALUE = 'prog'\n")
        write(
            tmp_path / "prog" / "app.py", "from pmnc_hook import pmnc\nprint(pmnc.greeting.VALUE)\n"
        )
        env = {"PMNC_HOOK_PATH": str(tmp_path / "other")}
        result = fresh.run(["-m", "pmnc_hook", "prog/app.py"], cwd=tmp_path, env=env)
        assert result.stdout == "prog\n"
        assert "replacing" not in result.stderr


def test_runner_example():
    repo = Path(__file__).resolve().parents[2]
    result = hooked("examples/runner/app.py", "1", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello, world!\n"
    assert "pmnc_hook INFO pmnc.greeting loaded version 1 from " in result.stderr
