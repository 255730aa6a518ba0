"""The operator's commands of docs/production.md for a single process: deploy by switching a
symlink, reload on ``SIGHUP`` with no watcher (``install()`` arguments, the command line, the
environment), roll back from a signal handler of the program's own; and a reload signal that
reaches a forked worker while it starts. Every wait has a deadline; every process started is
killed in a ``finally``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CHILD_FORK_WARNINGS, CHILD_WAIT_FOR, clean_env, run_script

DEADLINE = 30.0


def until(what: str, predicate, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline} s")
        time.sleep(0.02)


PROGRAM = r"""
import signal, sys, threading
import pmnc_hook
from pmnc_hook import pmnc

if sys.argv[1:] == ["install"]:
    pmnc_hook.install(["current"], watch=False, reload_signal=signal.SIGHUP)

def roll_back(signum, frame):  # docs/production.md, "Roll back"
    threading.Thread(target=pmnc_hook.rollback, args=("greeting",), daemon=True).start()

signal.signal(signal.SIGUSR2, roll_back)
print("ready", flush=True)
for line in sys.stdin:
    with pmnc_hook.request():
        print(pmnc.greeting.text(), pmnc_hook.generation(), flush=True)
"""


def runner_supports(option: str) -> bool:
    usage = subprocess.run(
        [sys.executable, "-m", "pmnc_hook", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    ).stdout
    return option in usage


def env_supports_reload_signal() -> bool:
    from pmnc_hook import _settings

    return hasattr(_settings, "ENV_RELOAD_SIGNAL")


def releases_and_program(site: Path, form: str) -> tuple[list[str], dict[str, str]]:
    """Two releases, ``current -> releases/1``, the program; its command and environment."""
    for number in (1, 2):
        release = site / "releases" / str(number)
        release.mkdir(parents=True)
        (release / "greeting.py").write_text(f"def text():\n    return 'release-{number}'\n")
    os.symlink("releases/1", site / "current")
    (site / "prog.py").write_text(PROGRAM)
    env = clean_env()
    args = [sys.executable, "prog.py"]
    if form == "install":
        args.append("install")
    elif form == "command line":
        args = [sys.executable, "-m", "pmnc_hook", "--no-watch", "--reload-signal", "HUP"]
        args += ["--path", "current", "prog.py"]
    else:
        env.update(PMNC_HOOK_PATH="current", PMNC_HOOK_WATCH="0", PMNC_HOOK_RELOAD_SIGNAL="HUP")
    return args, env


@pytest.mark.parametrize("form", ["install", "command line", "environment"])
@pytest.mark.timeout(120)
def test_single_process_reloads_on_hup_and_rolls_back_on_its_own_signal(tmp_path, form):
    if form == "command line" and not runner_supports("--reload-signal"):
        pytest.skip("the runner has no --no-watch/--reload-signal yet")
    if form == "environment" and not env_supports_reload_signal():
        pytest.skip("PMNC_HOOK_WATCH/PMNC_HOOK_RELOAD_SIGNAL are not read yet")
    args, env = releases_and_program(tmp_path, form)
    proc = subprocess.Popen(
        args,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdin is not None and proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"

        def ask() -> str:
            proc.stdin.write("?\n")
            proc.stdin.flush()
            return proc.stdout.readline()

        assert ask() == "release-1 0\n"
        link = tmp_path / "current.new"  # the deploy: one atomic switch
        os.symlink("releases/2", link)
        os.replace(link, tmp_path / "current")
        assert ask() == "release-1 0\n"  # no watcher: nothing happens until the signal
        proc.send_signal(signal.SIGHUP)
        until("release 2 served", lambda: ask() == "release-2 1\n")
        proc.send_signal(signal.SIGUSR2)  # the program's own handler: rollback("greeting")
        until("release 1 served again", lambda: ask() == "release-1 2\n")
        proc.send_signal(signal.SIGHUP)  # the files did not change: the rollback holds
        proc.send_signal(signal.SIGHUP)
        for _ in range(20):
            assert ask() == "release-1 2\n"
        proc.stdin.close()
        assert proc.wait(timeout=DEADLINE) == 0
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=DEADLINE)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()
    assert "Traceback" not in err, err


@pytest.mark.timeout(60)
def test_a_worker_signalled_while_it_starts_reloads(tmp_path):
    # A server forks a worker just as the operator signals every worker: the signal reaches
    # the child before pmnc_hook's own after-fork handler has run. Made certain here by an
    # after-fork handler registered before pmnc_hook's, which signals the child itself.
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "greeting.py").write_text("V = 1\n")
    program = (
        CHILD_WAIT_FOR
        + CHILD_FORK_WARNINGS
        + (
            "import os, signal, sys\n"
            "os.register_at_fork(after_in_child=lambda: os.kill(os.getpid(), signal.SIGHUP))\n"
            "import pmnc_hook\n"
            "from pmnc_hook import pmnc\n"
            "pmnc_hook.install(['mods'], watch=False, reload_signal=signal.SIGHUP)\n"
            "assert pmnc.greeting.V == 1\n"
            "open('mods/greeting.py', 'w').write('V = 2\\n')\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    try:\n"
            "        wait_for(lambda: pmnc.greeting.V == 2, timeout=10, what='reload')\n"
            "    except AssertionError as exc:\n"
            "        print(exc, flush=True)\n"
            "        os._exit(1)\n"
            "    os._exit(0)\n"
            "_, status = os.waitpid(pid, 0)\n"
            "sys.exit(os.waitstatus_to_exitcode(status))\n"
        )
    )
    result = run_script(tmp_path, program, timeout=DEADLINE)
    assert result.returncode == 0, result.stdout + result.stderr
