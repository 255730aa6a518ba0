"""pmnc_hook's log lines on stderr: what ``--log-level`` and ``PMNC_HOOK_LOG_LEVEL`` set up.

Imported only when logging is configured (the runner; the start-up's first use): the logging
module costs more start-up time than a bare interpreter's whole start-up.
"""

from __future__ import annotations

import logging
import sys
from collections import deque
from typing import Any, Optional, TextIO

from pmnc_hook.run.tracebacks import format_exception

__all__ = ("configure_logging", "was_printed")

_FORMAT = "%(asctime)s pmnc_hook %(levelname)s %(message)s"
_DATEFMT = "%H:%M:%S"

# The last exceptions whose traceback a log line of ours showed: the runner's report of an
# uncaught error that carries one (a failed first load's cause) does not show it a second
# time. Kept by reference (built-in exceptions take no weak references), so only a few.
_printed: deque[BaseException] = deque(maxlen=8)


def was_printed(exc: BaseException) -> bool:
    """Tell whether one of our recent log lines showed ``exc`` with its traceback."""
    return any(seen is exc for seen in list(_printed))


class _Formatter(logging.Formatter):
    """One line per record; a traceback keeps the user's frames (unless at DEBUG level)."""

    def __init__(self, trimmed: bool) -> None:
        super().__init__(_FORMAT, _DATEFMT)
        self.trimmed = trimmed

    def formatException(self, ei: Any) -> str:
        exc = ei[1]
        if exc is None:
            return super().formatException(ei)
        _printed.append(exc)
        if not self.trimmed:
            return super().formatException(ei)
        return format_exception(exc)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """The handler configure_logging() owns: writes to whatever ``sys.stderr`` is now."""

    def __init__(self) -> None:
        # Like logging's last-resort handler: a program that replaces sys.stderr later
        # (capture, redirection) still gets our lines, and no stale stream is kept.
        logging.Handler.__init__(self)

    @property  # type: ignore[override,unused-ignore]
    def stream(self) -> TextIO:
        return sys.stderr


def configure_logging(level: int) -> logging.Handler:
    """Send the ``pmnc_hook`` logger's records at ``level`` and above to stderr, one a line.

    Idempotent: a second call adjusts the level of the handler the first one added. The
    records stop propagating to the root logger, so a program that configures its own
    logging does not print each line twice. Tracebacks show pmnc_hook's own frames only at
    the DEBUG level.
    """
    logger = logging.getLogger("pmnc_hook")
    handler: Optional[logging.Handler] = next(
        (h for h in logger.handlers if isinstance(h, _StderrHandler)), None
    )
    if handler is None:
        handler = _StderrHandler()
        logger.addHandler(handler)
    handler.setFormatter(_Formatter(trimmed=level > logging.DEBUG))
    handler.setLevel(level)
    logger.setLevel(level)
    logger.propagate = False
    return handler
