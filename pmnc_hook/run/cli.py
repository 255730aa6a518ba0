"""The command line: ``python -m pmnc_hook [options] (SCRIPT | -m MODULE) [ARGS...]``.

``main(argv)`` is callable from tests and returns the exit status. Options end at the
SCRIPT or ``-m MODULE``, as Python's own do: everything after goes to the program unparsed.
``--check`` hands every later argument to the static checker.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any, Optional

from pmnc_hook import __version__
from pmnc_hook._settings import SettingError, Settings, parse_level, parse_poll, parse_signal
from pmnc_hook.run.runner import RunOptions, UsageError, run

__all__ = ("main",)


def _usage(prog: str) -> str:
    indent = " " * (len("usage: ") + len(prog) + 1)
    return (
        f"usage: {prog} [--path DIR]... [--poll SECONDS] [--no-watch] [--reload-signal NAME]\n"
        f"{indent}[--strict] [--log-level LEVEL] (SCRIPT | -m MODULE) [ARGS...]\n"
        f"       {prog} --check [PATH...]\n"
        f"       {prog} --version | --help\n"
    )


HELP = """\
Run a Python program as `python SCRIPT ARGS` / `python -m MODULE ARGS` would, with
pmnc_hook installed: the modules of the module directories are reloadable as pmnc.<name>.

options:
  --path DIR         a module directory (repeatable; an earlier one wins a name);
                     default: the script's directory (with -m, the current directory)
  --poll SECONDS     detect changes by checking the files every SECONDS instead of
                     watching them (default: PMNC_HOOK_POLL, else watch)
  --no-watch         no watcher, no poller, no thread: files are looked at again only
                     by pmnc_hook.refresh() or the reload signal (default:
                     PMNC_HOOK_WATCH=0 turns watching off)
  --reload-signal NAME
                     on signal NAME (HUP or SIGHUP, any case) the program runs
                     pmnc_hook.refresh() (default: PMNC_HOOK_RELOAD_SIGNAL, else none)
  --strict           refuse module files writable by others and direct imports of
                     reloadable modules (default: PMNC_HOOK_STRICT)
  --log-level LEVEL  pmnc_hook's log lines on stderr at LEVEL and above: DEBUG, INFO,
                     WARNING, ERROR or CRITICAL (default: PMNC_HOOK_LOG_LEVEL, else INFO)
  -m MODULE          run library module MODULE as a script; options end here
  --check [PATH...]  check module files without running them (see --check --help)
  --version          print the installed version and exit
  -h, --help         print this help and exit

The program's child processes get the hook too: the runner exports PMNC_HOOK_PATH (and
PMNC_HOOK_POLL, PMNC_HOOK_WATCH, PMNC_HOOK_RELOAD_SIGNAL, PMNC_HOOK_STRICT and
PMNC_HOOK_LOG_LEVEL when set), which the pmnc_hook.pth start-up file reads in every Python
process.
"""


class _Done(Exception):
    """``--help`` or ``--version`` printed what was asked: exit status 0."""


def _prog(argv0: Optional[str]) -> str:
    """Name the command as it was typed: ``pmnc-hook`` for the script, else ``python -m``."""
    name = os.path.basename(argv0 or "")
    if name in ("", "__main__.py", "-c", "-m") or name.endswith(".py"):
        return "python -m pmnc_hook"
    return name


_VALUED = ("--path", "--poll", "--log-level", "--reload-signal")
_FLAGS = {"--strict": {"strict": True}, "--no-watch": {"watch": False}}


def _parse(argv: Sequence[str], prog: str) -> RunOptions:
    """Parse the runner's options; raise ``UsageError`` if bad.

    ``--help`` and ``--version`` print to stdout and raise ``_Done``.
    """
    found: dict[str, Any] = {}
    paths: list[str] = []

    def options(target: str, as_module: bool, rest: Sequence[str]) -> RunOptions:
        settings = Settings(paths=tuple(paths) or None, **found)
        return RunOptions(target, as_module, tuple(rest), settings)

    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")

        if arg in ("-h", "--help", "--version"):
            version = f"pmnc_hook {__version__}\n"
            sys.stdout.write(version if arg == "--version" else _usage(prog) + "\n" + HELP)
            raise _Done
        if name in _VALUED:
            if eq:
                given = inline
            elif i + 1 < len(argv):
                i += 1
                given = argv[i]
            else:
                raise UsageError(f"{name} needs a value")
            if name == "--path":
                paths.append(given)
            else:
                found.update(_value(name, given))
        elif arg in _FLAGS:
            found.update(_FLAGS[arg])
        elif arg == "--check":
            raise UsageError(f"--check must come first: {prog} --check [PATH...]")
        elif arg.startswith("-m"):
            # Like Python: -m MODULE or -mMODULE, and the options end there.
            if arg != "-m":
                return options(arg[2:], True, argv[i + 1 :])
            if i + 1 >= len(argv):
                raise UsageError("-m needs a module name")
            return options(argv[i + 1], True, argv[i + 2 :])
        elif arg == "--":
            if i + 1 >= len(argv):
                raise UsageError("nothing to run after --")
            return options(argv[i + 1], False, argv[i + 2 :])
        elif arg == "-":
            raise UsageError("reading the program from stdin is not supported: give a SCRIPT")
        elif arg.startswith("-"):
            raise UsageError(f"unknown option {arg!r} (see --help)")
        else:
            return options(arg, False, argv[i + 1 :])
        i += 1
    raise UsageError("nothing to run: give a SCRIPT or -m MODULE (see --help)")


def _value(option: str, text: str) -> dict[str, Any]:
    """Return the setting ``option text`` gives; UsageError naming the option if bad."""
    label = option + " "
    try:
        if option == "--poll":
            return {"poll": parse_poll(text, label)}
        if option == "--log-level":
            return {"log_level": parse_level(text, label)}
        return {"reload_signal": parse_signal(text, label)}
    except SettingError as exc:
        raise UsageError(str(exc)) from None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Usage and version go to stdout; bad input gets a message on stderr and status 2. A
    program that calls ``sys.exit()`` raises ``SystemExit`` through this function, and
    Ctrl-C raises ``KeyboardInterrupt``, exactly as they would end a plain interpreter.
    """
    if argv is None:
        prog, args = _prog(sys.argv[0] if sys.argv else None), sys.argv[1:]
    else:
        prog, args = "python -m pmnc_hook", list(argv)
    if args and args[0] == "--check":
        from pmnc_hook.check import files as _check

        status: int = _check.main(args[1:])
        return status
    try:
        return run(_parse(args, prog))
    except _Done:
        return 0
    except UsageError as exc:
        sys.stderr.write(_usage(prog))
        sys.stderr.write(f"{prog}: error: {exc}\n")
        return 2
