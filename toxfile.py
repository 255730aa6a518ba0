"""tox's inline plugin: find every CPython the matrix names, wherever this machine keeps it.

tox finds ``python3.X`` on ``PATH``. On a pyenv machine that is a shim, which runs only the
versions pyenv has made active, so plain ``tox`` skipped every other one it had. For each
``py3X`` environment this plugin tells tox where that interpreter is: a working
``python3.X`` on ``PATH``, else the newest ``3.X.N`` under pyenv's ``versions`` directory,
else the usual install prefixes. Where none is found, tox reports the environment as
skipped, except under CI (``CI`` set), where every version must be there and a missing one
fails the run.

``python toxfile.py`` prints what it finds for each version of the matrix and exits 1 if
one is missing (``.ci/run`` runs it first, to fail early and say which).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

MATRIX = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
_ENV = re.compile(r"py3(\d+)(?:-.*)?")


def _runs(executable: str, version: str) -> bool:
    """Tell whether ``executable`` starts and is CPython ``version`` (a shim may not start)."""
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        result = subprocess.run(
            [executable, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def _pyenv(version: str) -> list[str]:
    """Return pyenv's builds of ``version``, newest patch first."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found: list[tuple[int, str]] = []
    try:
        entries = list((root / "versions").iterdir())
    except OSError:
        return []
    for entry in entries:
        match = re.fullmatch(re.escape(version) + r"\.(\d+)", entry.name)
        executable = entry / "bin" / f"python{version}"
        if match and executable.is_file():
            found.append((int(match.group(1)), str(executable)))
    return [executable for _, executable in sorted(found, reverse=True)]


@cache
def find_python(version: str) -> str | None:
    """Return a path to a working CPython ``version`` ("3.X") on this machine, or None."""
    candidates = [shutil.which(f"python{version}") or ""]
    candidates += _pyenv(version)
    candidates += [
        f"/usr/local/bin/python{version}",
        f"/usr/bin/python{version}",
        f"/opt/python-{version}/usr/bin/python{version}",
    ]
    for candidate in dict.fromkeys(c for c in candidates if c):
        if os.access(candidate, os.X_OK) and _runs(candidate, version):
            return candidate
    return None


try:
    from tox.config.loader.memory import MemoryLoader
    from tox.plugin import impl
except ImportError:  # run as a script, without tox
    pass
else:
    from tox.config.sets import ConfigSet, EnvConfigSet
    from tox.session.state import State

    @impl
    def tox_add_core_config(core_conf: ConfigSet, state: State) -> None:
        """Under CI, a missing interpreter fails the run instead of being skipped."""
        if os.environ.get("CI"):
            core_conf.loaders.insert(0, MemoryLoader(skip_missing_interpreters=False))

    @impl
    def tox_add_env_config(env_conf: EnvConfigSet, state: State) -> None:
        """Point a ``py3X`` environment at the interpreter ``find_python`` finds."""
        match = _ENV.fullmatch(env_conf.name)
        if match is None:
            return
        executable = find_python(f"3.{match.group(1)}")
        if executable is not None:
            env_conf.loaders.insert(0, MemoryLoader(base_python=[executable]))


def main() -> int:
    """Print the interpreter found for each version of the matrix; 1 if one is missing."""
    missing = []
    for version in MATRIX:
        executable = find_python(version)
        print(f"python{version}: {executable or 'MISSING'}")
        if executable is None:
            missing.append(version)
    if missing:
        print(f"no CPython {', '.join(missing)} on this machine", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
