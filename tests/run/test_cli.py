"""The command line: option parsing, --help, --version, bad input, the --check dispatch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import pytest

from pmnc_hook._settings import Settings
from pmnc_hook.run import cli as _cli
from pmnc_hook.run.runner import RunOptions


def parse(*argv: str) -> RunOptions:
    return _cli._parse(list(argv), "python -m pmnc_hook")


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
    return subprocess.run(
        [sys.executable, "-m", "pmnc_hook", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- parsing ------------------------------------------------------------------------------


def test_options_stop_at_the_script():
    options = parse(
        "--path", "a", "--path=b", "--poll", "0.5", "--strict", "--log-level", "debug",
        "app.py", "--strict", "-m", "x", "--path", "c",
    )  # fmt: skip
    assert options == RunOptions(
        target="app.py",
        as_module=False,
        args=("--strict", "-m", "x", "--path", "c"),
        settings=Settings(paths=("a", "b"), poll=0.5, strict=True, log_level=10),
    )


def test_options_stop_at_dash_m():
    assert parse("-m", "pkg.mod", "--path", "x", "-h") == RunOptions(
        "pkg.mod", True, ("--path", "x", "-h")
    )
    assert parse("--strict", "-mpkg", "a") == RunOptions("pkg", True, ("a",), Settings(strict=True))


def test_double_dash_ends_options():
    assert parse("--", "--strict", "a") == RunOptions("--strict", False, ("a",))


def test_defaults():
    assert parse("app.py") == RunOptions("app.py")
    assert parse("app.py").settings == Settings()


def test_no_watch():
    assert parse("--no-watch", "app.py").settings == Settings(watch=False)


@pytest.mark.parametrize(
    "given, number",
    [("HUP", signal.SIGHUP), ("sighup", signal.SIGHUP), ("SigUsr1", signal.SIGUSR1),
     ("=usr2", signal.SIGUSR2), (" TERM ", signal.SIGTERM)],
)  # fmt: skip
def test_reload_signal(given, number):
    argv = ["--reload-signal" + given] if given.startswith("=") else ["--reload-signal", given]
    assert parse(*argv, "app.py").settings == Settings(reload_signal=number)


# -- help and version ---------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_usage_on_stdout(flag, capsys):
    assert _cli.main([flag]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: python -m pmnc_hook [--path DIR]...")
    for option in (
        "--path DIR", "--poll SECONDS", "--no-watch", "--reload-signal NAME", "--strict",
        "--log-level LEVEL", "-m MODULE", "PMNC_HOOK_WATCH", "PMNC_HOOK_RELOAD_SIGNAL",
    ):  # fmt: skip
        assert option in out
    assert "--check" in out and "--version" in out
    assert err == ""


def test_help_wins_over_a_later_error(capsys):
    assert _cli.main(["--help", "--bogus"]) == 0


def test_version_is_the_distribution_version(capsys):
    from importlib.metadata import version

    assert _cli.main(["--version"]) == 0
    out, err = capsys.readouterr()
    assert out == f"pmnc_hook {version('pmnc_hook')}\n"
    assert err == ""


def test_python_dash_m_help_and_version():
    result = run_cli("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m pmnc_hook ")
    assert result.stderr == ""
    result = run_cli("--version")
    assert (result.returncode, result.stdout.split()[0]) == (0, "pmnc_hook")


def test_console_script_names_itself():
    script = Path(sys.executable).with_name("pmnc-hook")
    if not script.exists():
        pytest.skip("no pmnc-hook console script next to this interpreter")
    result = subprocess.run([str(script), "--bogus"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "pmnc-hook: error: unknown option '--bogus'" in result.stderr


# -- bad input: message on stderr, status 2 -----------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "nothing to run: give a SCRIPT or -m MODULE"),
        (["--strict"], "nothing to run"),
        (["--bogus", "app.py"], "unknown option '--bogus'"),
        (["-x", "app.py"], "unknown option '-x'"),
        (["--strict=1", "app.py"], "unknown option '--strict=1'"),
        (["--poll", "abc", "app.py"], "--poll 'abc' is not a number of seconds"),
        (["--poll", "0", "app.py"], "--poll '0' must be a positive number of seconds"),
        (["--poll=-1", "app.py"], "--poll '-1' must be a positive number of seconds"),
        (["--poll", "nan", "app.py"], "--poll 'nan' must be a positive number"),
        (["--poll", "inf", "app.py"], "--poll 'inf' must be a positive number"),
        (["--poll"], "--poll needs a value"),
        (["--path"], "--path needs a value"),
        (["--log-level", "LOUD", "app.py"], "--log-level 'LOUD' is not a logging level"),
        (["--reload-signal", "NOPE", "app.py"], "--reload-signal 'NOPE' is not a signal name"),
        (["--reload-signal=SIG_IGN", "app.py"], "--reload-signal 'SIG_IGN' is not a signal"),
        (["--reload-signal", "KILL", "app.py"], "--reload-signal 'KILL' cannot serve as"),
        (["--reload-signal", "sigstop", "app.py"], "--reload-signal 'sigstop' cannot serve"),
        (["--reload-signal"], "--reload-signal needs a value"),
        (["--no-watch=1", "app.py"], "unknown option '--no-watch=1'"),
        (["-m"], "-m needs a module name"),
        (["--"], "nothing to run after --"),
        (["-"], "reading the program from stdin is not supported"),
        (["--strict", "--check"], "--check must come first"),
    ],
)
def test_bad_options(argv, message, capsys):
    assert _cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("usage: python -m pmnc_hook ")
    assert f"python -m pmnc_hook: error: {message}" in err


def test_missing_script(tmp_path, capsys):
    missing = tmp_path / "nosuch.py"
    assert _cli.main([str(missing), "a"]) == 2
    err = capsys.readouterr().err
    assert f"error: can't open file '{missing}': [Errno 2] No such file or directory" in err


def test_path_that_is_not_a_directory(tmp_path, capsys):
    script = tmp_path / "app.py"
    script.write_text("raise SystemExit('must not run')\n")
    assert _cli.main(["--path", str(tmp_path / "nodir"), str(script)]) == 2
    assert f"--path '{tmp_path / 'nodir'}' is not a directory" in capsys.readouterr().err
    assert _cli.main(["--path", str(script), str(script)]) == 2
    assert f"--path '{script}' is not a directory" in capsys.readouterr().err


def test_bad_environment_variable_is_bad_input(tmp_path, monkeypatch, capsys):
    script = tmp_path / "app.py"
    script.write_text("raise SystemExit('must not run')\n")
    monkeypatch.setenv("PMNC_HOOK_POLL", "soon")
    assert _cli.main([str(script)]) == 2
    assert "PMNC_HOOK_POLL='soon' is not a number of seconds" in capsys.readouterr().err


def test_missing_module_subprocess(tmp_path):
    result = run_cli("-m", "no_such_module_xyz", cwd=tmp_path)
    assert result.returncode == 2
    assert "error: no module named 'no_such_module_xyz'" in result.stderr
    assert "Traceback" not in result.stderr


def test_package_without_main_subprocess(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    result = run_cli("-m", "pkg", cwd=tmp_path)
    assert result.returncode == 2
    assert "'pkg' is a package and cannot be directly executed" in result.stderr


def test_unknown_option_subprocess(tmp_path):
    result = run_cli("--frobnicate", "app.py", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "python -m pmnc_hook: error: unknown option '--frobnicate'" in result.stderr


# -- --check ------------------------------------------------------------------------------


def test_check_gets_everything_after_it(monkeypatch):
    seen = []
    fake = types.ModuleType("pmnc_hook.check.files")
    fake.main = lambda argv: seen.append(list(argv)) or 7  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pmnc_hook.check.files", fake)
    monkeypatch.setattr("pmnc_hook.check.files", fake, raising=False)
    assert _cli.main(["--check", "a", "--select", "X1", "--strict", "--help"]) == 7
    assert seen == [["a", "--select", "X1", "--strict", "--help"]]


def test_check_runs_the_checker(tmp_path):
    (tmp_path / "clean.py").write_text("def f():\n    return 1\n")
    result = run_cli("--check", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (tmp_path / "typo.py").write_text("def g():\n    return pmnc.cleen.f()\n")
    result = run_cli("--check", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "typo.py:2:" in result.stdout and "pmnc.cleen" in result.stdout
