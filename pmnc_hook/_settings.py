"""Settings: one dataclass, and the one place every ``PMNC_HOOK_*`` variable is read."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Optional, Union

__all__ = (
    "DEFAULT_DRAIN_TIMEOUT",
    "HookSettings",
    "hook_settings",
    "DEFAULT_POLL_FALLBACK",
    "SETTLE_SECONDS",
    "EnvSettings",
    "env_exclude",
    "env_paths",
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
# Set by the runner (issue 4): the program's own files (os.pathsep-separated), which are
# ``__main__`` in its processes and never reloadable modules, even inside a module directory.
ENV_EXCLUDE = "PMNC_HOOK_EXCLUDE"

_FALSE = frozenset({"", "0", "false", "no", "off"})


def typecheck_enabled(environ: Optional[Mapping[str, str]] = None) -> bool:
    """Tell whether ``PMNC_HOOK_TYPECHECK`` leaves type checks on (only ``0`` turns them off)."""
    env = os.environ if environ is None else environ
    return env.get(ENV_TYPECHECK, "1").strip() != "0"


def _split(value: Optional[str]) -> tuple[str, ...]:
    return tuple(p for p in (value or "").split(os.pathsep) if p.strip())


def env_paths(environ: Optional[Mapping[str, str]] = None) -> Optional[tuple[str, ...]]:
    """Return the directories ``PMNC_HOOK_PATH`` lists, or ``None`` if it is unset or empty."""
    env = os.environ if environ is None else environ
    return _split(env.get(ENV_PATH)) or None


def env_exclude(environ: Optional[Mapping[str, str]] = None) -> tuple[str, ...]:
    """Return the program files ``PMNC_HOOK_EXCLUDE`` lists (set by the runner for its
    children): files in module directories that are not reloadable modules."""
    env = os.environ if environ is None else environ
    return _split(env.get(ENV_EXCLUDE))


def _flag(value: Optional[str]) -> bool:
    return value is not None and value.strip().lower() not in _FALSE


@dataclass(frozen=True)
class EnvSettings:
    """What the ``PMNC_HOOK_*`` environment variables say; ``None`` where one is unset."""

    paths: Optional[tuple[str, ...]]
    poll: Optional[float]
    strict: bool
    log_level: Optional[str]
    typecheck: bool
    exclude: tuple[str, ...] = ()  # PMNC_HOOK_EXCLUDE (issue 4: the runner's program files)

    @classmethod
    def read(cls, environ: Optional[Mapping[str, str]] = None) -> EnvSettings:
        """Read the variables from ``environ`` (default ``os.environ``); raise ValueError if bad."""
        env = os.environ if environ is None else environ
        raw_poll = env.get(ENV_POLL)
        poll: Optional[float] = None
        if raw_poll is not None and raw_poll.strip():
            try:
                poll = float(raw_poll)
            except ValueError:
                raise ValueError(f"{ENV_POLL}={raw_poll!r} is not a number of seconds") from None
            if poll <= 0:
                raise ValueError(f"{ENV_POLL}={raw_poll!r} must be a positive number of seconds")
        level = env.get(ENV_LOG_LEVEL)
        return cls(
            paths=env_paths(env),
            poll=poll,
            strict=_flag(env.get(ENV_STRICT)),
            log_level=level.strip().upper() if level and level.strip() else None,
            typecheck=typecheck_enabled(env),
            exclude=env_exclude(env),
        )


PathArg = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class HookSettings:
    """What one installed hook works with, resolved and validated (``hook_settings``)."""

    directories: tuple[str, ...]
    strict: bool
    poll: Optional[float]
    drain_timeout: float
    watch: bool
    reload_signal: Optional[int]
    exclude: frozenset[str]


def _directories(paths: Optional[Iterable[PathArg]], environ: Mapping[str, str]) -> tuple[str, ...]:
    raw: Iterable[PathArg]
    if paths is None:
        raw = env_paths(environ) or (os.getcwd(),)
    elif isinstance(paths, (str, os.PathLike)):
        raw = (paths,)
    else:
        raw = paths
    directories: list[str] = []
    for path in raw:
        directory = os.path.abspath(os.fspath(path))
        if not os.path.isdir(directory):
            from pmnc_hook._errors import PmncHookError

            raise PmncHookError(f"module directory {directory} does not exist or is no directory")
        if directory not in directories:
            directories.append(directory)
    if not directories:
        from pmnc_hook._errors import PmncHookError

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
    environ: Optional[Mapping[str, str]] = None,
) -> HookSettings:
    """Resolve ``install()``'s arguments; raise ``ValueError`` or ``PmncHookError`` if bad.

    ``paths=None`` reads ``PMNC_HOOK_PATH``, else the current directory. ``exclude`` adds
    program files (the runner's ``PMNC_HOOK_EXCLUDE``) that are never reloadable modules.
    """
    env = os.environ if environ is None else environ
    if poll is not None and not (math.isfinite(poll) and poll > 0):
        raise ValueError(f"poll must be a positive, finite number of seconds, not {poll!r}")
    if not (math.isfinite(drain_timeout) and drain_timeout >= 0):
        raise ValueError(f"drain_timeout must be a finite number >= 0, not {drain_timeout!r}")
    if reload_signal is not None and (
        isinstance(reload_signal, bool) or not isinstance(reload_signal, int)
    ):
        raise ValueError(f"reload_signal must be a signal number, not {reload_signal!r}")
    return HookSettings(
        directories=_directories(paths, env),
        strict=bool(strict),
        poll=float(poll) if poll is not None else None,
        drain_timeout=float(drain_timeout),
        watch=bool(watch),
        reload_signal=int(reload_signal) if reload_signal is not None else None,
        exclude=frozenset(os.path.realpath(p) for p in (*exclude, *env_exclude(env))),
    )
