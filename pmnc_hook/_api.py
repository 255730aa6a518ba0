"""Install and uninstall the hook; the module-level API that works on the installed one."""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import types
from collections.abc import Iterable, Mapping
from importlib.machinery import ModuleSpec, PathFinder
from typing import Callable, Optional

from pmnc_hook import _deferred
from pmnc_hook._errors import PmncHookError
from pmnc_hook._fork import at_fork
from pmnc_hook._settings import DEFAULT_DRAIN_TIMEOUT, HookSettings, PathArg, hook_settings
from pmnc_hook.detect.detector import Detector
from pmnc_hook.detect.interfaces import Backend, Notify
from pmnc_hook.reload import facade as _facade
from pmnc_hook.reload import gate
from pmnc_hook.reload.engine import Engine
from pmnc_hook.reload.events import ReloadEvent, listeners
from pmnc_hook.reload.finder import PmncFinder
from pmnc_hook.reload.registry import ModuleStatus, Registry
from pmnc_hook.reload.reload_signal import ReloadSignal

__all__ = (
    "NAMESPACE",
    "Hook",
    "current",
    "generation",
    "install",
    "on_reload",
    "refresh",
    "rollback",
    "status",
    "uninstall",
)

_log = logging.getLogger("pmnc_hook")

NAMESPACE = "pmnc_hook.modules"


# Guards _current and every install/uninstall; re-entrant for uninstall() from install().
_install_lock = threading.RLock()
_current: Optional[Hook] = None


def _injected_names(facade: object) -> dict[str, object]:
    from pmnc_hook import typecheck

    names: dict[str, object] = {name: getattr(typecheck, name) for name in typecheck.__all__}
    names["pmnc"] = facade
    return names


class Hook:
    """The installed hook: ``uninstall()`` removes it; usable as a context manager."""

    def __init__(self, settings: HookSettings) -> None:
        self.settings = settings
        self.namespace = self._make_namespace(settings.directories)
        self.registry = Registry(
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
        self.signal: Optional[ReloadSignal] = None
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
        gate.engine = self.registry.engine
        meta = sys.meta_path
        index = meta.index(PathFinder) if PathFinder in meta else len(meta)
        meta.insert(index, self.finder)
        self.installed = True
        if self.settings.reload_signal is not None:
            self.signal = ReloadSignal(self.settings.reload_signal, self.registry.refresh)
            self.signal.start()
        self._start_detector()
        _log.debug("installed over %s (%s)", ", ".join(self.directories), self.detector_mode())

    def _start_detector(self) -> None:
        if not self.settings.watch:
            return
        directories = self.directories

        def make_watcher(notify: Notify) -> Backend:
            from pmnc_hook.detect.watchdog_backend import Watcher

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
            if self.signal is not None:
                self.signal.stop()
            try:
                sys.meta_path.remove(self.finder)
            except ValueError:
                pass
            _facade.bind(None)
            if gate.engine is self.registry.engine:
                gate.engine = None
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
        self.registry.reset_after_fork()  # (the reload signal's pipe: reload_signal.py)
        self._start_detector()
        # Edits made between the fork and now have no event: once the new watcher runs, check
        # every loaded module. Through the detector, so a file still being written is read
        # only once it has settled, like any other change.
        if self.detector is not None:
            self.detector.sweep()

    def __enter__(self) -> Hook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    def __repr__(self) -> str:
        state = "installed" if self.installed else "uninstalled"
        return f"<pmnc_hook.Hook {state} over {list(self.directories)}>"


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
    watch: bool = True,
    reload_signal: Optional[int] = None,
    _exclude: Iterable[str] = (),
) -> Hook:
    """Install the finder and loader for these module directories and return the handle.

    ``paths=None`` reads ``PMNC_HOOK_PATH``, else uses the current directory. ``poll``: seconds
    between stat checks instead of the native watcher. ``drain_timeout``: seconds a quiescent
    reload waits for calls in flight. ``watch=False``: no watcher, no poller, no thread; files
    are looked at again only by ``refresh()`` or the reload signal. ``reload_signal``: a signal
    number on which the process runs ``refresh()``. Installing again with the same settings
    returns the same handle; with other settings, the old hook is replaced.
    """
    global _current
    _check_gil()
    _deferred.defer(None)  # an explicit install replaces a start-up still waiting for use
    settings = hook_settings(
        paths,
        strict=strict,
        poll=poll,
        drain_timeout=drain_timeout,
        watch=watch,
        reload_signal=reload_signal,
        exclude=_exclude,
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
    """Return the installed hook (finishing a deferred start-up first), or ``None``."""
    if _deferred.pending():
        _deferred.finish()
    return _current


def refresh() -> list[str]:
    """Check every loaded module's file now; return the names whose content differs."""
    hook = current()
    return hook.registry.refresh() if hook is not None else []


def status() -> Mapping[str, ModuleStatus]:
    """Return one ``ModuleStatus`` per loaded module."""
    hook = current()
    return types.MappingProxyType(hook.registry.status() if hook is not None else {})


def generation() -> int:
    """Return the number of the generation now published (+1 per published change-set)."""
    hook = current()
    return hook.registry.generation if hook is not None else 0


def rollback(name: str) -> int:
    """Publish the previous successfully published source of ``name`` again; return the new
    version number. A module published in a change-set rolls back with the whole set."""
    hook = current()
    if hook is None:
        raise PmncHookError(f"cannot roll back pmnc.{name}: pmnc_hook is not installed")
    from pmnc_hook.reload.rollback import rollback as roll_back

    return roll_back(hook.registry, name)


def on_reload(callback: Callable[[ReloadEvent], object]) -> Callable[[], None]:
    """Call ``callback(event)`` after every load attempt; return the unsubscribe function."""
    return listeners.subscribe(callback)


_forking: Optional[Engine] = None  # the engine a fork holds migrations back in (before_fork)


def _before_fork() -> None:
    # No fork in the middle of install()/uninstall(): the child would be half-installed;
    # none in the middle of another thread's pmnc_init: the child would not have that thread.
    global _forking
    _install_lock.acquire()
    hook = _current
    if hook is not None and hook.installed:
        _forking = hook.registry.engine
        _forking.before_fork()


def _after_fork_in_parent() -> None:
    global _forking
    engine, _forking = _forking, None
    if engine is not None:
        engine.after_fork_in_parent()
    _install_lock.release()


def _after_fork_in_child() -> None:
    global _install_lock, _forking
    _forking = None  # the child's engine forgets the fork (Engine.reset_after_fork)
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
    if hook is not None and hook.signal is not None:
        hook.signal.stop(timeout=2.0)


at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)
atexit.register(_at_exit)
