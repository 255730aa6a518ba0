"""Settings: every ``PMNC_HOOK_*`` variable is read, and every setting parsed, here.

Three sources give settings: ``install()``'s arguments, the environment (read by the start-up
of every process that has ``PMNC_HOOK_PATH`` set, and by the runner as its defaults) and the
runner's command line. The environment and the command line are each read into a ``Settings``
(``None`` where a source says nothing); ``merge`` decides which wins (the first source that
says something, field by field); ``install_arguments`` turns the result into ``install()``'s
arguments, and ``hook_settings`` validates those into the ``HookSettings`` one hook works with.

This module is on the start-up path of every process with ``PMNC_HOOK_PATH`` set, so it imports
nothing costly (typing, dataclasses, logging and signal would each cost that start-up more than
the interpreter's own): records are small classes, annotations are for mypy only.
"""

from __future__ import annotations

import os

from pmnc_hook._errors import PmncHookError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, Optional, TypeVar, Union

    PathArg = Union[str, os.PathLike[str]]
    R = TypeVar("R", bound="_Record")
else:
    PathArg = object  # used in annotations only

__all__ = (
    "DEFAULT_DRAIN_TIMEOUT",
    "DEFAULT_POLL_FALLBACK",
    "LEVELS",
    "SETTLE_SECONDS",
    "HookSettings",
    "SettingError",
    "Settings",
    "env_paths",
    "environment",
    "hook_settings",
    "install_arguments",
    "level_name",
    "merge",
    "parse_level",
    "parse_poll",
    "parse_signal",
    "signal_name",
    "signals",
    "typecheck_enabled",
)

DEFAULT_DRAIN_TIMEOUT = 5.0
# Polling interval used when the native watcher cannot run and the user set none.
DEFAULT_POLL_FALLBACK = 1.0
# Quiet time after the last change event before a file is read (editors write in steps).
SETTLE_SECONDS = 0.02

ENV_PATH = "PMNC_HOOK_PATH"
ENV_POLL = "PMNC_HOOK_POLL"
ENV_STRICT = "PMNC_HOOK_STRICT"
ENV_LOG_LEVEL = "PMNC_HOOK_LOG_LEVEL"
ENV_TYPECHECK = "PMNC_HOOK_TYPECHECK"
ENV_WATCH = "PMNC_HOOK_WATCH"
ENV_RELOAD_SIGNAL = "PMNC_HOOK_RELOAD_SIGNAL"
# Set by the runner for its children: the program's own files (os.pathsep-separated), which
# are ``__main__`` in its processes and never reloadable modules, even in a module directory.
# Read by the start-up and the runner only; install() is told through its _exclude argument.
ENV_EXCLUDE = "PMNC_HOOK_EXCLUDE"

