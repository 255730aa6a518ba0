"""``python -m pmnc_hook --check``: find what breaks reloading, statically, before it breaks.

Reads module files as bytes and parses them with ``ast.parse`` (PEP 263 cookies work), using
the loader's own directive scanner; nothing is imported or executed.

Which files are checked, and as what:

- A directory PATH is a module directory. Its ``*.py`` files whose stem can name a module
  (``is_module_name``) are its reloadable modules. Among them, a file that is evidently a
  program (a module-level ``if __name__ == "__main__":``, a ``#!`` first line, or a use of
  ``pmnc_hook.install``) is checked as a program file instead: the runner never reloads its
  script. Other ``*.py`` files there (``__init__.py``, ``my-tool.py``) are program files.
- Subdirectories of a directory PATH are searched recursively for program files, skipping
  hidden directories, ``__pycache__``, virtual environments (``venv``, any directory holding
  ``pyvenv.cfg``), ``build``, ``dist``, ``node_modules``, ``site-packages`` and directories
  that are module directories themselves.
- A file PATH is checked as a program file, or as what it is in its directory when that is a
  module directory. When only file PATHs are given, the module directories are
  ``PMNC_HOOK_PATH``'s, else the files' own directories.
- No PATH: the directories of ``PMNC_HOOK_PATH``, else the current directory.

Module findings (all codes) apply to reloadable modules; program files get PMNC001, PMNC002,
PMNC006 and PMNC007. In a module, ``pmnc`` is the injected facade unless the module rebinds
the name; elsewhere ``pmnc`` counts only when imported (``from pmnc_hook import pmnc``, or
``import pmnc_hook`` then ``pmnc_hook.pmnc``), so the injected-``pmnc`` modules of some other
module directory met while recursing are not checked against the wrong directories.

A ``# pmnc: ignore[PMNC003]`` (or ``[PMNC001,PMNC003]``, or a bare ``# pmnc: ignore``) comment
on the line a finding is reported at silences it there. Output is sorted by path, line and
column; paths are relative to the current directory when inside it, else absolute. Text
format: ``path:line:col: CODE message`` (``col`` 1-based, in characters). JSON format: an
array of objects with exactly the keys ``path``, ``line``, ``col``, ``code``, ``message``.
Exit status: 0 clean, 1 findings, 2 bad usage (unknown option or code, a missing PATH).
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import os
import re
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Optional, Union

from pmnc_hook._names import is_module_name
from pmnc_hook._settings import ENV_PATH, EnvSettings
from pmnc_hook.check.rules import CODES, RawFinding, find_problems

__all__ = (
    "CODES",
    "Finding",
    "check_paths",
    "check_source",
    "format_json",
    "format_text",
    "main",
    "parse_codes",
    "select",
)

_SKIP_DIRS = frozenset({"__pycache__", "venv", "build", "dist", "node_modules", "site-packages"})
_IGNORE = re.compile(r"#\s*pmnc:\s*ignore\b\s*(?:\[([^\]]*)\])?", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Finding:
    """One problem: where (1-based line and column, path as printed) and what to do."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def format(self) -> str:
        """Return the ``path:line:col: CODE message`` line."""
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


# -- one file ---------------------------------------------------------------------------


def _lines(data: bytes) -> list[str]:
    try:
        text = importlib.util.decode_source(data)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _suppressed(line: str, code: str) -> bool:
    for match in _IGNORE.finditer(line):
        listed = match.group(1)
        if listed is None or code in {c.strip().upper() for c in listed.split(",")}:
            return True
    return False


