"""Run a script or a ``-m`` module as the real ``__main__``, with the hook installed.

This follows coverage.py's ``PyRunner``, not ``runpy``'s restore-everything helpers: the
program gets a fresh ``__main__`` module in ``sys.modules``, ``sys.argv`` and ``sys.path[0]``
as ``python SCRIPT ARGS`` / ``python -m MODULE ARGS`` set them, and the exit status Python
would give it. An uncaught exception is printed through ``sys.excepthook`` without this
module's frames; ``SystemExit`` and ``KeyboardInterrupt`` go on up for Python itself to handle
(so Ctrl-C still ends the process by SIGINT). The hook's settings are exported as
``PMNC_HOOK_*`` variables, so child processes install the same hook at start-up.
"""

from __future__ import annotations

import builtins
import importlib.util
import logging
import os
import sys
import types
from dataclasses import dataclass
from importlib.machinery import (
    ModuleSpec,
    PathFinder,
    SourceFileLoader,
    SourcelessFileLoader,
)
from typing import Any, Optional

from pmnc_hook._api import install, uninstall
from pmnc_hook._errors import PmncHookError
from pmnc_hook._settings import (
    ENV_EXCLUDE,
    ENV_LOG_LEVEL,
    ENV_PATH,
    ENV_POLL,
    ENV_STRICT,
    EnvSettings,
)
from pmnc_hook.run.startup import configure_logging, level_name, parse_level

__all__ = ("RunOptions", "UsageError", "run")

_log = logging.getLogger("pmnc_hook.runner")


class UsageError(Exception):
    """The command line names nothing runnable, or a setting is bad; exit status 2."""


@dataclass(frozen=True)
class RunOptions:
    """What to run and how: ``target`` is a script path, or a module name if ``as_module``.

    ``paths`` empty: the script's directory (for ``-m``, the current directory). ``poll``,
    ``strict`` and ``log_level`` left unset fall back to ``PMNC_HOOK_POLL``,
    ``PMNC_HOOK_STRICT`` and ``PMNC_HOOK_LOG_LEVEL`` (``PMNC_HOOK_PATH`` is not read: it is
    what the runner sets for child processes).
    """

    target: str
    as_module: bool = False
    args: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    poll: Optional[float] = None
    strict: bool = False
    log_level: Optional[str] = None


@dataclass
class _Program:
    """The located program: its ``__main__`` module (not yet run) and where it lives."""

    module: types.ModuleType
    argv0: str
    path0: str  # what Python would put in sys.path[0]
    directory: str  # the default module directory
    exclude: tuple[str, ...]  # files that are the program itself, not reloadable modules


