"""Install the hook at interpreter start-up when ``PMNC_HOOK_PATH`` is set (the ``.pth`` file).

The distribution ships ``pmnc_hook.pth`` at the root of site-packages. Its one line checks
``os.environ`` itself and imports nothing of ours while ``PMNC_HOOK_PATH`` is unset, so other
processes pay nothing; when the variable is set it calls ``process_startup()``, which never
stops the program from running. Spelt out, the line is::

    if os.environ.get("PMNC_HOOK_PATH"):
        try:
            import pmnc_hook.run.startup as startup
        except Exception as exc:            # the package was removed, or cannot import
            startup = None
            if not (isinstance(exc, ImportError) and exc.name == "pmnc_hook"):
                print("pmnc_hook: not installed at start-up:", ..., file=sys.stderr)
        if startup:
            startup.process_startup()

The log-level helpers are shared with the runner, which configures the same handler.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Optional, TextIO

from pmnc_hook._api import Hook, current, install
from pmnc_hook._settings import EnvSettings

__all__ = ("configure_logging", "level_name", "parse_level", "process_startup")

_log = logging.getLogger("pmnc_hook.startup")

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_FORMAT = "%(asctime)s pmnc_hook %(levelname)s %(message)s"
_DATEFMT = "%H:%M:%S"

# Set by the first process_startup() call: the .pth file can be read twice (site-packages
# reached through two paths, e.g. a venv's lib64 symlink) and must install once.
_started = False


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg,unused-ignore]
    """The handler configure_logging() owns: writes to whatever ``sys.stderr`` is now."""

    def __init__(self) -> None:
        # Like logging's last-resort handler: a program that replaces sys.stderr later
        # (capture, redirection) still gets our lines, and no stale stream is kept.
        logging.Handler.__init__(self)

    @property  # type: ignore[override,unused-ignore]
    def stream(self) -> TextIO:
        return sys.stderr


def parse_level(text: str) -> int:
    """Return the logging level named by ``text`` (a level name, any case, or a number).

    Raises ``ValueError`` naming the accepted values.
    """
    value = text.strip().upper()
    if value.isdigit():
        return int(value)
    if value == "WARN":
        value = "WARNING"
    if value in _LEVELS:
        level = logging.getLevelName(value)
        assert isinstance(level, int)
        return level
    raise ValueError(f"{text!r} is not a logging level: use one of {', '.join(_LEVELS)}")


def level_name(level: int) -> str:
    """Return the text ``parse_level`` reads back as ``level``: its name, else its number."""
    name = logging.getLevelName(level)
    return name if name in _LEVELS else str(level)


def configure_logging(level: int) -> logging.Handler:
    """Send the ``pmnc_hook`` logger's records at ``level`` and above to stderr, one a line.

    Idempotent: a second call adjusts the level of the handler the first one added. The
    records stop propagating to the root logger, so a program that configures its own
    logging does not print each line twice.
    """
    logger = logging.getLogger("pmnc_hook")
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter(_FORMAT, _DATEFMT))
        logger.addHandler(handler)
    handler.setLevel(level)
    logger.setLevel(level)
    logger.propagate = False
    return handler


def _main_files(directories: tuple[str, ...]) -> tuple[str, ...]:
    """Return the program's main file if it sits in a module directory, else ``()``.

    At start-up ``sys.argv[0]`` is already the script's path, or ``-m`` (the module name is
    then in ``sys.orig_argv``, 3.10+) or ``-c``. The main file is ``__main__``, not one of
    the reloadable modules: without this, ``python -m app`` with ``app.py`` in a module
    directory would be handed to the hook when runpy looks the module up.
    """
    argv = getattr(sys, "argv", None)
    if not argv or not argv[0]:
        return ()
    roots = [os.path.realpath(d) for d in directories]
    if argv[0] == "-m":
        orig = getattr(sys, "orig_argv", None)
        if not orig or len(orig) < len(argv) + 1:
            return ()
        option = orig[-len(argv)]  # "-m NAME ARGS" or "-mNAME ARGS": the tail is sys.argv[1:]
        name = option[option.index("m") + 1 :] if option.startswith("-") else option
        if not name.isidentifier():  # a dotted name is no file of a module directory
            return ()
        candidates = [os.path.join(root, name + ".py") for root in roots]
        return tuple(os.path.realpath(c) for c in candidates if os.path.isfile(c))
    if not os.path.isfile(argv[0]):
        return ()
    script = os.path.realpath(argv[0])
    return (script,) if os.path.dirname(script) in roots else ()


def process_startup() -> Optional[Hook]:
    """Install the hook as the ``PMNC_HOOK_*`` variables say; return it, or ``None``.

    Called by the ``.pth`` line at interpreter start-up. Idempotent: later calls return the
    installed hook without installing again. Never raises: a bad variable or a missing
    directory is reported on stderr in one line, and the program runs without the hook.
    """
    global _started
    if _started:
        return current()
    _started = True
    try:
        settings = EnvSettings.read()
        if not settings.paths:
            return None
        if settings.log_level is not None:
            configure_logging(parse_level(settings.log_level))
        hook = install(
            settings.paths,
            strict=settings.strict,
            poll=settings.poll,
            _exclude=settings.exclude + _main_files(settings.paths),
        )
    except Exception as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        sys.stderr.write(f"pmnc_hook: not installed at start-up: {message}\n")
        return None
    _log.debug("installed at start-up over %s", os.pathsep.join(hook.directories))
    return hook
