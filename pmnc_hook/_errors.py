"""The library's errors and warnings: one base class, each error naming what went wrong."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = (
    "CycleError",
    "DirectiveError",
    "ModuleLoadError",
    "PmncHookError",
    "PmncHookWarning",
    "UnknownModuleError",
)


class PmncHookError(Exception):
    """Base of every error pmnc_hook raises."""


class ModuleLoadError(PmncHookError, ImportError):
    """A module's first load failed; ``__cause__`` is the original error."""


class DirectiveError(PmncHookError):
    """A directive (``__reloadable__``, ``pmnc_init``) is malformed; names file and line."""

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
    """``pmnc.<name>`` named no module file in the module directories."""

    def __init__(self, name: str, directories: Sequence[str]) -> None:
        where = ", ".join(directories) if directories else "(no module directories installed)"
        super().__init__(
            f"pmnc has no module {name!r}: no file {name}.py in the module directories "
            f"searched: {where}"
        )
        self.name = name
        self.directories = tuple(directories)


class PmncHookWarning(UserWarning):
    """Something works but loses a guarantee, e.g. a direct import of a reloadable module."""