# The logging module's levels (importing logging to look them up costs start-up time).
LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_FALSE = frozenset({"0", "false", "no", "off"})
_INFINITY = float("inf")
# Signals no reload can be asked with: KILL and STOP cannot be caught; the faults are raised by
# the faulting instruction itself, which a Python-level handler returns to.
_UNUSABLE_SIGNALS = frozenset({"SIGKILL", "SIGSTOP", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL"})


class SettingError(PmncHookError, ValueError):
    """A setting has a bad value; the message names the setting and what it accepts."""


# -- one value each -----------------------------------------------------------------------


def parse_poll(text: str, label: str = "poll ") -> float:
    """Return the polling interval ``text`` gives (finite seconds > 0); ``label`` names the
    setting in the error (``"--poll "``, ``"PMNC_HOOK_POLL="``)."""
    try:
        seconds = float(text)
    except ValueError:
        raise SettingError(f"{label}{text!r} is not a number of seconds") from None
    if not 0 < seconds < _INFINITY:  # also refuses nan
        raise SettingError(f"{label}{text!r} must be a positive number of seconds")
    return seconds


def parse_level(text: str, label: str = "") -> int:
    """Return the logging level ``text`` names (a level name, any case, or a number)."""
    value = text.strip().upper()
    if value.isdigit():
        return int(value)
    level = LEVELS.get("WARNING" if value == "WARN" else value)
    if level is None:
        raise SettingError(
            f"{label}{text!r} is not a logging level: use one of {', '.join(LEVELS)}"
        )
    return level


def level_name(level: int) -> str:
    """Return the text ``parse_level`` reads back as ``level``: its name, else its number."""
    return next((name for name, value in LEVELS.items() if value == level), str(level))


def signals() -> Any:
    """Return ``_signal``, the C module the signal module wraps: always loaded, and free of
    signal's enums, which would cost every start-up with a reload signal a few milliseconds."""
    return __import__("_signal")


def parse_signal(text: str, label: str = "") -> int:
    """Return the number of the signal ``text`` names (``HUP`` or ``SIGHUP``, any case).

    A name this system lacks, or a signal no handler can serve (KILL, STOP, the faults), is
    a ``SettingError``.
    """
    name = text.strip().upper()
    if not name.startswith("SIG"):
        name = "SIG" + name
    number = getattr(signals(), name, None) if name[3:].isalnum() else None
    if not isinstance(number, int):
        raise SettingError(f"{label}{text!r} is not a signal name (e.g. HUP, USR1, USR2)")
    if name in _UNUSABLE_SIGNALS:
        raise SettingError(f"{label}{text!r} cannot serve as the reload signal: use HUP or USR1")
    return number


def signal_name(number: int) -> str:
    """Return the name ``parse_signal`` reads back as ``number`` (``HUP`` for SIGHUP)."""
    module = signals()
    names = [n for n in dir(module) if n[3:].isalnum() and n.startswith("SIG")]
    found = [n for n in names if getattr(module, n) == number]
    return min(found)[3:] if found else str(number)


def _flag(text: str) -> bool:
    return text.strip().lower() not in _FALSE


# -- what a source says -------------------------------------------------------------------


class _Record:
    """Named fields (``__slots__``), read-only, compared and shown by value.

    Not a dataclass: importing dataclasses would cost every start-up more than the
    interpreter's own start-up does.
    """

    __slots__: tuple[str, ...] = ()

    @classmethod
    def _make(cls: type[R], values: Mapping[str, object]) -> R:
        record = object.__new__(cls)
        for name in cls.__slots__:
            object.__setattr__(record, name, values[name])
        return record

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Record) or type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class Settings(_Record):
    """What one source (environment, command line) says; ``None`` where it says nothing.

    ``exclude``: program files that are never reloadable modules (the runner's children).
    """

    __slots__ = ("exclude", "log_level", "paths", "poll", "reload_signal", "strict", "watch")
    paths: Optional[tuple[str, ...]]
    poll: Optional[float]
    strict: Optional[bool]
    log_level: Optional[int]
    watch: Optional[bool]
    reload_signal: Optional[int]
    exclude: tuple[str, ...]

    def __init__(
        self,
        *,
        paths: Optional[tuple[str, ...]] = None,
        poll: Optional[float] = None,
        strict: Optional[bool] = None,
        log_level: Optional[int] = None,
        watch: Optional[bool] = None,
        reload_signal: Optional[int] = None,
        exclude: tuple[str, ...] = (),
    ) -> None:
        fields = {"paths": paths, "poll": poll, "strict": strict, "log_level": log_level}
        fields.update(watch=watch, reload_signal=reload_signal, exclude=tuple(exclude))
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> Settings:
        """Read the ``PMNC_HOOK_*`` variables (default ``os.environ``); ``SettingError`` if bad.

        A variable set to the empty string counts as unset.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> Optional[str]:
            value = env.get(name, "")
            return value if value.strip() else None

        poll, level, watch = get(ENV_POLL), get(ENV_LOG_LEVEL), get(ENV_WATCH)
        strict, signal = get(ENV_STRICT), get(ENV_RELOAD_SIGNAL)
        return cls(
            paths=env_paths(env),
            poll=parse_poll(poll, ENV_POLL + "=") if poll else None,
            strict=_flag(strict) if strict else None,
            log_level=parse_level(level, ENV_LOG_LEVEL + "=") if level else None,
            watch=_flag(watch) if watch else None,
            reload_signal=parse_signal(signal, ENV_RELOAD_SIGNAL + "=") if signal else None,
            exclude=_split(env.get(ENV_EXCLUDE)),
        )


def _split(value: Optional[str]) -> tuple[str, ...]:
    return tuple(p for p in (value or "").split(os.pathsep) if p.strip())


def env_paths(environ: Optional[Mapping[str, str]] = None) -> Optional[tuple[str, ...]]:
    """Return the directories ``PMNC_HOOK_PATH`` lists, or ``None`` if it is unset or empty."""
    env = os.environ if environ is None else environ
    return _split(env.get(ENV_PATH)) or None


def typecheck_enabled(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Tell whether ``PMNC_HOOK_TYPECHECK`` leaves type checks on (only ``0`` turns them off)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_TYPECHECK, "1").strip() != "0"


def merge(*sources: Settings) -> Settings:
    """Return, field by field, what the first source that says something says.

    ``exclude`` is the union of all sources' (in order, without repeats).
    """
    values: dict[str, object] = {
        name: next((v for v in (getattr(s, name) for s in sources) if v is not None), None)
        for name in Settings.__slots__
    }
    values["exclude"] = tuple(dict.fromkeys(p for s in sources for p in s.exclude))
    return Settings._make(values)


def install_arguments(settings: Settings) -> dict[str, Any]:
    """Return the keyword arguments of ``install()`` (paths included) that ``settings`` give."""
    return {
        "paths": settings.paths,
        "strict": bool(settings.strict),
        "poll": settings.poll,
        "watch": settings.watch is not False,
        "reload_signal": settings.reload_signal,
        "_exclude": settings.exclude,
    }


def environment(settings: Settings) -> dict[str, str]:
    """Return the variables from which a child process installs the same hook at start-up."""
    env: dict[str, str] = {}
    if settings.paths:
        env[ENV_PATH] = os.pathsep.join(settings.paths)
    if settings.exclude:
        env[ENV_EXCLUDE] = os.pathsep.join(settings.exclude)
    if settings.poll is not None:
        env[ENV_POLL] = str(settings.poll)
    if settings.strict:
        env[ENV_STRICT] = "1"
    if settings.log_level is not None:
        env[ENV_LOG_LEVEL] = level_name(settings.log_level)
    if settings.watch is False:
        env[ENV_WATCH] = "0"
    if settings.reload_signal is not None:
        env[ENV_RELOAD_SIGNAL] = signal_name(settings.reload_signal)
    return env


# -- what one installed hook works with ---------------------------------------------------


class HookSettings(_Record):
    """What one installed hook works with, resolved and validated (``hook_settings``)."""

    __slots__ = (
        "directories",
        "drain_timeout",
        "exclude",
        "poll",
        "reload_signal",
        "strict",
        "watch",
    )
    directories: tuple[str, ...]
    strict: bool
    poll: Optional[float]
    drain_timeout: float
    watch: bool
    reload_signal: Optional[int]
    exclude: frozenset[str]


def _directories(paths: Optional[Iterable[PathArg]]) -> tuple[str, ...]:
    raw: Iterable[PathArg]
    if paths is None:
        raw = env_paths() or (os.getcwd(),)
    elif isinstance(paths, (str, os.PathLike)):
        raw = (paths,)
    else:
        raw = paths
    directories: list[str] = []
    for path in raw:
        directory = os.path.abspath(os.fspath(path))
        if not os.path.isdir(directory):
            raise PmncHookError(f"module directory {directory} does not exist or is no directory")
        if directory not in directories:
            directories.append(directory)
    if not directories:
        raise PmncHookError("install() needs at least one module directory")
    return tuple(directories)


def hook_settings(
    paths: Optional[Iterable[PathArg]],
    *,
    strict: bool,
    poll: Optional[float],
    drain_timeout: float,
    watch: bool,
    reload_signal: Optional[int],
    exclude: Iterable[str] = (),
) -> HookSettings:
    """Resolve ``install()``'s arguments; raise ``SettingError`` or ``PmncHookError`` if bad.

    ``paths=None`` reads ``PMNC_HOOK_PATH``, else the current directory. ``exclude``: program
    files that are never reloadable modules (given by the start-up and the runner).
    """
    if poll is not None and not 0 < poll < _INFINITY:
        raise SettingError(f"poll must be a positive, finite number of seconds, not {poll!r}")
    if not 0 <= drain_timeout < _INFINITY:
        raise SettingError(f"drain_timeout must be a finite number >= 0, not {drain_timeout!r}")
    if reload_signal is not None and (
        isinstance(reload_signal, bool) or not isinstance(reload_signal, int)
    ):
        raise SettingError(f"reload_signal must be a signal number, not {reload_signal!r}")
    return HookSettings._make(
        {
            "directories": _directories(paths),
            "strict": bool(strict),
            "poll": float(poll) if poll is not None else None,
            "drain_timeout": float(drain_timeout),
            "watch": bool(watch),
            "reload_signal": int(reload_signal) if reload_signal is not None else None,
            "exclude": frozenset(os.path.realpath(p) for p in exclude),
        }
    )
