"""Which files ``--check`` reads, and as what: modules of a module directory, or programs.

- A directory PATH is a module directory. Its ``*.py`` files whose stem can name a module
  (``is_module_name``) are its reloadable modules (a file among them that is evidently a
  program is checked as one: see ``index``). Other ``*.py`` files there (``__init__.py``,
  ``my-tool.py``) are program files.
- Subdirectories of a directory PATH are searched recursively for program files, skipping
  hidden directories, ``__pycache__``, virtual environments (``venv``, any directory holding
  ``pyvenv.cfg``), ``build``, ``dist``, ``node_modules``, ``site-packages`` and directories
  that are module directories themselves.
- A file PATH is checked as a program file, or as what it is in its directory when that is
  a module directory. When only file PATHs are given, the module directories are
  ``PMNC_HOOK_PATH``'s, else the files' own directories.
- No PATH: the directories of ``PMNC_HOOK_PATH``, else the current directory.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Optional

from pmnc_hook._names import is_module_name
from pmnc_hook._settings import ENV_PATH
from pmnc_hook._settings import env_paths as _env_paths

__all__ = (
    "Plan",
    "Target",
    "display",
    "is_module_file",
    "module_names",
    "neighbours",
    "not_modules",
    "plan",
)

_SKIP_DIRS = frozenset({"__pycache__", "venv", "build", "dist", "node_modules", "site-packages"})


@dataclass(frozen=True)
class Target:
    """One file to check: its absolute path, whether it lies in a module directory, and
    whether it was found in a subdirectory (rather than named or in a module directory)."""

    path: str
    in_module_dir: bool
    found_below: bool = False


@dataclass(frozen=True)
class Plan:
    """What one run checks: the module directories (absolute), the directories
    ``PMNC_HOOK_PATH`` names (``None`` if it is unset), and the files."""

    module_dirs: tuple[str, ...]
    env_dirs: Optional[tuple[str, ...]]
    targets: tuple[Target, ...]


def display(path: str) -> str:
    """Return ``path`` as printed: relative to the current directory when inside it."""
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, cwd)
    return absolute


def _skip_dir(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    if name.startswith(".") or name in _SKIP_DIRS or name.endswith(".egg-info"):
        return True
    return os.path.exists(os.path.join(entry.path, "pyvenv.cfg"))


def _py_files(directory: str) -> list[str]:
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    return sorted(e.path for e in entries if e.name.endswith(".py") and e.is_file())


def _program_files(directory: str, module_dirs: Collection[str]) -> Iterator[str]:
    """Yield ``*.py`` files in the subdirectories of ``directory``, recursively."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir(follow_symlinks=False) or _skip_dir(entry):
            continue
        if os.path.realpath(entry.path) not in module_dirs:
            yield from _py_files(entry.path)
            yield from _program_files(entry.path, module_dirs)


def _env_dirs(environ: Optional[Mapping[str, str]], *, required: bool) -> Optional[tuple[str, ...]]:
    """Return ``PMNC_HOOK_PATH``'s directories; one that is none is an error if they are
    ``required`` (no directory PATH given), else it is left out."""
    env_paths = _env_paths(environ)
    if not env_paths:
        return None
    for path in env_paths:
        if required and not os.path.isdir(path):
            raise NotADirectoryError(f"{ENV_PATH} names {path}, which is no directory")
    return tuple(dict.fromkeys(os.path.abspath(p) for p in env_paths if os.path.isdir(p)))


def plan(paths: Optional[Sequence[str]], environ: Optional[Mapping[str, str]]) -> Plan:
    """Return what to check for these PATHs; raise OSError/ValueError for bad PATHs."""
    given = list(paths or ())
    for path in given:
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file or directory: {path}")
    dirs = [os.path.abspath(p) for p in given if os.path.isdir(p)]
    env_dirs = _env_dirs(environ, required=not dirs)
    files = [os.path.abspath(p) for p in given if not os.path.isdir(p)]
    scanned = dirs
    if not dirs:
        if env_dirs:
            dirs = list(env_dirs)
        elif files:
            dirs = [os.path.dirname(f) for f in files]
        else:
            dirs = [os.getcwd()]
        scanned = [] if files else dirs
    module_dirs = tuple(dict.fromkeys(dirs))
    real_dirs = {os.path.realpath(d) for d in module_dirs}
    targets: dict[str, Target] = {}

    def add(target: Target) -> None:
        real = os.path.realpath(target.path)
        if real not in targets or target.in_module_dir or targets[real].found_below:
            targets[real] = target

    for directory in dict.fromkeys(scanned):
        for path in _py_files(directory):
            add(Target(path, True))
        for path in _program_files(directory, real_dirs):
            add(Target(path, False, found_below=True))
    for path in files:
        add(Target(path, os.path.realpath(os.path.dirname(path)) in real_dirs))
    return Plan(module_dirs, env_dirs, tuple(targets.values()))


def is_module_file(path: str) -> bool:
    """Tell whether ``path``, in a module directory, is a file ``pmnc.<name>`` can load."""
    stem, ext = os.path.splitext(os.path.basename(path))
    return ext == ".py" and is_module_name(stem)


def module_names(module_dirs: Sequence[str]) -> dict[str, str]:
    """Map the module names of these directories to their files (the first one wins)."""
    names: dict[str, str] = {}
    for directory in module_dirs:
        for path in _py_files(directory):
            if is_module_file(path):
                names.setdefault(os.path.basename(path)[:-3], path)
    return names


def not_modules(module_dirs: Sequence[str]) -> dict[str, str]:
    """Map the names that are in these directories but are no module file to what they are
    (a directory, a ``<name>.py`` that is not a regular file), as PMNC006 says it."""
    found: dict[str, str] = {}
    for directory in module_dirs:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            stem = entry.name[:-3] if entry.name.endswith(".py") else entry.name
            if not is_module_name(stem) or entry.is_file():
                continue
            kind = "a directory" if entry.is_dir() else "not a regular file"
            if entry.name.endswith(".py") or entry.is_dir():
                found.setdefault(stem, f"{display(entry.path)} is {kind}")
    return found


def neighbours(directory: str) -> frozenset[str]:
    """Return the names a direct import finds next to a file in ``directory``."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return frozenset()
    return frozenset(
        e.name[:-3] if e.name.endswith(".py") else e.name
        for e in entries
        if e.name.endswith(".py") or e.is_dir()
    )
