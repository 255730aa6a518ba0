"""Read module files safely, and decide, cheaply and correctly, whether a file changed.

A module file is opened once: its real path is checked to lie in its module directory, the
name is opened there without following a symlink and without blocking (a FIFO put in its
place must not hang the reader), and the descriptor is ``fstat``-ed: it must be a regular file,
the very one that was checked (same device and inode). A swap between the check and the open
is caught, and the check runs again on what is there now.

A change is judged by content. The stat key (size, mtime, ctime, inode, device) only decides
whether hashing is needed: ctime moves on every write and cannot be set back, so restored
mtimes are caught; and a file whose ctime lies within ``RACY_NS`` of the moment its key was
taken is "racy" (git's rule): a second write in the same clock tick could leave an identical
stat, so such a file is hashed again until its key is old enough to trust.
"""

from __future__ import annotations

import errno
import hashlib
import keyword
import os
import stat
import time
from collections.abc import Container, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Optional

from pmnc_hook._errors import ModuleFileError, UnknownModuleError, UnsafeModuleError, shown
from pmnc_hook._names import is_module_name

__all__ = (
    "RACY_NS",
    "Fingerprint",
    "Source",
    "StatKey",
    "Unsettled",
    "digest",
    "escape_error",
    "find_module_file",
    "kind_of",
    "missing_module",
    "read_source",
    "stat_key",
)

RACY_NS = 1_000_000_000

# How many times a file swapped between check and open is checked again before giving up.
_ATTEMPTS = 5
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_NOFOLLOW", 0)
)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)


class StatKey(NamedTuple):
    """What ``stat`` says about a file: equal keys mean "probably unchanged"."""

    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    dev: int


def _key(st: os.stat_result) -> StatKey:
    return StatKey(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)


def stat_key(path: str) -> Optional[StatKey]:
    """Return the file's stat key, or ``None`` if it is missing or not a regular file."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return _key(st)


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
    """The file changed while it was being read: it is still being written (internal: the
    detector catches it and looks again later; it never reaches a caller of the library)."""


def kind_of(mode: int) -> str:
    """Name the kind of file ``mode`` describes, for messages ("a directory", ...)."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISLNK, "a symlink"),
    )
    for test, what in kinds:
        if test(mode):
            return what
    return "not a regular file"


def escape_error(path: str, real: str, root: str, name: Optional[str] = None) -> UnsafeModuleError:
    """Return the error for a module file whose real path lies outside its module directory."""
    who = f"pmnc.{name}: " if name else ""
    return UnsafeModuleError(
        f"{who}{shown(path)} resolves to {shown(real)}, outside its module directory "
        f"{shown(os.path.dirname(path))} (which is {shown(root)}); refusing to load code from "
        "elsewhere: copy the file into the directory or add its directory to the paths",
        name=name,
        path=path,
    )


def _not_a_module_file(path: str, what: str, todo: str) -> ModuleFileError:
    return ModuleFileError(f"{shown(path)} is {what}, not a module file: {todo}", path)


_AGAIN = ("", None)


def _checked(path: str) -> Optional[tuple[str, Optional[os.stat_result]]]:
    """Check ``path``'s real path: in its module directory, a regular file. ``None``: missing;
    ``_AGAIN``: the name changed while it was being checked."""
    real = os.path.realpath(path)
    root = os.path.realpath(os.path.dirname(path))
    if os.path.dirname(real) != root:
        if not os.path.lexists(path):
            return None
        raise escape_error(path, real, root)
    try:
        st = os.lstat(real)  # the real path has no symlink left: lstat sees what open will
    except (FileNotFoundError, NotADirectoryError):
        return None  # gone, or a dangling symlink: as missing
    except PermissionError:
        raise _unreadable(path) from None
    if stat.S_ISLNK(st.st_mode):
        try:
            os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise _not_a_module_file(
                    path, "a symlink loop", "point it at a module file"
                ) from None
        return _AGAIN  # made a symlink since realpath() looked: look again
    if not stat.S_ISREG(st.st_mode):
        what = kind_of(st.st_mode)
        raise _not_a_module_file(path, what, "a reloadable module is a single regular .py file")
    return real, st


def _unreadable(path: str) -> ModuleFileError:
    return ModuleFileError(
        f"{shown(path)} cannot be read by this process (permission denied): give the user "
        "it runs as read access to the file and search (x) access to its directories",
        path,
    )


def _open(real: str) -> Optional[int]:
    """Open ``real`` inside its directory without following a symlink or blocking.

    ``None``: the name changed since it was checked (gone, or now a symlink): check again.
    """
    directory, base = os.path.split(real)
    try:
        if os.open in os.supports_dir_fd:
            dir_fd = os.open(directory, _DIR_FLAGS)
            try:
                return os.open(base, _OPEN_FLAGS, dir_fd=dir_fd)
            finally:
                os.close(dir_fd)
        return os.open(real, _OPEN_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError:
        raise _unreadable(real) from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):  # O_NOFOLLOW met a symlink: swapped
            return None
        raise ModuleFileError(f"cannot open {shown(real)}: {exc.strerror}", real) from exc


