"""Settings: one resolution of ``install()`` arguments, environment and command line."""

from __future__ import annotations

import math
import signal

import pytest
from conftest import run_python, write

import pmnc_hook
from pmnc_hook import _settings
from pmnc_hook._settings import (
    HookSettings,
    SettingError,
    Settings,
    environment,
    hook_settings,
    install_arguments,
    merge,
    parse_level,
    parse_poll,
    parse_signal,
    signal_name,
)


@pytest.mark.parametrize(
    "text, level",
    [("debug", 10), ("INFO", 20), (" Warning ", 30), ("warn", 30), ("ERROR", 40), ("5", 5)],
)
def test_parse_level(text, level):
    assert parse_level(text) == level


@pytest.mark.parametrize("text", ["", "LOUD", "-1", "info2"])
def test_parse_level_rejects(text):
    with pytest.raises(SettingError, match="is not a logging level: use one of DEBUG, INFO"):
        parse_level(text)


def test_levels_are_the_logging_modules():
    import logging

    for name, number in _settings.LEVELS.items():
        assert logging.getLevelName(name) == number
        assert _settings.level_name(number) == name
    assert _settings.level_name(5) == "5"


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "-inf", "1e400"])
def test_poll_must_be_positive_and_finite(text):
    with pytest.raises(SettingError, match=f"PMNC_HOOK_POLL={text!r} must be a positive number"):
        parse_poll(text, "PMNC_HOOK_POLL=")


def test_poll():
    assert parse_poll(" 0.25 ") == 0.25
    with pytest.raises(SettingError, match="--poll 'soon' is not a number of seconds"):
        parse_poll("soon", "--poll ")


@pytest.mark.parametrize(
    "text, number",
    [("HUP", signal.SIGHUP), ("sighup", signal.SIGHUP), (" usr1", signal.SIGUSR1),
     ("SigTerm", signal.SIGTERM), ("RTMIN", signal.SIGRTMIN)],
)  # fmt: skip
def test_parse_signal(text, number):
    assert parse_signal(text) == number
    assert parse_signal(signal_name(number)) == number


@pytest.mark.parametrize("text", ["", "SIG", "HANGUP", "SIG_IGN", "_DFL", "1", "SIGHUP2"])
def test_parse_signal_rejects_unknown_names(text):
    with pytest.raises(SettingError, match="is not a signal name"):
        parse_signal(text)


@pytest.mark.parametrize("text", ["KILL", "sigstop", "SEGV", "BUS", "FPE", "ILL"])
def test_parse_signal_rejects_signals_no_handler_serves(text):
    with pytest.raises(SettingError, match="cannot serve as the reload signal"):
        parse_signal(text)


def test_signal_names_are_the_signal_modules():
    assert signal_name(signal.SIGHUP) == "HUP"
    assert signal_name(signal.SIGABRT) == signal.Signals(signal.SIGABRT).name[3:]


def test_setting_errors_are_pmnc_hook_errors_and_value_errors():
    with pytest.raises(SettingError) as info:
        parse_poll("x")
    assert isinstance(info.value, pmnc_hook.PmncHookError)
    assert isinstance(info.value, ValueError)


def test_from_env():
    env = {
        "PMNC_HOOK_PATH": "a:b:",
        "PMNC_HOOK_POLL": "0.5",
        "PMNC_HOOK_STRICT": "yes",
        "PMNC_HOOK_LOG_LEVEL": "warn",
        "PMNC_HOOK_WATCH": "0",
        "PMNC_HOOK_RELOAD_SIGNAL": "HUP",
        "PMNC_HOOK_EXCLUDE": "/x/app.py",
    }
    assert Settings.from_env(env) == Settings(
        paths=("a", "b"),
        poll=0.5,
        strict=True,
        log_level=30,
        watch=False,
        reload_signal=signal.SIGHUP,
        exclude=("/x/app.py",),
    )


