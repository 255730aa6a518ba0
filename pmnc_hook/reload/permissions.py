"""Refuse or flag module code that other users of the machine could have written or swapped.

Like OpenSSH's StrictModes: the module file and its directory must not be writable by others
(o+w), and no directory above the module directory may let others rename its entries (o+w
without the sticky bit, which ``/tmp`` has): whoever can rename the module directory away can
put other code in its place.
"""

from __future__ import annotations

import os
import stat
import threading

from pmnc_hook._errors import UnsafeModuleError, shown, warn_at_caller

__all__ = ("PermissionGuard", "exposed_ancestors", "writable_by_others")


def writable_by_others(path: str) -> bool:
    """Tell whether ``path`` (followed through symlinks) has the ``o+w`` bit."""
    try:
        return bool(os.stat(path).st_mode & stat.S_IWOTH)
    except OSError:
        return False


def _lets_others_rename(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWOTH) and not mode & stat.S_ISVTX


def exposed_ancestors(directory: str) -> list[str]:
    """Return the directories above ``directory`` in which others may rename entries.

    Both the path as given and its real path are walked up to ``/`` (a symlink on the way
    lives in a directory too), nearest first; each directory is named once.
    """
    found: list[str] = []
    seen: set[str] = set()
    for start in (os.path.abspath(directory), os.path.realpath(directory)):
        current = os.path.dirname(start)
        while current not in seen:
            seen.add(current)
            if _lets_others_rename(current):
                found.append(current)
            parent = os.path.dirname(current)
            if parent == current:
                break
            current = parent
    return found


class PermissionGuard:
    """Check a module file, its directory and the directories above before loading.

    Warn once per path (``PmncHookWarning``); in strict mode raise ``UnsafeModuleError``.
    """

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        # Guards _warned (paths already warned about).
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    def check(self, name: str, path: str, directory: str) -> None:
        """Raise ``UnsafeModuleError`` (strict) or warn for each path others could change."""
        for target, what in ((path, "module file"), (directory, "module directory")):
            if writable_by_others(target):
                self._flag(
                    name,
                    target,
                    f"pmnc.{name}: the {what} {shown(target)} is writable by other users (o+w); "
                    f"anyone on this machine could change the code it runs: "
                    f"chmod o-w {shown(target)}",
                )
        for target in exposed_ancestors(directory):
            self._flag(
                name,
                target,
                f"pmnc.{name}: {shown(target)}, a directory above the module directory "
                f"{shown(directory)}, is writable by other users without the sticky bit (o+w, "
                "no +t); anyone on this machine could rename the module directory away and "
                f"put other code in its place: chmod o-w {shown(target)} (or chmod +t)",
            )

    def _flag(self, name: str, target: str, message: str) -> None:
        if self.strict:
            raise UnsafeModuleError(message + " (refused in strict mode)", name=name, path=target)
        with self._lock:
            if target in self._warned:
                return
            self._warned.add(target)
        warn_at_caller(message)

    def reset_after_fork(self) -> None:
        """Re-create the lock, which a vanished thread may have held at the fork."""
        self._lock = threading.Lock()
