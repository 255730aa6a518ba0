"""Refuse or flag module code that other users of the machine could have written."""

from __future__ import annotations

import os
import stat
import threading

from pmnc_hook._errors import UnsafeModuleError, warn_at_caller

__all__ = ("PermissionGuard", "writable_by_others")


def writable_by_others(path: str) -> bool:
    """Tell whether ``path`` (followed through symlinks) has the ``o+w`` bit."""
    try:
        return bool(os.stat(path).st_mode & stat.S_IWOTH)
    except OSError:
        return False


class PermissionGuard:
    """Check a module file and its directory before loading; warn once per path."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        # Guards _warned (paths already warned about).
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def check(self, name: str, path: str, directory: str) -> None:
        """Raise ``ImportError`` (strict) or warn if the file or its directory is o+w."""
        for target, what in ((directory, "module directory"), (path, "module file")):
            if not writable_by_others(target):
                continue
            message = (
                f"pmnc.{name}: the {what} {target} is writable by other users (o+w); "
                f"anyone on this machine could change the code it runs: chmod o-w {target}"
            )
            if self.strict:
                raise UnsafeModuleError(
                    message + " (refused in strict mode)", name=name, path=target
                )
            with self._lock:
                if target in self._warned:
                    continue
                self._warned.add(target)
            warn_at_caller(message)

    def reset_after_fork(self) -> None:
        """Re-create the lock, which a vanished thread may have held at the fork."""
        self._lock = threading.Lock()
