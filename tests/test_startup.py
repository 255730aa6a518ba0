"""Start-up by environment variable: the ``pmnc_hook.pth`` line and ``process_startup()``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import venvs
from conftest import write

import pmnc_hook
from pmnc_hook.run import startup as _startup

REPO = Path(__file__).resolve().parent.parent
PTH = REPO / "pmnc_hook.pth"


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
def fresh_start(monkeypatch, logger_state):
    """A process_startup() that has not run yet, with no PMNC_HOOK_* variable set."""
    for name in list(os.environ):
        if name.startswith("PMNC_HOOK_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(_startup, "_started", False)


# -- helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, level",
    [("debug", 10), ("INFO", 20), (" Warning ", 30), ("warn", 30), ("ERROR", 40), ("5", 5)],
)
def test_parse_level(text, level):
    assert _startup.parse_level(text) == level


@pytest.mark.parametrize("text", ["", "LOUD", "-1", "info2"])
def test_parse_level_rejects(text):
    with pytest.raises(ValueError, match="is not a logging level: use one of DEBUG, INFO"):
        _startup.parse_level(text)


def test_configure_logging_is_idempotent(logger_state, capsys):
    first = _startup.configure_logging(logging.INFO)
    second = _startup.configure_logging(logging.WARNING)
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


def test_unset_installs_nothing(fresh_start):
    assert _startup.process_startup() is None
    assert pmnc_hook._api.current() is None


@pytest.mark.parametrize(
    "variables, message",
    [
        ({"PMNC_HOOK_POLL": "soon"}, "PMNC_HOOK_POLL='soon' is not a number of seconds"),
        ({"PMNC_HOOK_POLL": "-1"}, "PMNC_HOOK_POLL='-1' must be a positive number"),
        ({"PMNC_HOOK_LOG_LEVEL": "LOUD"}, "'LOUD' is not a logging level"),
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
    assert _startup.process_startup() is None
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("pmnc_hook: not installed at start-up: ")
    assert message.format(missing=missing) in err
    assert pmnc_hook._api.current() is None


def test_installs_once(fresh_start, isolated, monkeypatch, tmp_path, capsys):
    write(tmp_path / "greeting.py", "VALUE = 1\n")
    monkeypatch.setenv("PMNC_HOOK_PATH", str(tmp_path))
    monkeypatch.setenv("PMNC_HOOK_POLL", "0.5")
    monkeypatch.setenv("PMNC_HOOK_LOG_LEVEL", "info")
    hook = _startup.process_startup()
    assert hook is not None and hook is pmnc_hook._api.current()
    assert hook.directories == (str(tmp_path),)
    assert hook.detector_mode() == "poll"
    assert _startup.process_startup() is hook
    assert pmnc_hook.pmnc.greeting.VALUE == 1
    assert "pmnc_hook INFO pmnc.greeting loaded version 1" in capsys.readouterr().err


# -- the .pth line, run by hand -----------------------------------------------------------


def run_line(tmp_path: Path, code: str, flags: tuple[str, ...] = (), **env: str):
    full_env = venvs.clean_env(env)
    result = subprocess.run(
        [sys.executable, *flags, "-c", f"exec({pth_line()!r})\n{code}"],
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


def test_pth_line_installs_the_hook(tmp_path):
    write(tmp_path / "mods" / "greeting.py", "VALUE = 'hi'\n")
    code = "from pmnc_hook import pmnc; print(pmnc.greeting.VALUE)"
    result = run_line(tmp_path, code, PMNC_HOOK_PATH=str(tmp_path / "mods"))
    assert (result.returncode, result.stdout, result.stderr) == (0, "hi\n", "")


def test_pth_line_is_harmless_without_the_package(tmp_path):
    # -S: no site-packages, so no pmnc_hook to import (the package was removed).
    result = run_line(tmp_path, "print('ran')", ("-S",), PMNC_HOOK_PATH=str(tmp_path))
    assert (result.returncode, result.stdout, result.stderr) == (0, "ran\n", "")


def test_pth_line_reports_a_package_that_cannot_import(tmp_path):
    write(tmp_path / "pmnc_hook" / "__init__.py", "import some_missing_dependency_xyz\n")
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

    def test_set_imports_at_start_up(self, fresh, tmp_path):
        code = "import sys; print('pmnc_hook' in sys.modules, sys.modules['pmnc_hook'].modules)"
        result = fresh.run(["-c", code], cwd=tmp_path, env={"PMNC_HOOK_PATH": str(tmp_path)})
        assert result.stdout.startswith("True <module 'pmnc_hook.modules'")

    def test_bad_settings_do_not_stop_the_program(self, fresh, tmp_path):
        for env, message in [
            ({"PMNC_HOOK_PATH": str(tmp_path), "PMNC_HOOK_POLL": "x"}, "PMNC_HOOK_POLL='x'"),
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
            "print(hook.detector_mode(), hook.settings.strict, _startup.process_startup() is hook)"
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
        write(tmp_path / "app.py", "print('ran as', __name__)\n")
        result = fresh.run(["-m", "app"], cwd=tmp_path, env={"PMNC_HOOK_PATH": str(tmp_path)})
        assert (result.stdout, result.stderr) == ("ran as __main__\n", "")

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
