"""Install and uninstall the hook; the module-level API that works on the installed one."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.machinery import ModuleSpec, PathFinder
from typing import Any, Callable, Optional, Union

from . import _facade
from ._config import DEFAULT_DRAIN_TIMEOUT, env_exclude, env_paths
from ._detect import Detector
from ._errors import PmncHookError
from ._events import ReloadEvent, listeners
from ._finder import PmncFinder
from ._registry import ModuleStatus, Registry

__all__ = (
    "NAMESPACE",
    "Hook",
    "current",
    "install",
    "on_reload",
    "refresh",
    "status",
    "uninstall",
)

_log = logging.getLogger("pmnc_hook")

NAMESPACE = "pmnc_hook.modules"

PathArg = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class _Settings:
    directories: tuple[str, ...]
    strict: bool
    poll: Optional[float]
    drain_timeout: float
    exclude: frozenset[str]


# Guards _current and every install/uninstall; re-entrant for uninstall() from install().
_install_lock = threading.RLock()
_current: Optional[Hook] = None


def _injected_names(facade: object) -> dict[str, object]:
    from . import typecheck

    names: dict[str, object] = {name: getattr(typecheck, name) for name in typecheck.__all__}
    names["pmnc"] = facade
    return names


class Hook:
    """The installed hook: ``uninstall()`` removes it; usable as a context manager."""

    def __init__(self, settings: _Settings) -> None:
        self.settings = settings
        self.namespace = self._make_namespace(settings.directories)
        self.registry = Registry(
            facade=_facade.pmnc,
            namespace=self.namespace,
            directories=settings.directories,
            strict=settings.strict,
            drain_timeout=settings.drain_timeout,
            exclude=settings.exclude,
            listeners=listeners,
            inject=_injected_names(_facade.pmnc),
        )
        self.finder = PmncFinder(self.registry, self.namespace, settings.strict)
        self.detector: Optional[Detector] = None
        self.installed = False

    @staticmethod
    def _make_namespace(directories: tuple[str, ...]) -> types.ModuleType:
        module = types.ModuleType(NAMESPACE, "Reloadable modules managed by pmnc_hook.")
        spec = ModuleSpec(NAMESPACE, None, is_package=True)
        spec.submodule_search_locations = list(directories)
        module.__spec__ = spec
        module.__path__ = list(directories)
        module.__package__ = NAMESPACE
        return module

    @property
    def directories(self) -> tuple[str, ...]:
        """The module directories, earlier first."""
        return self.settings.directories

    def _start(self) -> None:
        sys.modules[NAMESPACE] = self.namespace
        package = sys.modules["pmnc_hook"]
        setattr(package, "modules", self.namespace)  # noqa: B010 - not a declared attribute
        _facade.bind(self.registry)
        meta = sys.meta_path
        index = meta.index(PathFinder) if PathFinder in meta else len(meta)
        meta.insert(index, self.finder)
        self.installed = True
        self._start_detector()
        from ._plugins import load_listeners

        load_listeners()
        _log.debug("installed over %s (%s)", ", ".join(self.directories), self.detector_mode())

    def _start_detector(self) -> None:
        directories = self.directories

        def make_watcher(notify: Callable[[str, Optional[bool]], None]) -> Any:
            from ._watch import Watcher

            return Watcher(directories, notify)

        self.detector = Detector(
            self.registry, make_watcher, directories=directories, poll=self.settings.poll
        )
        self.detector.start()

    def detector_mode(self) -> str:
        """Say how changes are detected now: ``"watch"`` or ``"poll"``."""
        return self.detector.mode if self.detector else "none"

    def uninstall(self) -> None:
        """Remove this hook: stop its threads, take its modules and finder away."""
        global _current
        with _install_lock:
            if not self.installed:
                return
            self.installed = False
            if self.detector is not None:
                self.detector.stop()
            try:
                sys.meta_path.remove(self.finder)
            except ValueError:
                pass
            _facade.bind(None)
            self.registry.close()
            if sys.modules.get(NAMESPACE) is self.namespace:
                del sys.modules[NAMESPACE]
            package = sys.modules.get("pmnc_hook")
            if package is not None and getattr(package, "modules", None) is self.namespace:
                delattr(package, "modules")
            if _current is self:
                _current = None

    def _after_fork_in_child(self) -> None:
        # Drop the parent's detector first, before anything here can fail: its threads do not
        # exist in this process, and its inotify instance is shared with the parent, so
        # stopping it (uninstall(), the exit handler) would remove the parent's watches. Its
        # descriptors are closed directly, so they do not pile up generation after generation.
        inherited, self.detector = self.detector, None
        if inherited is not None:
            inherited.forget_after_fork()
        self.registry.reset_after_fork()
        self._start_detector()
        # Edits made between the fork and now have no event: once the new watcher runs, check
        # every loaded module. Through the detector, so a file still being written is read
        # only once it has settled, like any other change.
        assert self.detector is not None
        self.detector.sweep()

    def __enter__(self) -> Hook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def __repr__(self) -> str:
        state = "installed" if self.installed else "uninstalled"
        return f"<pmnc_hook.Hook {state} over {list(self.directories)}>"


def _normalise(paths: Optional[Iterable[PathArg]]) -> tuple[str, ...]:
    if paths is None:
        raw: Iterable[PathArg] = env_paths() or (os.getcwd(),)
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


def _check_gil() -> None:
    is_gil_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_gil_enabled is not None and not is_gil_enabled():
        raise PmncHookError(
            "pmnc_hook needs the GIL (its lock-free call tracking relies on it); this is a "
            "free-threaded build with the GIL disabled: run with PYTHON_GIL=1 or -X gil=1"
        )


def install(
    paths: Optional[Iterable[PathArg]] = None,
    *,
    strict: bool = False,
    poll: Optional[float] = None,
    drain_timeout: float = DEFAULT_DRAIN_TIMEOUT,
    _exclude: Iterable[str] = (),
) -> Hook:
    """Install the finder and loader for these module directories and return the handle.

    ``paths=None`` reads ``PMNC_HOOK_PATH``, else uses the current directory. ``poll``: seconds
    between stat checks instead of the native watcher. ``drain_timeout``: seconds a quiescent
    reload waits for calls in flight. Installing again with the same settings returns the same
    handle; with other settings, the old hook is replaced.
    """
    global _current
    _check_gil()
    if poll is not None and poll <= 0:
        raise ValueError(f"poll must be a positive number of seconds, not {poll!r}")
    if drain_timeout < 0:
        raise ValueError(f"drain_timeout must not be negative, not {drain_timeout!r}")
    settings = _Settings(
        directories=_normalise(paths),
        strict=bool(strict),
        poll=float(poll) if poll is not None else None,
        drain_timeout=float(drain_timeout),
        exclude=frozenset(os.path.realpath(p) for p in (*_exclude, *env_exclude())),
    )
    with _install_lock:
        if _current is not None and _current.installed:
            if _current.settings == settings:
                return _current
            _log.info("replacing the installed hook over %s", ", ".join(_current.directories))
            _current.uninstall()
        hook = Hook(settings)
        _current = hook
        try:
            hook._start()
        except BaseException:
            hook.uninstall()
            _current = None
            raise
        return hook


def uninstall() -> None:
    """Remove the installed hook, if any."""
    with _install_lock:
        hook = _current
    if hook is not None:
        hook.uninstall()


def current() -> Optional[Hook]:
    """Return the installed hook, or ``None``."""
    return _current


def refresh() -> list[str]:
    """Check every loaded module's file now; return the names whose content differs."""
    hook = _current
    return hook.registry.refresh() if hook is not None else []


def status() -> Mapping[str, ModuleStatus]:
    """Return one ``ModuleStatus`` per loaded module."""
    hook = _current
    return types.MappingProxyType(hook.registry.status() if hook is not None else {})


def on_reload(callback: Callable[[ReloadEvent], object]) -> Callable[[], None]:
    """Call ``callback(event)`` after every load attempt; return the unsubscribe function."""
    return listeners.subscribe(callback)


def _before_fork() -> None:
    # No fork in the middle of install()/uninstall(): the child would be half-installed.
    _install_lock.acquire()


def _after_fork_in_parent() -> None:
    _install_lock.release()


def _after_fork_in_child() -> None:
    global _install_lock
    _install_lock = threading.RLock()
    listeners.reset_after_fork()
    hook = _current
    if hook is not None and hook.installed:
        try:
            hook._after_fork_in_child()
        except Exception:
            _log.exception("restarting change detection in the forked child failed")


def _at_exit() -> None:
    hook = _current
    if hook is not None and hook.detector is not None:
        hook.detector.stop(timeout=2.0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
atexit.register(_at_exit)
