"""Issue 13 items 5, 6, 8 and 10 (the core's part): uninstall during a load, BaseException in
module code, each failure logged once, and tracebacks of a failed first load."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import threading

import pytest
from conftest import clean_env, run_script, write

import pmnc_hook
from pmnc_hook import ModuleLoadError, pmnc

BLOCKING_BODY = """\
import builtins
builtins.ENTERED.set()
builtins.RELEASE.wait(20)
ORIGIN = {origin!r}
"""


@pytest.fixture
def gates():
    import builtins

    builtins.ENTERED, builtins.RELEASE = threading.Event(), threading.Event()
    yield builtins.ENTERED, builtins.RELEASE
    builtins.RELEASE.set()
    del builtins.ENTERED, builtins.RELEASE


@pytest.mark.parametrize("replace", ["uninstall-install", "install"])
@pytest.mark.parametrize("load", ["first", "reload"])
def test_a_load_finishing_after_uninstall_shows_nowhere(tmp_path, gates, isolated, load, replace):
    entered, release = gates
    a, b = tmp_path / "a", tmp_path / "b"
    write(b / "bar.py", "ORIGIN = 'b'\n")
    if load == "first":
        write(a / "bar.py", BLOCKING_BODY.format(origin="a"))
        pmnc_hook.install([str(a)], watch=False)
    else:
        write(a / "bar.py", "ORIGIN = 'a0'\n")
        pmnc_hook.install([str(a)], watch=False)
        assert pmnc.bar.ORIGIN == "a0"
        write(a / "bar.py", BLOCKING_BODY.format(origin="a"))
        assert pmnc_hook.refresh() == ["bar"]
    results = []
    loader = threading.Thread(target=lambda: results.append(pmnc.bar.ORIGIN))
    loader.start()
    assert entered.wait(10)
    if replace == "uninstall-install":
        pmnc_hook.uninstall()
    pmnc_hook.install([str(b)], watch=False)  # other settings: replaces the installed hook
    release.set()
    loader.join(10)
    assert not loader.is_alive()
    assert pmnc.bar.ORIGIN == "b"  # the new hook serves its own directory's module
    assert sys.modules["pmnc_hook.modules.bar"].ORIGIN == "b"
    assert pmnc.bar.ORIGIN == "b"


class Custom(BaseException):
    pass


KINDS = {
    "KeyboardInterrupt": "raise KeyboardInterrupt",
    "CancelledError": "import asyncio\nraise asyncio.CancelledError()",
    "custom": "raise BaseExceptionForTests('custom')",
    "SystemExit": "raise SystemExit(3)",
}


@pytest.fixture
def custom_base_exception():
    import builtins

    builtins.BaseExceptionForTests = Custom
    yield
    del builtins.BaseExceptionForTests


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("where", ["body", "pmnc_init"])
def test_base_exception_in_module_code_is_a_failed_reload(
    moddir, isolated, custom_base_exception, caplog, kind, where
):
    good = "V = {v}\ndef pmnc_init(old_module, new_module, new_module_filename):\n    pass\n"
    raising = KINDS[kind].replace("\n", "\n    ")
    if where == "body":
        bad = KINDS[kind] + "\n" + good.format(v=2)
    else:
        bad = f"V = 2\ndef pmnc_init(old_module, new_module, new_module_filename):\n    {raising}\n"
    write(moddir / "bar.py", good.format(v=1))
    pmnc_hook.install([str(moddir)], watch=False)
    assert pmnc.bar.V == 1
    events = []
    pmnc_hook.on_reload(events.append)
    write(moddir / "bar.py", bad)
    pmnc_hook.refresh()
    caplog.set_level(logging.ERROR, logger="pmnc_hook")
    try:
        first = pmnc.bar.V  # the one caller whose access ran the failing code
    except KeyboardInterrupt:
        assert kind == "KeyboardInterrupt"  # cannot be told from a real Ctrl-C
        first = pmnc.bar.V
    assert first == 1
    for _ in range(3):  # the callers after it never get it
        assert pmnc.bar.V == 1
    st = pmnc_hook.status()["bar"]
    assert st.version == 1 and type(st.last_error).__name__ == {
        "KeyboardInterrupt": "KeyboardInterrupt",
        "CancelledError": "CancelledError",
        "custom": "Custom",
        "SystemExit": "SystemExit",
    }[kind]
    assert [e.ok for e in events] == [False]
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 1


@pytest.mark.parametrize("kind", ["CancelledError", "custom", "SystemExit"])
def test_base_exception_in_a_first_load_is_a_module_load_error(
    moddir, isolated, custom_base_exception, kind
):
    write(moddir / "bar.py", KINDS[kind] + "\n")
    pmnc_hook.install([str(moddir)], watch=False)
    with pytest.raises(ModuleLoadError) as info:
        pmnc.bar  # noqa: B018
    assert isinstance(info.value.__cause__, (asyncio.CancelledError, Custom, SystemExit))


def test_a_fifo_named_like_a_module_is_an_error_to_its_callers_not_a_log_flood(
    moddir, isolated, caplog
):
    os.mkfifo(moddir / "bar.py")
    pmnc_hook.install([str(moddir)], watch=False)
    caplog.set_level(logging.ERROR, logger="pmnc_hook")
    for _ in range(100):
        with pytest.raises(AttributeError, match="named pipe"):  # no module file: no load
            pmnc.bar  # noqa: B018
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def _unprivileged() -> list[str]:
    """The command prefix that runs a program without root's power to read any file."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: no file is unreadable")
    drop = [setpriv, "--bounding-set=-dac_override,-dac_read_search"]
    probe = subprocess.run([*drop, "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop root's file access here: {probe.stderr!r}")
    return drop


@pytest.mark.parametrize("when", ["first load", "reload"])
def test_a_module_file_without_read_permission_is_logged_once(tmp_path, when):
    prefix = _unprivileged()
    path = write(tmp_path / "mods" / "bar.py", "V = 1\n")
    code = f"""
import logging, os, sys
import pmnc_hook
from pmnc_hook import pmnc
errors = []
class Count(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(record.getMessage())
logging.getLogger("pmnc_hook").addHandler(Count())
pmnc_hook.install(["mods"], poll=3600)
if {when!r} == "reload":
    assert pmnc.bar.V == 1
    os.utime("mods/bar.py", ns=(0, 0))  # a change: a new key
os.chmod("mods/bar.py", 0)
for _ in range(100):
    pmnc_hook.refresh()
    try:
        served = pmnc.bar.V
    except pmnc_hook.PmncHookError:
        served = None
print(len(errors), served, pmnc_hook.status().get("bar") and pmnc_hook.status()["bar"].last_error)
print(errors[0] if errors else "")
"""
    try:
        result = subprocess.run(
            [*prefix, sys.executable, "-c", code],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        path.chmod(0o644)
    assert result.returncode == 0, result.stderr
    counts, message = result.stdout.splitlines()[:2]
    logged, served, last_error = counts.split(" ", 2)
    assert logged == "1", result.stdout + result.stderr  # not one per access
    assert "bar.py" in message and "ermission" in message, message
    if when == "reload":
        assert served == "1" and last_error != "None"  # the old version serves, saying why


def test_two_broken_contents_alternating_are_each_logged_once(moddir, isolated, caplog):
    write(moddir / "bar.py", "V = 1\n")
    pmnc_hook.install([str(moddir)], watch=False)
    assert pmnc.bar.V == 1
    caplog.set_level(logging.ERROR, logger="pmnc_hook")
    for _ in range(3):
        for broken in ("V = (\n", "V = 1 / 0\n"):
            write(moddir / "bar.py", broken)
            pmnc_hook.refresh()
            assert pmnc.bar.V == 1
    assert len([r for r in caplog.records if r.levelno >= logging.ERROR]) == 2


def test_a_module_file_made_unreadable_is_reported_once_and_the_old_version_serves(
    moddir, isolated, caplog
):
    path = write(moddir / "bar.py", "V = 1\n")
    pmnc_hook.install([str(moddir)], watch=False)
    assert pmnc.bar.V == 1
    caplog.set_level(logging.ERROR, logger="pmnc_hook")
    path.unlink()
    os.mkfifo(path)
    for _ in range(5):
        assert pmnc_hook.refresh() == []
        assert pmnc.bar.V == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and str(path) in errors[0].getMessage()
    assert pmnc_hook.status()["bar"].last_error is not None


def test_a_failed_first_load_shows_the_users_frames_and_the_cause_once(tmp_path):
    write(tmp_path / "mods" / "bar.py", "def f(:\n    pass\n")
    r = run_script(
        tmp_path,
        f"""
import pmnc_hook
from pmnc_hook import pmnc
pmnc_hook.install([{str(tmp_path / "mods")!r}], watch=False)

def main():
    return pmnc.bar.f()

main()
""",
        timeout=60,
    )
    assert r.returncode == 1
    err = r.stderr
    library = os.path.dirname(pmnc_hook.__file__)
    frames = [line for line in err.splitlines() if line.strip().startswith('File "')]
    ours = [line for line in frames if library in line]
    assert len(ours) <= 1, err
    assert 'scenario.py", line 7, in main' in err and "bar.py" in err
    assert err.count("def f(:") == 1, err  # the cause is shown once
    assert len(err.splitlines()) <= 25, err
    assert "pmnc_hook.ModuleLoadError" in err