def _read_all(fd: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except BlockingIOError:  # pragma: no cover - regular files never block
            continue
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def read_source(path: str, *, stable: bool = False) -> Optional[Source]:
    """Read the module file ``path`` once, safely; return ``None`` if it is missing.

    ``path``'s real path must lie in ``path``'s directory (else ``UnsafeModuleError``) and be a
    regular file the process can read (else ``ModuleFileError``, an ``OSError``); both are
    ``PmncHookError``s whose message names the file and what to do. What is read is the file
    that was checked: a swap between check and open is noticed and checked again.

    The key is taken *before* reading, so a write racing the read leaves a key older than the
    content and the next check hashes again instead of trusting a key that hides the change.
    With ``stable``, raise ``Unsettled`` unless the bytes read match the size and the stat
    stayed the same across the read (a writer caught in the middle).
    """
    try:
        for _ in range(_ATTEMPTS):
            taken = time.time_ns()
            checked = _checked(path)
            if checked is None:
                return None
            real, st = checked
            source = None if st is None else _read_checked(path, real, st, taken, stable)
            if source is not None:
                return source
    except (ModuleFileError, UnsafeModuleError):
        raise
    except OSError as exc:  # an I/O error, a name too long...: still the library's error
        raise ModuleFileError(f"cannot read {shown(path)}: {exc.strerror or exc}", path) from exc
    if stable:
        raise Unsettled(path)
    raise ModuleFileError(
        f"{shown(path)} was replaced {_ATTEMPTS} times while it was being opened; "
        "is something rewriting it in a loop? Try again when it is saved",
        path,
    )


def _read_checked(
    path: str, real: str, st: os.stat_result, taken: int, stable: bool
) -> Optional[Source]:
    """Read the checked file ``real``; ``None`` if what opened is not the file checked."""
    fd = _open(real)
    if fd is None:
        return None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (
            st.st_dev,
            st.st_ino,
        ):
            return None  # replaced between the check and the open: check what is there now
        key = _key(opened)
        data = _read_all(fd)
        if stable and (len(data) != key.size or _key(os.fstat(fd)) != key):
            raise Unsettled(path)
    finally:
        os.close(fd)
    if stable and stat_key(path) != key:
        raise Unsettled(path)  # renamed over while it was read
    return Source(path, data, Fingerprint(key, taken, digest(data)))


def find_module_file(
    name: str, directories: Sequence[str], exclude: Container[str] = ()
) -> Optional[tuple[str, str]]:
    """Find ``<name>.py`` (earlier directory wins); return (path, directory) or ``None``.

    Files whose real path is in ``exclude`` are skipped (the runner's script). Raises
    ``UnsafeModuleError`` for a file whose real path escapes its module directory.
    """
    if not is_module_name(name):
        return None
    for directory in directories:
        path = os.path.join(directory, name + ".py")
        if not os.path.isfile(path):
            continue
        real = os.path.realpath(path)
        if real in exclude:
            continue
        root = os.path.realpath(directory)
        if os.path.dirname(real) != root:
            raise escape_error(path, real, root, name)
        return path, directory
    return None


def missing_module(
    name: str, directories: Sequence[str], exclude: Container[str] = ()
) -> UnknownModuleError:
    """Return the error for ``pmnc.<name>`` finding no module: it says what *is* there.

    Call it only once ``find_module_file`` found nothing (it looks at the file system again).
    """
    if not _plain_name(name):
        return UnknownModuleError(name, directories)
    reasons = []
    for directory in directories:
        path = os.path.join(directory, name + ".py")
        reason = _why_not_a_module(name, path, exclude)
        if reason:
            reasons.append(reason)
    return UnknownModuleError(name, directories, reasons)


def _plain_name(name: str) -> bool:
    """Tell whether ``name + ".py"`` names a file in a directory (not a path elsewhere)."""
    seps = {os.sep, os.altsep or os.sep, "\0"}
    return name not in ("", ".", "..") and not any(sep in name for sep in seps)


def _why_not_a_module(name: str, path: str, exclude: Container[str]) -> Optional[str]:
    """Say what at ``path`` keeps it from being the module ``name``; ``None`` if nothing is."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except PermissionError:
        return (
            f"{shown(os.path.dirname(path))} cannot be searched by this process (permission "
            "denied): give the user it runs as search (x) access to it"
        )
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return f"{shown(path)} is a symlink loop: point it at a module file"
            target = shown(os.readlink(path))
            if exc.errno == errno.ENOENT:
                return f"{shown(path)} is a dangling symlink (to {target}, which does not exist)"
            return (
                f"{shown(path)} is a symlink to {target}, which cannot be followed: {exc.strerror}"
            )
    if not is_module_name(name):
        why = "is a Python keyword" if keyword.iskeyword(name) else "is not a Python identifier"
        return f"{shown(path)} cannot be a module: {name!r} {why}, so rename the file"
    if not stat.S_ISREG(st.st_mode):
        what = kind_of(st.st_mode)
        return f"{shown(path)} is {what}, not a module file (a module is a single .py file)"
    if os.path.realpath(path) in exclude:
        return f"{shown(path)} is the script being run (__main__), not a reloadable module"
    if not os.access(path, os.R_OK):
        return f"{shown(path)} cannot be read by this process (permission denied)"
    return None