def test_empty_variables_are_unset():
    names = ("PATH", "POLL", "STRICT", "LOG_LEVEL", "WATCH", "RELOAD_SIGNAL", "EXCLUDE")
    env = {f"PMNC_HOOK_{name}": " " for name in names}
    assert Settings.from_env(env) == Settings() == Settings.from_env({})


@pytest.mark.parametrize("value, watch", [("0", False), ("off", False), ("1", True), ("yes", True)])
def test_watch_variable(value, watch):
    assert Settings.from_env({"PMNC_HOOK_WATCH": value}).watch is watch


def test_merge_first_source_that_says_something_wins():
    cli = Settings(poll=1.0, watch=False, exclude=("/a",))
    env = Settings(poll=2.0, strict=True, reload_signal=1, exclude=("/b", "/a"))
    assert merge(cli, env) == Settings(
        poll=1.0, strict=True, watch=False, reload_signal=1, exclude=("/a", "/b")
    )
    assert merge() == Settings()


def test_environment_round_trip():
    settings = Settings(
        paths=("/m", "/n"),
        poll=0.25,
        strict=True,
        log_level=10,
        watch=False,
        reload_signal=signal.SIGUSR2,
        exclude=("/m/app.py",),
    )
    env = environment(settings)
    assert env["PMNC_HOOK_RELOAD_SIGNAL"] == "USR2" and env["PMNC_HOOK_WATCH"] == "0"
    assert Settings.from_env(env) == settings
    assert environment(Settings(paths=("/m",))) == {"PMNC_HOOK_PATH": "/m"}


def test_install_arguments():
    assert install_arguments(Settings(paths=("/m",), exclude=("/m/app.py",))) == {
        "paths": ("/m",),
        "strict": False,
        "poll": None,
        "watch": True,
        "reload_signal": None,
        "_exclude": ("/m/app.py",),
    }


def test_records_are_read_only_and_compare_by_value(tmp_path):
    def make(**kw):
        args = dict(strict=False, poll=None, drain_timeout=5.0, watch=True, reload_signal=None)
        return hook_settings([tmp_path], **{**args, **kw})

    assert make() == make() and hash(make()) == hash(make())
    assert make(strict=True) != make()
    assert isinstance(make(), HookSettings) and "drain_timeout=5.0" in repr(make())
    with pytest.raises(AttributeError, match="read-only"):
        make().strict = True
    with pytest.raises(AttributeError, match="read-only"):
        Settings().poll = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "argument, message",
    [
        ({"poll": math.nan}, "poll must be a positive, finite number"),
        ({"poll": math.inf}, "poll must be a positive, finite number"),
        ({"poll": 0}, "poll must be a positive, finite number"),
        ({"drain_timeout": math.nan}, "drain_timeout must be a finite number >= 0"),
        ({"drain_timeout": -1}, "drain_timeout must be a finite number >= 0"),
        ({"reload_signal": True}, "reload_signal must be a signal number"),
        ({"reload_signal": "HUP"}, "reload_signal must be a signal number"),
    ],
)
def test_install_refuses_bad_arguments_with_a_pmnc_hook_error(tmp_path, argument, message):
    with pytest.raises(pmnc_hook.PmncHookError, match=message) as info:
        pmnc_hook.install([tmp_path], **argument)
    assert isinstance(info.value, ValueError)
    assert pmnc_hook._api.current() is None


def test_install_does_not_read_the_runners_exclude_variable(tmp_path):
    # PMNC_HOOK_EXCLUDE is the runner's word to the start-up of its children: a program that
    # calls install() itself in such a child still gets every module of its directories.
    write(tmp_path / "mods" / "bar.py", "X = 1\n")
    r = run_python(
        f"""
        import pmnc_hook
        pmnc_hook.install([{str(tmp_path / "mods")!r}], watch=False)
        print(pmnc_hook.pmnc.bar.X, sorted(pmnc_hook._api.current().settings.exclude))
        """,
        cwd=tmp_path,
        env={"PMNC_HOOK_EXCLUDE": str(tmp_path / "mods" / "bar.py")},
    )
    assert (r.stdout, r.stderr) == ("1 []\n", "")
