"""The test matrix: every version tox runs is a classifier, and toxfile.py finds pyenv's
interpreters with no ``PYENV_VERSION`` set (plain ``tox`` used to skip them)."""

from __future__ import annotations

import configparser
import importlib.util
import re
import stat
import sys
from pathlib import Path

from conftest import REPO

VERSIONS = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]


def toxfile():
    spec = importlib.util.spec_from_file_location("pmnc_toxfile", REPO / "toxfile.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tox_runs_every_version_plus_lazy_imports_lint_and_type():
    config = configparser.ConfigParser()
    config.read(REPO / "tox.ini")
    envs = [e.strip() for e in config["tox"]["env_list"].split(",")]
    expected = ["py" + v.replace(".", "") for v in VERSIONS] + ["py315-lazy", "lint", "type"]
    assert envs == expected
    lazy = config["testenv:py315-lazy"]["commands"]
    assert lazy.count("PYTHON_LAZY_IMPORTS=all") == 2 and "pytest" in lazy
    assert toxfile().MATRIX == tuple(VERSIONS)


def test_every_version_tested_is_a_classifier():
    text = (REPO / "pyproject.toml").read_text()
    classified = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', text)
    assert classified == VERSIONS
    assert 'requires-python = ">=3.9"' in text


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_pyenv_versions_are_found_though_the_shim_does_not_run(tmp_path, monkeypatch):
    """A machine like the CI's: pyenv's shim for 3.9 fails (3.9 is not the active version),
    pyenv keeps 3.9.7 and 3.9.18; the newest one is what tox gets."""
    real = sys.executable
    shims = tmp_path / "shims"
    shim = "#!/bin/sh\necho 'pyenv: python3.9: command not found' >&2\nexit 127\n"
    executable(shims / "python3.9", shim)
    for patch in ("7", "18"):
        executable(
            tmp_path / "pyenv" / "versions" / f"3.9.{patch}" / "bin" / "python3.9",
            f"#!/bin/sh\nexec {real} -c 'print(\"3.9\")'\n",
        )
    (tmp_path / "pyenv" / "versions" / "3.9-dev" / "bin").mkdir(parents=True)
    monkeypatch.setenv("PATH", str(shims))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.delenv("PYENV_VERSION", raising=False)
    found = toxfile().find_python("3.9")
    assert found == str(tmp_path / "pyenv" / "versions" / "3.9.18" / "bin" / "python3.9")


def test_a_working_interpreter_on_path_comes_first(tmp_path, monkeypatch):
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    link = tmp_path / "bin" / f"python{version}"
    link.parent.mkdir()
    link.symlink_to(sys.executable)
    monkeypatch.setenv("PATH", str(link.parent))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    assert toxfile().find_python(version) == str(link)


def test_a_version_nowhere_is_none(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))
    assert toxfile().find_python("3.1") is None


def _readme_commands() -> dict[str, str]:
    """The README's two set-up commands, keyed by their comment."""
    text = (REPO / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert block, "the README's first shell block holds the set-up commands"
    found = {}
    for line in block.group(1).splitlines():
        command, _, comment = line.partition("#")
        found[comment.strip()] = command.strip()
    return found


def test_ci_runs_the_readme_test_command_exactly_and_sets_no_python_version():
    command = _readme_commands()["run the tests"]
    script = (REPO / ".ci" / "run").read_text()
    lines = [line.strip() for line in script.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    assert lines[-1] == command, f".ci/run does not end with the README's {command!r}"
    assert lines.count(command) == 1
    # Nothing before it picks interpreters for tox: toxfile.py finds them itself.
    assert "PYENV_VERSION" not in script
    assert not re.search(r"^\s*(export\s+)?(TOX_|PY_COLORS)", script, re.M)


def test_ci_fails_early_naming_a_missing_version(monkeypatch, tmp_path, capsys):
    # .ci/run (set -e) runs `python toxfile.py` before the README's command: exit 1, naming it.
    script = (REPO / ".ci" / "run").read_text()
    assert script.index("python toxfile.py") < script.index(_readme_commands()["run the tests"])
    spec = importlib.util.spec_from_file_location("toxfile_ci", REPO / "toxfile.py")
    assert spec and spec.loader
    toxfile = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(toxfile)
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path))  # no pyenv builds
    monkeypatch.setattr(toxfile, "MATRIX", (f"{sys.version_info[0]}.{sys.version_info[1]}", "3.99"))
    assert toxfile.main() == 1
    out, err = capsys.readouterr()
    assert "python3.99: MISSING" in out and "no CPython 3.99" in err