def check_source(
    data: bytes,
    path: str = "<source>",
    *,
    modules: Union[Mapping[str, str], Collection[str]] = (),
    as_module: bool = True,
    shadowed: Collection[str] = (),
) -> list[Finding]:
    """Check one file's bytes; return its findings, sorted, suppression comments applied.

    ``modules``: the module names in the module directories (a mapping to their files or a
    collection of names). ``as_module``: the file lies in a module directory (it is still
    checked as a program if it is evidently one). ``shadowed``: names that a direct import
    from this file resolves to a file or package next to it rather than to a module.
    ``path`` is used as given.
    """
    names: Mapping[str, str] = (
        modules if isinstance(modules, Mapping) else {name: name for name in modules}
    )
    raw: list[RawFinding]
    lines: Optional[list[str]] = None
    try:
        tree = ast.parse(data, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc) or type(exc).__name__
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        line = getattr(exc, "lineno", None) or 1
        col = getattr(exc, "offset", None) or 1
        raw = [
            (
                line,
                col,
                "PMNC007",
                f"cannot be parsed by Python {version}: {message}; fix it, or it cannot load",
            )
        ]
        lines = _lines(data)
        syntax = True
    else:
        syntax = False
        raw = find_problems(tree, data, names, as_module=as_module, shadowed=set(shadowed))
    findings: set[Finding] = set()
    for line, col, code, message in raw:
        if lines is None:
            lines = _lines(data)
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        if not syntax:  # AST columns are 0-based UTF-8 bytes; editors count characters
            if not text.isascii():
                col = len(text.encode("utf-8")[:col].decode("utf-8", "replace"))
            col += 1
        col = max(1, min(col, len(text) + 1))
        line = max(line, 1)
        if not _suppressed(text, code):
            findings.add(Finding(path, line, col, code, message))
    return sorted(findings)


# -- which files ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    path: str
    in_module_dir: bool


def _display(path: str) -> str:
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


def _resolve(
    paths: Optional[Sequence[str]], environ: Optional[Mapping[str, str]]
) -> tuple[list[str], list[_Target]]:
    """Return (module directories, files to check); raise OSError/ValueError for bad PATHs."""
    given = list(paths or ())
    for path in given:
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file or directory: {path}")
    dirs = [os.path.abspath(p) for p in given if os.path.isdir(p)]
    files = [os.path.abspath(p) for p in given if not os.path.isdir(p)]
    scanned = dirs
    if not dirs:
        env_paths = EnvSettings.read(environ).paths
        if env_paths:
            for path in env_paths:
                if not os.path.isdir(path):
                    raise NotADirectoryError(f"{ENV_PATH} names {path}, which is no directory")
            dirs = [os.path.abspath(p) for p in env_paths]
        elif files:
            dirs = [os.path.dirname(f) for f in files]
        else:
            dirs = [os.getcwd()]
        scanned = [] if files else dirs
    module_dirs = list(dict.fromkeys(dirs))
    real_dirs = {os.path.realpath(d) for d in module_dirs}
    targets: dict[str, _Target] = {}

    def add(path: str, in_module_dir: bool) -> None:
        real = os.path.realpath(path)
        if real not in targets or in_module_dir:
            targets[real] = _Target(path, in_module_dir)

    for directory in dict.fromkeys(scanned):
        for path in _py_files(directory):
            add(path, True)
        for path in _program_files(directory, real_dirs):
            add(path, False)
    for path in files:
        add(path, os.path.realpath(os.path.dirname(path)) in real_dirs)
    return module_dirs, list(targets.values())


def _is_module_file(path: str) -> bool:
    """Tell whether ``path``, in a module directory, is a file ``pmnc.<name>`` can load."""
    stem, ext = os.path.splitext(os.path.basename(path))
    return ext == ".py" and is_module_name(stem)


