"""What the checker reports: the codes, a rule's raw finding, and a finding as printed."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

__all__ = ("CODES", "Finding", "RawFinding", "raw")

CODES: Mapping[str, str] = {
    "PMNC001": "direct import of a reloadable module",
    "PMNC002": "pmnc.<name> value captured at import time or in a default argument",
    "PMNC003": "module state changed at run time, with no pmnc_init to migrate it",
    "PMNC004": "pmnc_init with the wrong signature, or defined below module level",
    "PMNC005": "__reloadable__ not a literal, or set to different values",
    "PMNC006": "pmnc.<name> names no module in the module directories",
    "PMNC007": "the file cannot be read, decoded or parsed",
}

# (line, col, code, message): 1-based line, 0-based column in UTF-8 bytes (as the AST gives
# them), before suppression comments; check_source maps columns to characters.
RawFinding = tuple[int, int, str, str]


def raw(where: Union[ast.AST, tuple[int, int]], code: str, message: str) -> RawFinding:
    """Return the raw finding ``code`` at a node (its line and column) or at (line, col)."""
    if isinstance(where, tuple):
        line, col = where
    else:
        line, col = getattr(where, "lineno", 1), getattr(where, "col_offset", 0)
    return (line, col, code, message)


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
