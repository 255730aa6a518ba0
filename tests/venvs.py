"""Fresh virtual environments with pmnc_hook installed from its wheel, built once per session.

The dev environment has pmnc_hook installed editable, and possibly from an older build with no
``pmnc_hook.pth``; what users get is a wheel in a clean environment, so the start-up tests run
there. ``python -m venv`` brings its own pip; the wheel's dependencies come from the package
index (or the local wheel mirror pip is configured with). If pip cannot reach one, the tests
that need a fresh environment are skipped, with pip's complaint as the reason. Deselect them
with ``-k "not FreshVenv"``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable, Optional, TypeVar

import pytest

REPO = Path(__file__).resolve().parent.parent

# Test classes that build or use a fresh environment: building one takes tens of seconds.
SLOW = pytest.mark.timeout(900)

_OFFLINE_HINTS = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Failed to establish a new connection",
    "ProxyError",
)

T = TypeVar("T")

# name -> what was built (an environment, a wheel), or _Offline if pip could not reach an index.
_built: dict[str, object] = {}


# watchdog 7 logs this when a file event is still queued while the hook stops its watcher at
# exit (a race inside watchdog, reported to the core); it says nothing about start-up.
WATCHDOG_EXIT_NOISE = "InotifyEmitter.queue_events() called when the thread is inactive"


def stderr_of(text: str) -> str:
    """Return ``text`` (a process's stderr) without watchdog's known exit-time noise."""
    return "".join(
        line for line in text.splitlines(keepends=True) if WATCHDOG_EXIT_NOISE not in line
    )


def clean_env(extra: Optional[dict[str, str]] = None, *, tool: bool = False) -> dict[str, str]:
    """Return ``os.environ`` without any ``PMNC_HOOK_*`` or virtual-env variable, plus extra.

    ``tool``: for pip and venv, which are not under test, also without
    ``PYTHON_LAZY_IMPORTS`` (pip fails with every import lazy; tox's py315-lazy sets it).
    """
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHON_LAZY_IMPORTS" if tool else "")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_") and k not in dropped
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


class Venv:
    """A virtual environment: its interpreter, its site-packages, and ways to run things."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = root / "bin" / "python"
        self.site_packages = Path(
            self.run(
                ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
            ).stdout.strip()
        )

    def run(
        self,
        args: list[str],
        *,
        cwd: Optional[Path] = None,
        env: Optional[dict[str, str]] = None,
        timeout: float = 60,
        check: bool = True,
        tool: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run this environment's python with ``args``; ``env`` adds to a clean environment.

        The result's stderr leaves out watchdog's known exit-time noise (see stderr_of).
        """
        result = subprocess.run(
            [str(self.python), *args],
            cwd=cwd,
            env=clean_env(env, tool=tool),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result.stderr = stderr_of(result.stderr)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{args} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def code(self, code: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
        """Run dedented ``code`` with ``-c``."""
        return self.run(["-c", textwrap.dedent(code)], **kwargs)  # type: ignore[arg-type]

    def pip(self, *args: str) -> None:
        """Run pip; skip the calling test if pip cannot reach a package index."""
        result = self.run(["-m", "pip", *args], timeout=600, check=False, tool=True)
        if result.returncode == 0:
            return
        output = result.stdout + result.stderr
        if any(hint in output for hint in _OFFLINE_HINTS):
            raise _Offline(f"pip cannot reach a package index: {output.strip()[-400:]}")
        raise AssertionError(f"pip {' '.join(args)} failed:\n{output}")


class _Offline(Exception):
    pass


def _create(root: Path) -> Venv:
    subprocess.run(
        [sys.executable, "-m", "venv", str(root)],
        check=True,
        capture_output=True,
        timeout=300,
        env=clean_env(tool=True),
    )
    return Venv(root)


def _once(name: str, build: Callable[[], T]) -> T:
    """Return what ``build()`` made the first time ``name`` was asked for; skip if offline."""
    if name not in _built:
        try:
            _built[name] = build()
        except _Offline as exc:
            _built[name] = _Offline(str(exc))
    built = _built[name]
    if isinstance(built, _Offline):
        pytest.skip(str(built))
    return built  # type: ignore[no-any-return]


def wheel(factory: pytest.TempPathFactory) -> Path:
    """Build pmnc_hook's wheel from the working tree (once per session)."""

    def build() -> Path:
        builder = _create(factory.mktemp("builder") / "venv")
        out = factory.mktemp("wheel")
        builder.pip("wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO))
        (path,) = out.glob("pmnc_hook-*.whl")
        return path

    return _once("wheel", build)


def fresh(factory: pytest.TempPathFactory) -> Venv:
    """A fresh environment with pmnc_hook installed from its wheel (once per session)."""

    def build() -> Venv:
        path = wheel(factory)
        venv = _create(factory.mktemp("fresh") / "venv")
        venv.pip("install", "--quiet", str(path))
        return venv

    return _once("fresh", build)


def editable(factory: pytest.TempPathFactory) -> Venv:
    """A fresh environment with pmnc_hook installed editable from the working tree."""

    def build() -> Venv:
        venv = _create(factory.mktemp("editable") / "venv")
        venv.pip("install", "--quiet", "-e", str(REPO))
        return venv

    return _once("editable", build)


def bare(factory: pytest.TempPathFactory) -> Venv:
    """A fresh environment without pmnc_hook (and without pip: nothing gets installed)."""

    def build() -> Venv:
        root = factory.mktemp("bare") / "venv"
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(root)],
            check=True,
            capture_output=True,
            timeout=300,
            env=clean_env(tool=True),
        )
        return Venv(root)

    return _once("bare", build)
