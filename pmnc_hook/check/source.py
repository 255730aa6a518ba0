"""Check one file's bytes: parse (PMNC007 if it cannot be), index, run the rules, and turn
raw findings into printed ones (character columns, ``# pmnc: ignore`` comments applied).

Bytes are parsed with ``ast.parse`` (PEP 263 cookies work); nothing is imported or executed.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Union

from pmnc_hook.check.findings import Finding, RawFinding
from pmnc_hook.check.index import ParsedFile
from pmnc_hook.check.rules import Context, find_problems

__all__ = ("check_index", "check_source", "index_source")

_IGNORE = re.compile(r"#\s*pmnc:\s*ignore\b\s*(?:\[([^\]]*)\])?", re.IGNORECASE)


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


def _report(data: bytes, path: str, found: Iterable[RawFinding], *, syntax: bool) -> list[Finding]:
    """Turn raw findings into sorted findings; drop those a comment on their line silences.

    ``syntax``: the columns are a ``SyntaxError``'s (1-based characters), not the AST's.
    """
    findings: set[Finding] = set()
    lines: list[str] = []
    for line, col, code, message in found:
        if not lines:
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


def index_source(data: bytes, path: str, *, as_module: bool) -> Union[ParsedFile, list[Finding]]:
    """Parse and index ``data``; return the index, or the PMNC007 findings if it cannot be
    parsed. ``as_module``: it lies in a module directory and its name can name a module."""
    try:
        tree = ast.parse(data, filename=path)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        message = exc.msg if isinstance(exc, SyntaxError) else str(exc) or type(exc).__name__
        version = f"{sys.version_info[0]}.{sys.version_info[1]}"
        line = getattr(exc, "lineno", None) or 1
        col = getattr(exc, "offset", None) or 1
        text = f"cannot be parsed by Python {version}: {message}; fix it, or it cannot load"
        return _report(data, path, [(line, col, "PMNC007", text)], syntax=True)
    return ParsedFile(tree, data, as_module=as_module)


def check_index(index: ParsedFile, path: str, context: Context) -> list[Finding]:
    """Run every rule over ``index`` against ``context``; return the findings, sorted."""
    return _report(index.data, path, find_problems(index, context), syntax=False)


def check_source(
    data: bytes,
    path: str = "<source>",
    *,
    modules: Union[Mapping[str, str], Collection[str]] = (),
    as_module: bool = True,
    shadowed: Collection[str] = (),
    searched: Sequence[str] = (),
) -> list[Finding]:
    """Check one file's bytes; return its findings, sorted, suppression comments applied.

    ``modules``: the module names in the module directories (a mapping to their files or a
    collection of names); ``searched``: those directories, as PMNC006 names them.
    ``as_module``: the file lies in a module directory (it is still checked as a program
    if it is evidently one). ``shadowed``: names that a direct import from this file
    resolves to a file or package next to it rather than to a module. ``path`` is used as
    given.
    """
    names = modules if isinstance(modules, Mapping) else {name: name for name in modules}
    parsed = index_source(data, path, as_module=as_module)
    if not isinstance(parsed, ParsedFile):
        return parsed
    return check_index(parsed, path, Context(names, tuple(searched), frozenset(shadowed)))
