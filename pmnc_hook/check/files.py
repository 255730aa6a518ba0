"""``python -m pmnc_hook --check``: find what breaks reloading, statically, before it breaks.

``check_paths`` checks the files ``targets.plan`` picks, each against the module
directories it will run with; ``main`` is the command line. Nothing is imported or executed.

Module findings (all codes) apply to reloadable modules; program files get PMNC001, PMNC002,
PMNC006 and PMNC007. In a module, ``pmnc`` is the injected facade unless the module rebinds
the name; elsewhere ``pmnc`` counts only when imported (``from pmnc_hook import pmnc``, or
``import pmnc_hook`` then ``pmnc_hook.pmnc``).

Which module directories a file's ``pmnc.<name>`` uses are checked against (PMNC006 lists
them, as the runtime's error does): for a module, the module directories. For a program
that calls ``pmnc_hook.install(paths)``, those paths when they can be read statically (see
``installs``; when they cannot, PMNC006 is not reported for it); the modules of those
directories, when they are among the files checked, are checked as modules against them.
For any other program, ``PMNC_HOOK_PATH``'s directories when it is set, else the module
directories (for a file found in a subdirectory, which some program imports: not known).

A ``# pmnc: ignore[PMNC003]`` (or ``[PMNC001,PMNC003]``, or a bare ``# pmnc: ignore``) comment
on the line a finding is reported at silences it there. Output is sorted by path, line and
column; paths are relative to the current directory when inside it, else absolute. Text
format: ``path:line:col: CODE message`` (``col`` 1-based, in characters). JSON format: an
array of objects with exactly the keys ``path``, ``line``, ``col``, ``code``, ``message``.
Exit status: 0 clean, 1 findings, 2 bad usage (unknown option or code, a missing PATH).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Optional, Union

from pmnc_hook._settings import ENV_PATH
from pmnc_hook.check.findings import CODES, Finding
from pmnc_hook.check.index import ParsedFile
from pmnc_hook.check.installs import installed_directories
from pmnc_hook.check.output import format_json, format_text, write
from pmnc_hook.check.rules import Context
from pmnc_hook.check.source import check_index, index_source
from pmnc_hook.check.targets import (
    Plan,
    Target,
    display,
    is_module_file,
    module_names,
    neighbours,
    not_modules,
    plan,
)

__all__ = ("check_paths", "main", "parse_codes", "select")

_Indexed = Union[ParsedFile, list[Finding]]  # a file's index, or why it has none (PMNC007)


def _read(target: Target, shown: str, *, as_module: bool) -> _Indexed:
    try:
        # Non-blocking, then checked: a FIFO named as a PATH must not hang the checker.
        with open(os.open(target.path, os.O_RDONLY | os.O_NONBLOCK), "rb") as f:
            regular = stat.S_ISREG(os.fstat(f.fileno()).st_mode)
            data = f.read() if regular else b""
    except OSError as exc:
        message = f"cannot be read: {exc.strerror or exc}; fix its permissions"
        return [Finding(shown, 1, 1, "PMNC007", message)]
    if not regular:
        message = "is not a regular file; a module or program is a .py file"
        return [Finding(shown, 1, 1, "PMNC007", message)]
    return index_source(data, shown, as_module=as_module)


def _installed(programs: dict[Target, ParsedFile]) -> dict[Target, Optional[list[str]]]:
    """Return, for each program that calls ``install(paths)``, its module directories
    (``None``: they cannot be read statically)."""
    found: dict[Target, Optional[list[str]]] = {}
    for target, index in programs.items():
        if not index.as_module:
            dirs = installed_directories(index, target.path)
            if dirs is None or dirs:
                found[target] = dirs
    return found


def _installs(installed: dict[Target, Optional[list[str]]]) -> dict[str, list[str]]:
    """Map each directory a program installs (real path) to the directories its modules run
    with: those of every program that installs it."""
    installs: dict[str, list[str]] = {}
    for dirs in installed.values():
        for directory in dirs or ():
            known = installs.setdefault(os.path.realpath(directory), [])
            known.extend(d for d in dirs or () if d not in known)
    return installs


class _Contexts:
    """What each file is checked against (see the module docstring); names read once."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self._contexts: dict[tuple[str, ...], Context] = {}
        self._neighbours: dict[str, frozenset[str]] = {}

    def of_dirs(self, dirs: Sequence[str], shadowed: Collection[str] = frozenset()) -> Context:
        key = tuple(dirs)
        if key not in self._contexts:
            shown = tuple(display(d) for d in key)
            self._contexts[key] = Context(module_names(key), shown, others=not_modules(key))
        context = self._contexts[key]
        return replace(context, shadowed=shadowed) if shadowed else context

    def of_program(self, target: Target, dirs: Optional[Sequence[str]]) -> Context:
        """The context of a program; ``dirs``: what its ``install()`` calls name."""
        directory = os.path.dirname(target.path)
        shadowed: frozenset[str] = frozenset()
        if not target.in_module_dir:
            if directory not in self._neighbours:
                self._neighbours[directory] = neighbours(directory)
            shadowed = self._neighbours[directory]
        complete = dirs is not None
        if not dirs:
            complete = complete and (self.plan.env_dirs is not None or not target.found_below)
            dirs = self.plan.env_dirs or self.plan.module_dirs
        return replace(self.of_dirs(dirs, shadowed), complete=complete)


def check_paths(
    paths: Optional[Sequence[str]] = None, *, environ: Optional[Mapping[str, str]] = None
) -> list[Finding]:
    """Check the module directories and program files named by ``paths``; return findings.

    ``paths`` as on the command line (``None`` or empty: ``PMNC_HOOK_PATH`` from ``environ``,
    default ``os.environ``, else the current directory). Findings are sorted, with paths
    as printed. Raises ``OSError`` for a PATH that does not exist and ``ValueError`` for a
    malformed ``PMNC_HOOK_*`` variable.
    """
    what = plan(paths, environ)
    contexts = _Contexts(what)
    findings: list[Finding] = []
    # Modules of the module directories are checked at once (their trees are not kept: a
    # thousand live trees make every garbage collection slow); the other files wait for
    # what the programs among them install.
    others: dict[Target, tuple[str, ParsedFile]] = {}
    for target in what.targets:
        shown = display(target.path)
        as_module = target.in_module_dir and is_module_file(target.path)
        index = _read(target, shown, as_module=as_module)
        if not isinstance(index, ParsedFile):
            findings.extend(index)
        elif index.as_module:
            findings.extend(check_index(index, shown, contexts.of_dirs(what.module_dirs)))
        else:
            others[target] = (shown, index)
    installed = _installed({target: index for target, (_, index) in others.items()})
    installs = _installs(installed)
    for target, (shown, index) in others.items():
        directory = os.path.realpath(os.path.dirname(target.path))
        if directory in installs and not target.in_module_dir and is_module_file(target.path):
            index = ParsedFile(index.tree, index.data, as_module=True)
            context = contexts.of_dirs(installs[directory])
        else:
            context = contexts.of_program(target, installed.get(target, []))
        findings.extend(check_index(index, shown, context))
    return sorted(findings)


# -- the command line -----------------------------------------------------------------------


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
    write(format_json(findings) if args.format == "json" else format_text(findings))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
