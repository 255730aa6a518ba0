"""``import bar`` of a managed ``bar.py`` is caught however the program was started.

A direct import would make a second, unmanaged copy of a reloadable module. Whatever the
start mode (``install()`` in a script or a ``-m`` package, the runner with a script or a
``-m`` module, the ``PMNC_HOOK_PATH`` start-up with a script or ``-m``), it gets the managed
module with a ``PmncHookWarning`` at the importing line, or a ``DirectImportError`` in strict
mode. Under ``python -m``, runpy's frames sit at the bottom of every stack: only runpy's own
look-up of the main module is not an import. PEP 810 lazy imports (3.15) are caught where they
are reified.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import venvs
from conftest import clean_env, write

# PYTHON_LAZY_IMPORTS=all (3.15): every import is reified at the name's first use.
LAZY_ALL = getattr(sys, "get_lazy_imports", lambda: "normal")() == "all"
LAZY_SYNTAX = pytest.mark.skipif(sys.version_info < (3, 15), reason="PEP 810 is 3.15+")

BAR = "def f():\n    return 'managed'\n"

# The program's body after its prelude; line numbers are counted from the prelude's end.
BODY = """\
import warnings
warnings.simplefilter("always")
import bar
from pmnc_hook import pmnc
print(bar is pmnc.bar, bar.f(), bar.__spec__.name)
"""
IMPORT_LINE, USE_LINE = 3, 5

LAZY_BODY = """\
import warnings
warnings.simplefilter("always")
lazy import bar
from pmnc_hook import pmnc
print(bar is pmnc.bar, bar.f(), bar.__spec__.name)
"""

LAZY_FROM_BODY = """\
import warnings
warnings.simplefilter("always")
lazy from bar import f
from pmnc_hook import pmnc
print(f is pmnc.bar.f, f(), pmnc.bar.__spec__.name)
"""

INSTALL = "import os, pmnc_hook\npmnc_hook.install([os.getcwd()], watch=False, strict={strict})\n"


def program(directory: Path, mode: str, body: str, strict: bool) -> tuple[list[str], Path, int]:
    """Write the program for ``mode``; return its command line, its file and prelude length."""
    write(directory / "bar.py", BAR)
    prelude = INSTALL.format(strict=strict) if mode in ("script", "package") else ""
    if mode == "package":
        path = write(directory / "pkg" / "__main__.py", prelude + body)
        write(directory / "pkg" / "__init__.py", "")
    else:
        path = write(directory / "app.py", prelude + body)
    flag = ["--strict"] if strict else []
    args = {
        "script": ["app.py"],
        "package": ["-m", "pkg"],
        "runner": ["-m", "pmnc_hook", *flag, "app.py"],
        "runner -m": ["-m", "pmnc_hook", *flag, "-m", "app"],
        "env": ["app.py"],
        "env -m": ["-m", "app"],
    }[mode]
    return args, path, prelude.count("\n")


def run(python: Path, directory: Path, mode: str, args: list[str], strict: bool):
    env = clean_env()
    env.pop("PYTHONPATH", None)
    if mode.startswith("env"):
        env["PMNC_HOOK_PATH"] = str(directory)
        if strict:
            env["PMNC_HOOK_STRICT"] = "1"
    result = subprocess.run(
        [str(python), *args],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    result.stderr = venvs.stderr_of(result.stderr)
    return result


def check(result, path: Path, lines: set[int], strict: bool) -> None:
    where = {f"{path}:{line}" for line in lines}
    if strict:
        assert (result.returncode, result.stdout) == (1, ""), result.stderr
        last = result.stderr.rstrip().splitlines()[-1]
        assert "DirectImportError: " in last, result.stderr
        assert any(f"{w}: 'import bar' would bypass reloading" in last for w in where), last
        assert last.endswith("write pmnc.bar instead (strict mode refuses direct imports)")
        return
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True managed pmnc_hook.modules.bar\n", result.stderr
    warned = [line for line in result.stderr.splitlines() if "PmncHookWarning" in line]
    assert len(warned) == 1, result.stderr
    assert any(warned[0].startswith(f"{w}: PmncHookWarning: 'import bar' gets") for w in where)


def eager_lines(prelude: int) -> set[int]:
    lines = {prelude + IMPORT_LINE}
    return lines | {prelude + USE_LINE} if LAZY_ALL else lines


MODES = ["script", "package", "runner", "runner -m"]


@pytest.mark.parametrize("strict", [False, True], ids=["warn", "strict"])
@pytest.mark.parametrize("mode", MODES)
def test_direct_import(tmp_path, mode, strict):
    args, path, prelude = program(tmp_path, mode, BODY, strict)
    result = run(Path(sys.executable), tmp_path, mode, args, strict)
    check(result, path, eager_lines(prelude), strict)


@LAZY_SYNTAX
@pytest.mark.parametrize("strict", [False, True], ids=["warn", "strict"])
@pytest.mark.parametrize("body", [LAZY_BODY, LAZY_FROM_BODY], ids=["import", "from"])
@pytest.mark.parametrize("mode", MODES)
def test_lazy_import_is_caught_where_it_is_reified(tmp_path, mode, body, strict):
    args, path, prelude = program(tmp_path, mode, body, strict)
    result = run(Path(sys.executable), tmp_path, mode, args, strict)
    check(result, path, {prelude + USE_LINE}, strict)


def test_runpy_running_a_managed_file_is_no_import(tmp_path):
    # runpy.run_module("bar") from a program under python -m: runpy's own look-up of the
    # module it runs is not an import of it, though runpy is on the stack for both.
    write(tmp_path / "bar.py", "print('ran as', __name__)\n")
    write(
        tmp_path / "pkg" / "__main__.py",
        INSTALL.format(strict=True) + "import runpy\nrunpy.run_module('bar', run_name='x')\n",
    )
    write(tmp_path / "pkg" / "__init__.py", "")
    result = run(Path(sys.executable), tmp_path, "package", ["-m", "pkg"], True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ran as x\n", "")


@pytest.fixture(scope="session")
def fresh(tmp_path_factory):
    return venvs.fresh(tmp_path_factory)


@venvs.SLOW
class TestStartUpFreshVenv:
    """The PMNC_HOOK_PATH start-up needs the .pth file: a fresh environment with the wheel."""

    @pytest.mark.parametrize("strict", [False, True], ids=["warn", "strict"])
    @pytest.mark.parametrize("mode", ["env", "env -m"])
    def test_direct_import(self, fresh, tmp_path, mode, strict):
        if mode == "env -m" and sys.version_info < (3, 10):
            pytest.skip("python -m app in a module directory needs sys.orig_argv (3.10+)")
        args, path, prelude = program(tmp_path, mode, BODY, strict)
        result = run(fresh.python, tmp_path, mode, args, strict)
        check(result, path, eager_lines(prelude), strict)

    @LAZY_SYNTAX
    @pytest.mark.parametrize("strict", [False, True], ids=["warn", "strict"])
    @pytest.mark.parametrize("body", [LAZY_BODY, LAZY_FROM_BODY], ids=["import", "from"])
    def test_lazy_import(self, fresh, tmp_path, body, strict):
        args, path, prelude = program(tmp_path, "env", body, strict)
        result = run(fresh.python, tmp_path, "env", args, strict)
        check(result, path, {prelude + USE_LINE}, strict)
