"""Tracebacks as the runner shows them: the user's frames, at most one of the library's.

A traceback through pmnc_hook passes a handful of the library's own frames (the facade, the
registry, the loader) that say nothing to the user. Each traceback keeps the user's frames and
the one library frame where the user's code called into the library (the line of the user's
that led there is the frame before it); every other frame of the package is dropped, the
runner's own included (they come before any user frame). The same rule serves the runner's
report of an uncaught exception and the tracebacks in pmnc_hook's log lines.
"""

from __future__ import annotations

import os
import sys
import traceback
import types
from collections.abc import Iterator, Sequence
from typing import Any, Callable, Optional

__all__ = ("format_exception", "kept", "report", "trim_chain")

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _ours(filename: str) -> bool:
    return filename.startswith(_PACKAGE)


def kept(filenames: Sequence[str]) -> list[int]:
    """Return the indexes of the frames (outermost first) a trimmed traceback keeps."""
    indexes: list[int] = []
    entered = False  # a library frame right after a user frame was kept already
    for index, filename in enumerate(filenames):
        if not _ours(filename):
            indexes.append(index)
        elif indexes and not entered and not _ours(filenames[indexes[-1]]):
            indexes.append(index)
            entered = True
    return indexes


def _trim(tb: Optional[types.TracebackType]) -> Optional[types.TracebackType]:
    entries: list[types.TracebackType] = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    chosen = [entries[i] for i in kept([e.tb_frame.f_code.co_filename for e in entries])]
    trimmed: Optional[types.TracebackType] = None
    for entry in reversed(chosen):
        trimmed = types.TracebackType(trimmed, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return trimmed


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield ``exc`` and every exception printed with it (causes, contexts, group members)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        todo.extend(getattr(current, "exceptions", ()))


def trim_chain(exc: BaseException, printed: Callable[[BaseException], bool]) -> None:
    """Trim the traceback of ``exc`` and of every exception printed with it, in place.

    A cause or context for which ``printed(...)`` is true (its traceback is in the log
    already) is left out of the chain, so that it is not shown twice: the error that carries
    it names it in its message.
    """
    for member in _chain(exc):
        member.__traceback__ = _trim(member.__traceback__)
        if member.__cause__ is not None and printed(member.__cause__):
            member.__cause__ = None
            member.__suppress_context__ = True
        elif member.__context__ is not None and printed(member.__context__):
            member.__suppress_context__ = True


def format_exception(exc: BaseException) -> str:
    """Return ``exc`` as Python prints it, each traceback trimmed; ``exc`` is not changed."""
    summary = traceback.TracebackException.from_exception(exc)
    for member in _summaries(summary):
        frames = list(member.stack)
        chosen = [frames[i] for i in kept([f.filename for f in frames])]
        member.stack = traceback.StackSummary.from_list(chosen)
    return "".join(summary.format()).rstrip("\n")


def _summaries(summary: traceback.TracebackException) -> Iterator[traceback.TracebackException]:
    todo = [summary]
    while todo:
        current = todo.pop()
        yield current
        linked: list[Any] = [current.__cause__, current.__context__]
        linked.extend(getattr(current, "exceptions", None) or ())
        todo.extend(e for e in linked if e is not None)


def report(exc: BaseException, printed: Callable[[BaseException], bool]) -> int:
    """Print an uncaught exception as Python's top level does, trimmed; return exit status 1."""
    trim_chain(exc, printed)
    tb = exc.__traceback__
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    hook = getattr(sys, "excepthook", None)
    if hook is None:
        sys.stderr.write("sys.excepthook is missing\n")
        sys.__excepthook__(type(exc), exc, tb)
        return 1
    try:
        hook(type(exc), exc, tb)
    except SystemExit:
        raise
    except BaseException as hook_error:
        sys.stderr.write("Error in sys.excepthook:\n")
        trim_chain(hook_error, printed)
        sys.__excepthook__(type(hook_error), hook_error, hook_error.__traceback__)
        sys.stderr.write("\nOriginal exception was:\n")
        sys.__excepthook__(type(exc), exc, tb)
    return 1