def _module_names(module_dirs: Sequence[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for directory in module_dirs:
        for path in _py_files(directory):
            if _is_module_file(path):
                names.setdefault(os.path.basename(path)[:-3], path)
    return names


def _neighbours(directory: str) -> frozenset[str]:
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


def check_paths(
    paths: Optional[Sequence[str]] = None, *, environ: Optional[Mapping[str, str]] = None
) -> list[Finding]:
    """Check the module directories and program files named by ``paths``; return findings.

    ``paths`` as on the command line (``None`` or empty: ``PMNC_HOOK_PATH`` from ``environ``,
    default ``os.environ``, else the current directory). Findings are sorted, with paths
    as printed. Raises ``OSError`` for a PATH that does not exist and ``ValueError`` for a
    malformed ``PMNC_HOOK_*`` variable.
    """
    module_dirs, targets = _resolve(paths, environ)
    modules = _module_names(module_dirs)
    neighbours: dict[str, frozenset[str]] = {}
    findings: list[Finding] = []
    for target in targets:
        shown = _display(target.path)
        shadowed: frozenset[str] = frozenset()
        if not target.in_module_dir:
            directory = os.path.dirname(target.path)
            if directory not in neighbours:
                neighbours[directory] = _neighbours(directory)
            shadowed = neighbours[directory]
        try:
            with open(target.path, "rb") as f:
                data = f.read()
        except OSError as exc:
            message = f"cannot be read: {exc.strerror or exc}; fix its permissions"
            findings.append(Finding(shown, 1, 1, "PMNC007", message))
            continue
        findings.extend(
            check_source(
                data,
                shown,
                modules=modules,
                as_module=target.in_module_dir and _is_module_file(target.path),
                shadowed=shadowed,
            )
        )
    return sorted(findings)


# -- output and command line ------------------------------------------------------------


def parse_codes(values: Iterable[str]) -> frozenset[str]:
    """Turn ``--select``/``--ignore`` values (comma-separated) into codes; ValueError if unknown."""
    codes = {c.strip().upper() for value in values for c in value.split(",") if c.strip()}
    unknown = sorted(codes - set(CODES))
    if unknown:
        raise ValueError(f"unknown code {', '.join(unknown)} (known: {', '.join(CODES)})")
    return frozenset(codes)


def select(
    findings: Iterable[Finding],
    selected: Optional[Collection[str]] = None,
    ignored: Collection[str] = (),
) -> list[Finding]:
    """Keep the findings whose code is selected (``None``: all) and not ignored."""
    return [
        f for f in findings if (selected is None or f.code in selected) and f.code not in ignored
    ]


def format_text(findings: Iterable[Finding]) -> str:
    """Return one ``path:line:col: CODE message`` line per finding."""
    return "".join(f.format() + "\n" for f in findings)


def format_json(findings: Iterable[Finding]) -> str:
    """Return a JSON array of ``{path, line, col, code, message}`` objects."""
    return json.dumps([asdict(f) for f in findings], indent=2) + "\n"


def _parser() -> argparse.ArgumentParser:
    codes = "\n".join(f"  {code}  {text}" for code, text in CODES.items())
    parser = argparse.ArgumentParser(
        prog="python -m pmnc_hook --check",
        description="Find what breaks reloading, statically: nothing is executed.",
        epilog=f"codes:\n{codes}\n\nexit status: 0 clean, 1 findings, 2 bad usage",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help=f"module directories or program files (default: {ENV_PATH}, else .)",
    )
    parser.add_argument("--select", action="append", default=[], metavar="CODES",
                        help="report only these codes (comma-separated, repeatable)")  # fmt: skip
    parser.add_argument("--ignore", action="append", default=[], metavar="CODES",
                        help="do not report these codes (comma-separated, repeatable)")  # fmt: skip
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def _write(text: str) -> None:
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))
    sys.stdout.flush()


def main(argv: Sequence[str]) -> int:
    """Run the checker with these arguments (those after ``--check``); return the exit status."""
    parser = _parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        selected = parse_codes(args.select) or None
        ignored = parse_codes(args.ignore)
        findings = select(check_paths(args.paths), selected, ignored)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"{parser.prog}: error: {exc}\n")
        return 2
    _write(format_json(findings) if args.format == "json" else format_text(findings))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
