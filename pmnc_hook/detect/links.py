"""Know which module files are symlinks to a file beside them, and to which.

A module file may be a symlink to a sibling (``bar.py -> bar_v2.py``; the registry refuses
links leading out of the directory). Writes to it reach the watcher under the target's name, so
a notice for ``bar_v2.py`` is also one for ``bar.py``; and while ``bar_v2.py`` has a notice of
its own (say, its writer still holds it open), a notice for ``bar.py`` waits for that one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Optional

__all__ = ("Links",)


class Links:
    """Remember which module paths are symlinks; ask the file system only about paths not
    seen before or just noticed (used by the detector thread alone)."""

    def __init__(self) -> None:
        self._real: dict[str, Optional[str]] = {}  # module path -> real path if a symlink
        self._linking: dict[str, list[str]] = {}  # real path -> module paths linking to it

    def refresh(self, modules: Iterable[str], noticed: Iterable[str]) -> None:
        """Take the loaded modules' paths; look again at the ``noticed`` ones (a link may
        have been replaced)."""
        known = self._real
        for path in noticed:
            known.pop(path, None)
        self._real = {p: known[p] if p in known else _link_target(p) for p in modules}
        self._linking = {}
        for path, real in self._real.items():
            if real is not None:
                self._linking.setdefault(real, []).append(path)

    def target(self, path: str) -> Optional[str]:
        """Return the path (in ``path``'s directory) of the file module ``path`` links to."""
        real = self._real.get(path)
        if real is None:
            return None
        return os.path.join(os.path.dirname(path), os.path.basename(real))

    def judged_with(self, path: str) -> list[str]:
        """Return ``path`` and the module paths that are symlinks to it."""
        if not self._linking:
            return [path]  # the usual case: no module is a symlink, no system call
        linked = self._linking.get(os.path.realpath(path), [])
        return [path, *(p for p in linked if p != path)]


def _link_target(path: str) -> Optional[str]:
    if not os.path.islink(path):
        return None
    return os.path.realpath(path)
