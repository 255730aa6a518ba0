"""Print findings: one ``path:line:col: CODE message`` line each, or a JSON array."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import asdict

from pmnc_hook.check.findings import Finding

__all__ = ("format_json", "format_text", "write")


def format_text(findings: Iterable[Finding]) -> str:
    """Return one ``path:line:col: CODE message`` line per finding."""
    return "".join(f.format() + "\n" for f in findings)


def format_json(findings: Iterable[Finding]) -> str:
    """Return a JSON array of ``{path, line, col, code, message}`` objects."""
    return json.dumps([asdict(f) for f in findings], indent=2) + "\n"


def write(text: str) -> None:
    """Write ``text`` to stdout; characters its encoding lacks become backslash escapes."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))
    sys.stdout.flush()