def run(options: RunOptions) -> int:
    """Run the program with the hook installed; return its exit status.

    Raises ``UsageError``, before the program runs, if the target or a setting is bad.
    ``SystemExit`` and ``KeyboardInterrupt`` from the program propagate; any other uncaught
    exception is printed (without the runner's frames) and gives 1.
    """
    env = _read_env()
    poll = options.poll if options.poll is not None else env.poll
    strict = options.strict or env.strict
    level_text = options.log_level or env.log_level
    try:
        level = parse_level(level_text) if level_text else logging.INFO
    except ValueError as exc:
        raise UsageError(f"log level {exc}") from None
    for path in options.paths:
        if not os.path.isdir(path):
            raise UsageError(f"--path {path!r} is not a directory")

    if not options.as_module:
        program = _locate_path(options.target)
    # Python sets sys.path[0] before it looks for a -m module; so do we. -P (3.11+) and -I
    # mean Python added no such entry, so there is nothing to replace.
    safe_path = bool(getattr(sys.flags, "safe_path", False) or sys.flags.isolated)
    if not safe_path and sys.path:
        sys.path[0] = os.getcwd() if options.as_module else program.path0
    if options.as_module:
        try:
            program = _locate_module(options.target)
        except UsageError:
            raise
        except Exception as exc:  # the program's own package failed while being imported
            return _report(exc)

    directories = tuple(os.path.abspath(p) for p in options.paths) or (program.directory,)
    exclude = tuple(dict.fromkeys(program.exclude + env.exclude))
    configure_logging(level)
    # A hook installed at start-up from inherited variables makes way without a log line.
    uninstall()
    try:
        install(directories, strict=strict, poll=poll, _exclude=exclude)
    except (PmncHookError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    _export(directories, exclude, poll, strict, level_name(level) if level_text else None)
    _log.debug("running %s with %s", program.argv0, os.pathsep.join(directories))
    return _execute(program, options.args)


def _export(
    directories: tuple[str, ...],
    exclude: tuple[str, ...],
    poll: Optional[float],
    strict: bool,
    level: Optional[str],
) -> None:
    """Set the variables from which child processes install the same hook at start-up."""
    os.environ[ENV_PATH] = os.pathsep.join(directories)
    if exclude:
        os.environ[ENV_EXCLUDE] = os.pathsep.join(exclude)
    if poll is not None:
        os.environ[ENV_POLL] = str(poll)
    if strict:
        os.environ[ENV_STRICT] = "1"
    if level is not None:
        os.environ[ENV_LOG_LEVEL] = level


def _read_env() -> EnvSettings:
    try:
        return EnvSettings.read()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _main_module(**attributes: Any) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__dict__.update(attributes)
    module.__builtins__ = builtins  # type: ignore[attr-defined]
    return module


def _locate_path(target: str) -> _Program:
    """Locate a script file, or a directory or zip file holding ``__main__.py``."""
    path = os.path.abspath(target)
    if os.path.isdir(path) or (os.path.isfile(path) and _is_zip(path)):
        spec = PathFinder.find_spec("__main__", [path])
        if spec is None or spec.loader is None:
            raise UsageError(f"can't find '__main__' module in {target!r}")
        module = _main_module(
            __spec__=spec,
            __file__=spec.origin,
            __cached__=spec.cached,
            __loader__=spec.loader,
            __package__="",
        )
        directory = path if os.path.isdir(path) else os.path.dirname(path)
        return _Program(module, target, path, directory, ())
    if not os.path.isfile(path):
        if os.path.exists(path):
            raise UsageError(f"can't open file {path!r}: not a regular file")
        raise UsageError(f"can't open file {path!r}: [Errno 2] No such file or directory")
    loader: Any
    if path.endswith(".pyc"):
        loader = SourcelessFileLoader("__main__", path)
    else:
        loader = SourceFileLoader("__main__", path)
    module = _main_module(
        __spec__=None, __file__=path, __cached__=None, __loader__=loader, __package__=None
    )
    # Like Python, sys.path[0] is the directory of the script with symlinks resolved.
    real = os.path.realpath(path)
    return _Program(module, target, os.path.dirname(real), os.path.dirname(real), (real,))


def _is_zip(path: str) -> bool:
    import zipfile

    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _locate_module(name: str) -> _Program:
    """Find module ``name`` (a package: its ``__main__``) as ``python -m`` does."""
    spec = _find_spec(name)
    if spec.submodule_search_locations is not None:
        main_name = name + ".__main__"
        main_spec = _find_spec(main_name)
        if main_spec.submodule_search_locations is not None:
            raise UsageError(f"cannot use package {name!r} as __main__ package")
        spec = main_spec
    if spec.loader is None or not hasattr(spec.loader, "get_code"):
        raise UsageError(f"no code object available for {name!r}")
    # As runpy does for python -m: __file__ and argv[0] are the origin, whatever it is.
    origin = spec.origin or name
    module = _main_module(
        __spec__=spec,
        __file__=spec.origin,
        __cached__=spec.cached,
        __loader__=spec.loader,
        __package__=spec.parent,
    )
    exclude = (os.path.realpath(origin),) if spec.has_location and os.path.isfile(origin) else ()
    return _Program(module, origin, os.getcwd(), os.getcwd(), exclude)


def _find_spec(name: str) -> ModuleSpec:
    """Return the spec of ``name`` (importing its parent packages); UsageError if none."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError) as exc:
        raise UsageError(f"error while finding module specification for {name!r} ({exc})") from None
    if spec is None:
        if name.endswith(".__main__"):
            package = name[: -len(".__main__")]
            raise UsageError(
                f"no module named {name}; {package!r} is a package and cannot be directly executed"
            )
        raise UsageError(f"no module named {name!r}")
    return spec


def _code(program: _Program) -> types.CodeType:
    module = program.module
    loader = module.__loader__
    spec = module.__spec__
    if isinstance(loader, SourceFileLoader) and spec is None:
        # The main script is compiled, never cached: python SCRIPT writes no .pyc for it.
        filename = module.__file__
        assert filename is not None
        return compile(loader.get_data(filename), filename, "exec", dont_inherit=True)
    name = spec.name if spec is not None else "__main__"
    code = loader.get_code(name)  # type: ignore[union-attr]
    if code is None:
        raise UsageError(f"no code object available for {program.argv0!r}")
    assert isinstance(code, types.CodeType)
    return code


def _execute(program: _Program, args: tuple[str, ...]) -> int:
    sys.modules["__main__"] = program.module
    sys.argv = [program.argv0, *args]
    try:
        exec(_code(program), program.module.__dict__)
    except (SystemExit, UsageError):
        raise
    except KeyboardInterrupt as exc:
        _trim_when_printed(exc)
        raise
    except BaseException as exc:
        return _report(exc)
    return 0


def _trim(tb: Optional[types.TracebackType]) -> Optional[types.TracebackType]:
    """Drop the leading traceback entries that are this module's frames."""
    while tb is not None and tb.tb_frame.f_globals.get("__name__") == __name__:
        tb = tb.tb_next
    return tb


def _report(exc: BaseException) -> int:
    """Print an uncaught exception as Python's top level does; return the exit status 1."""
    tb = _trim(exc.__traceback__)
    exc.__traceback__ = tb
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
        sys.__excepthook__(type(hook_error), hook_error, _trim(hook_error.__traceback__))
        sys.stderr.write("\nOriginal exception was:\n")
        sys.__excepthook__(type(exc), exc, tb)
    return 1


def _trim_when_printed(exc: BaseException) -> None:
    """Have Python's top level print ``exc`` without the runner's frames.

    The exception propagates so that Python ends the process as it ends any program
    interrupted by Ctrl-C (by SIGINT, after the usual clean-up); the frames it passes on the
    way up are added back to its traceback, so the printing hook gets the trimmed one.
    """
    trimmed = _trim(exc.__traceback__)
    previous = sys.excepthook

    def excepthook(
        kind: type[BaseException], value: BaseException, tb: Optional[types.TracebackType]
    ) -> Any:
        if value is exc:
            tb = value.__traceback__ = trimmed
        return previous(kind, value, tb)

    sys.excepthook = excepthook
