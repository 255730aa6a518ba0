"""The library's errors and warnings: one base class, each error naming what went wrong."""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing and collections.abc cost the PMNC_HOOK_PATH start-up
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = (
    "CycleError",
    "DirectImportError",
    "UnsafeModuleError",
    "caller_outside",
    "warn_at_caller",
    "DirectiveError",
    "ModuleFileError",
    "ModuleLoadError",
    "PmncHookError",
    "PmncHookWarning",
    "UnknownModuleError",
    "shown",
)


_PUBLIC = "pmnc_hook"


def shown(text: str) -> str:
    """Return ``text`` for a message: as is if printable, else its ``repr`` (a file or module
    name may hold newlines or escape sequences that would forge or garble log lines)."""
    return text if text.isprintable() else repr(text)


class PmncHookError(Exception):
    """Base of every error pmnc_hook raises."""

    __module__ = _PUBLIC


class ModuleLoadError(PmncHookError, ImportError):
    """A module's first load failed; ``__cause__`` is the original error."""

    __module__ = _PUBLIC


class DirectiveError(PmncHookError):
    """A directive (``__reloadable__``, ``pmnc_init``) is malformed; names file and line."""

    __module__ = _PUBLIC

    def __init__(self, message: str, *, filename: str, lineno: int) -> None:
        super().__init__(f"{filename}:{lineno}: {message}")
        self.filename = filename
        self.lineno = lineno


class CycleError(PmncHookError, ImportError):
    """Modules need each other at top level while loading: ``a -> b -> a``."""

    def __init__(self, cycle: Sequence[str]) -> None:
        self.cycle = tuple(cycle)
        chain = " -> ".join(f"pmnc.{name}" for name in self.cycle)
        super().__init__(
            f"cycle of top-level accesses while loading: {chain}; move one of these "
            "accesses into a function so it runs after the modules have loaded",
            name=self.cycle[0] if self.cycle else None,
        )


class UnknownModuleError(PmncHookError, AttributeError):
    """``pmnc.<name>`` named no loadable module file in the module directories.

    ``reasons`` say what is there under that name but cannot be loaded (a directory, a FIFO,
    a dangling symlink, a keyword as the file's stem...); without any, no file was found.
    """

    def __init__(self, name: str, directories: Sequence[str], reasons: Sequence[str] = ()) -> None:
        where = (
            ", ".join(shown(d) for d in directories)
            if directories
            else "(no module directories installed)"
        )
        if reasons:
            found = "; ".join(reasons)
            message = f"pmnc has no module {name!r}: {found}; module directories searched: {where}"
        else:
            message = (
                f"pmnc has no module {name!r}: no file {shown(name + '.py')} in the module "
                f"directories searched: {where}"
            )
        super().__init__(message)
        self.name = name
        self.directories = tuple(directories)
        self.reasons = tuple(reasons)


class ModuleFileError(PmncHookError, OSError):
    """A module file is there but cannot be read as one: not a regular file, unreadable.

    Also an ``OSError`` (``filename`` is the file); the message says what to do.
    """

    def __init__(self, message: str, filename: str) -> None:
        super().__init__(message)
        self.filename = filename

    def __str__(self) -> str:
        return str(self.args[0])  # OSError's own would show "[Errno None] None: <filename>"


class PmncHookWarning(UserWarning):
    """Something works but loses a guarantee, e.g. a direct import of a reloadable module."""

    __module__ = _PUBLIC


class DirectImportError(PmncHookError, ImportError):
    """Strict mode refused ``import <name>`` of a reloadable module (use ``pmnc.<name>``)."""


class UnsafeModuleError(PmncHookError, ImportError):
    """A module file was refused: writable by others (strict mode), or outside its directory."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def caller_outside() -> tuple[str, int, dict[str, object]]:
    """Return (file, line, globals) of the innermost frame outside pmnc_hook and importlib."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not (filename.startswith("<frozen") or filename.startswith(_PACKAGE)):
            return filename, frame.f_lineno, frame.f_globals
        frame = frame.f_back  # type: ignore[assignment]
    return "<unknown>", 0, {}


def warn_at_caller(message: str) -> None:
    """Issue a ``PmncHookWarning`` pointing at the user's line that led here."""
    import warnings

    filename, lineno, f_globals = caller_outside()
    registry = f_globals.setdefault("__warningregistry__", {})
    warnings.warn_explicit(
        message,
        PmncHookWarning,
        filename,
        lineno,
        module=str(f_globals.get("__name__", "")),
        registry=registry if isinstance(registry, dict) else None,
    )
