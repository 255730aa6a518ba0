"""Shared fixtures: module trees in tmp_path, fresh interpreters, and in-process isolation."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable

import pytest

REPO = Path(__file__).resolve().parent.parent


# Source text prepended to programs run in fresh interpreters: the same deadline-bounded wait
# as wait_for() below, and silence for the DeprecationWarning that 3.12+ gives a process that
# forks with threads alive (the hook's threads are alive on purpose in those scenarios).
CHILD_WAIT_FOR = r"""
import time
def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.005)
"""

CHILD_FORK_WARNINGS = r"""
import warnings
warnings.filterwarnings(
    "ignore", message=r"This process \(pid=\d+\) is multi-threaded", category=DeprecationWarning
)
"""


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` (creating directories)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def clean_env() -> dict[str, str]:
    """Return this process's environment without any PMNC_HOOK_* variable, no bytecode."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_script(directory: Path, source: str, *, timeout: float) -> subprocess.CompletedProcess[str]:
    """Write ``source`` to ``scenario.py`` (so tracebacks show its lines) and run it."""
    script = write(directory / "scenario.py", source)
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=directory,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_python(
    code: str,
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    args: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (with a deadline, so a hang fails the test)."""
    full_env = clean_env()
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, *(args or []), "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.005):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def isolated() -> Iterator[None]:
    """Snapshot sys.modules, sys.meta_path and sys.path; restore them and uninstall after."""
    import pmnc_hook

    modules = dict(sys.modules)
    meta = list(sys.meta_path)
    path = list(sys.path)
    try:
        yield
    finally:
        pmnc_hook.uninstall()
        for name in set(sys.modules) - set(modules):
            # The library's own submodules stay (imported lazily, e.g. under PEP 810, a second
            # copy would be made by the next test); modules a test loaded go.
            if name.startswith("pmnc_hook.") and not name.startswith("pmnc_hook.modules"):
                continue
            del sys.modules[name]
        sys.modules.update(modules)
        sys.meta_path[:] = meta
        sys.path[:] = path


@pytest.fixture
def moddir(tmp_path: Path) -> Path:
    """An empty module directory."""
    d = tmp_path / "mods"
    d.mkdir()
    return d
