"""Run a script or a ``-m`` module as the real ``__main__``, with the hook installed.

This follows coverage.py's ``PyRunner``, not ``runpy``'s restore-everything helpers: the
program gets a fresh ``__main__`` module in ``sys.modules`` (``program``), ``sys.argv`` and
``sys.path[0]`` as ``python SCRIPT ARGS`` / ``python -m MODULE ARGS`` set them, and the exit
status Python would give it. An uncaught exception is printed through ``sys.excepthook`` with
the user's frames and at most one of pmnc_hook's (``tracebacks``); ``SystemExit`` and
``KeyboardInterrupt`` go on up for Python itself to handle (so Ctrl-C still ends the process by
SIGINT). The hook's settings are exported as ``PMNC_HOOK_*`` variables, so child processes
install the same hook at start-up.
"""

from __future__ import annotations

import logging
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Optional

from pmnc_hook._api import install, uninstall
from pmnc_hook._errors import PmncHookError
from pmnc_hook._settings import Settings, environment, install_arguments, merge
from pmnc_hook.run import startup
from pmnc_hook.run.logs import configure_logging, was_printed
from pmnc_hook.run.program import Program, UsageError, code, locate_module, locate_path
from pmnc_hook.run.tracebacks import report, trim_chain

__all__ = ("RunOptions", "UsageError", "run")

_log = logging.getLogger("pmnc_hook.runner")


@dataclass(frozen=True)
class RunOptions:
    """What to run and how: ``target`` is a script path, or a module name if ``as_module``.

    ``settings``: what the command line says. ``paths`` unset: the script's directory (for
    ``-m``, the current directory). Other settings it leaves unset come from the
    ``PMNC_HOOK_*`` variables (``PMNC_HOOK_PATH`` is not read: it is what the runner sets for
    child processes).
    """

    target: str
    as_module: bool = False
    args: tuple[str, ...] = ()
    settings: Settings = field(default_factory=Settings)


def run(options: RunOptions) -> int:
    """Run the program with the hook installed; return its exit status.

    Raises ``UsageError``, before the program runs, if the target or a setting is bad.
    ``SystemExit`` and ``KeyboardInterrupt`` from the program propagate; any other uncaught
    exception is printed (without the runner's frames) and gives 1.
    """
    # A hook set up at start-up from inherited variables makes way, before the program is
    # looked up (its lookup imports its packages) and without a log line.
    startup.cancel()
    uninstall()
    try:
        env = Settings.from_env()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    given = options.settings
    for path in given.paths or ():
        if not os.path.isdir(path):
            raise UsageError(f"--path {path!r} is not a directory")

    if not options.as_module:
        program = locate_path(options.target)
    # Python sets sys.path[0] before it looks for a -m module; so do we. -P (3.11+) and -I
    # mean Python added no such entry, so there is nothing to replace.
    safe_path = bool(getattr(sys.flags, "safe_path", False) or sys.flags.isolated)
    if not safe_path and sys.path:
        sys.path[0] = os.getcwd() if options.as_module else program.path0
    if options.as_module:
        try:
            program = locate_module(options.target)
        except UsageError:
            raise
        except Exception as exc:  # the program's own package failed while being imported
            return report(exc, was_printed)

    directories = tuple(os.path.abspath(p) for p in given.paths or (program.directory,))
    settings = merge(Settings(paths=directories, exclude=program.exclude), given, env)
    configure_logging(settings.log_level if settings.log_level is not None else logging.INFO)
    try:
        install(**install_arguments(settings))
    except (PmncHookError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    os.environ.update(environment(settings))
    _log.debug("running %s with %s", program.argv0, os.pathsep.join(directories))
    return _execute(program, options.args)


def _execute(program: Program, args: tuple[str, ...]) -> int:
    sys.modules["__main__"] = program.module
    sys.argv = [program.argv0, *args]
    try:
        exec(code(program), program.module.__dict__)
    except (SystemExit, UsageError):
        raise
    except KeyboardInterrupt as exc:
        _trim_when_printed(exc)
        raise
    except BaseException as exc:
        return report(exc, was_printed)
    return 0


def _trim_when_printed(exc: BaseException) -> None:
    """Have Python's top level print ``exc`` without the runner's frames.

    The exception propagates so that Python ends the process as it ends any program
    interrupted by Ctrl-C (by SIGINT, after the usual clean-up); the frames it passes on the
    way up are added back to its traceback, so the printing hook gets the trimmed one.
    """
    trim_chain(exc, was_printed)
    trimmed = exc.__traceback__
    previous = sys.excepthook

    def excepthook(
        kind: type[BaseException], value: BaseException, tb: Optional[types.TracebackType]
    ) -> Any:
        if value is exc:
            tb = value.__traceback__ = trimmed
        return previous(kind, value, tb)

    sys.excepthook = excepthook
