"""Read module files and decide, cheaply and correctly, whether a file changed.

A change is judged by content. The stat key (size, mtime, ctime, inode, device) only decides
whether hashing is needed: ctime moves on every write and cannot be set back, so restored
mtimes are caught; and a file whose ctime lies within ``RACY_NS`` of the moment its key was
taken is "racy" (git's rule): a second write in the same clock tick could leave an identical
stat, so such a file is hashed again until its key is old enough to trust.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from dataclasses import dataclass
from typing import NamedTuple, Optional

__all__ = (
    "RACY_NS",
    "Fingerprint",
    "Source",
    "StatKey",
    "Unsettled",
    "digest",
    "read_source",
    "stat_key",
)

RACY_NS = 1_000_000_000


class StatKey(NamedTuple):
    """What ``stat`` says about a file: equal keys mean "probably unchanged"."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int


def stat_key(path: str) -> Optional[StatKey]:
    """Return the file's stat key, or ``None`` if it is missing or not a regular file."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return StatKey(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def digest(data: bytes) -> bytes:
    """Return the content hash used to compare versions."""
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass(frozen=True)
class Fingerprint:
    """A file's identity at one moment: its stat key, when it was taken, and its content hash."""

    key: StatKey
    taken_ns: int
    digest: bytes

    def racy(self) -> bool:
        """Tell whether a same-tick write could hide behind an identical stat key."""
        return self.key.ctime_ns >= self.taken_ns - RACY_NS

    def matches(self, key: Optional[StatKey]) -> bool:
        """Tell whether ``key`` proves the file still has this content (no hashing needed)."""
        return key is not None and key == self.key and not self.racy()


@dataclass(frozen=True)
class Source:
    """The bytes of a module file as read once, with the fingerprint they were read under."""

    path: str
    data: bytes
    fingerprint: Fingerprint


class Unsettled(Exception):
    """The file changed while it was being read: it is still being written."""


def read_source(path: str, *, stable: bool = False) -> Optional[Source]:
    """Read ``path``; return ``None`` if it is missing. Other OS errors propagate.

    The key is taken *before* reading, so a write racing the read leaves a key older than the
    content and the next check hashes again instead of trusting a key that hides the change.
    With ``stable``, raise ``Unsettled`` unless the bytes read match the size and the stat
    stayed the same across the read (a writer caught in the middle).
    """
    taken = time.time_ns()
    key = stat_key(path)
    if key is None:
        return None
    try:
        with open(path, "rb") as f:
            data = f.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stable and (len(data) != key.size or stat_key(path) != key):
        raise Unsettled(path)
    return Source(path, data, Fingerprint(key, taken, digest(data)))
