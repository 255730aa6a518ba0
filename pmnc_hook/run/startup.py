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

Even then a process that never uses the hook pays next to nothing: the start-up checks the
variables and installs ``_Trigger``, a finder that only recognises the names the hook serves.
The hook itself (its imports, its watcher thread, the logging configuration) is installed by
the first use (``pmnc_hook._deferred``): the first ``pmnc.<name>`` access, ``status()`` or
``refresh()``, or an import of a managed name, so that a direct ``import bar`` of a module file
is caught from the very start. Only ``os``, ``sys`` and the package's light modules
(``_deferred``, ``_settings``, ``_errors``) are imported here.
"""

from __future__ import annotations

import os
import sys
from _frozen_importlib_external import PathFinder

from pmnc_hook import _deferred
from pmnc_hook._settings import SettingError, Settings, install_arguments, merge, signals

TYPE_CHECKING = False
if TYPE_CHECKING:
    import types
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from typing import Any, Callable, Optional

    SignalHandler = Callable[[int, Optional[types.FrameType]], object]

__all__ = ("adopt_signal", "cancel", "process_startup")

NAMESPACE = "pmnc_hook.modules"  # as pmnc_hook._api names it (importing _api costs the hook)

# Set by the first process_startup() call: the .pth file can be read twice (site-packages
# reached through two paths, e.g. a venv's lib64 symlink) and must set up once.
_started = False
_set_up = False
# Signals the start-up holds (number -> the handler it replaced), and where each one is
# forwarded once the hook is installed (adopt_signal).
_held: dict[int, object] = {}
_forward: dict[int, SignalHandler] = {}
# Seconds an import of a managed name waits for a start-up another thread is finishing.
_WAIT_FOR_START = 5.0


class _Trigger:
    """Stand in for the hook's finder until the first use; then pass the question on.

    Asked for a name the hook serves (a module file's name in a module directory, or the
    ``pmnc_hook.modules`` namespace), it installs the hook and returns the hook's answer. Once
    the start-up is no longer pending it answers nothing: it stays in ``sys.meta_path`` because
    removing a finder while another thread iterates the list could skip the next one.
    """

    def __init__(self, directories: tuple[str, ...], exclude: Sequence[str]) -> None:
        self.directories = directories
        self.exclude = frozenset(exclude)

    def find_spec(
        self, fullname: str, path: Optional[Sequence[str]] = None, target: Any = None
    ) -> Optional[ModuleSpec]:
        """Return the hook's spec for a name it serves, installing it first; else ``None``."""
        if not _deferred.pending() or not self._serves(fullname, path):
            return None
        # Bounded: this thread holds the import lock of fullname, and a start running in
        # another thread may be importing a module of that name (one that shadows a standard
        # module, say) and wait for it. Past the bound this import goes on without the hook.
        if not _deferred.finish(timeout=_WAIT_FOR_START):
            return None
        from pmnc_hook._api import current

        hook = current()
        return None if hook is None else hook.finder.find_spec(fullname, path, target)

    def _serves(self, fullname: str, path: Optional[Sequence[str]]) -> bool:
        if fullname == NAMESPACE or fullname.startswith(NAMESPACE + "."):
            return True
        if path is not None or not fullname.isidentifier() or fullname.startswith("__"):
            return False
        for directory in self.directories:
            candidate = os.path.join(directory, fullname + ".py")
            if os.path.isfile(candidate) and os.path.realpath(candidate) not in self.exclude:
                return True
        return False

    def __repr__(self) -> str:
        return f"<pmnc_hook start-up finder over {list(self.directories)}>"


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


def process_startup() -> bool:
    """Set the hook up as the ``PMNC_HOOK_*`` variables say; tell whether it was.

    Called by the ``.pth`` line at interpreter start-up; later calls change nothing. The hook
    is installed at the first use. Never raises: a bad variable or a missing directory is
    reported on stderr in one line, and the program runs without the hook.
    """
    global _started, _set_up
    if _started:
        return _set_up
    _started = True
    try:
        settings = Settings.from_env()
        if not settings.paths:
            return False
        directories = tuple(os.path.abspath(d) for d in settings.paths)
        for directory in directories:
            if not os.path.isdir(directory):
                raise SettingError(
                    f"module directory {directory} does not exist or is no directory"
                )
        # Resolved now: the program may change its directory or argv before the first use.
        settings = merge(Settings(paths=directories, exclude=_main_files(directories)), settings)
        if settings.reload_signal is not None:
            _hold_signal(settings.reload_signal)
    except Exception as exc:
        _complain("not installed at start-up", exc)
        return False
    _deferred.defer(lambda: _install(settings))
    sys.meta_path.insert(_path_finder_index(), _Trigger(directories, settings.exclude))
    _set_up = True
    return True


def _path_finder_index() -> int:
    try:
        return sys.meta_path.index(PathFinder)
    except ValueError:
        return len(sys.meta_path)


def _install(settings: Settings) -> None:
    """Install the hook the start-up set up (run once, by the first use)."""
    try:
        if settings.log_level is not None:
            from pmnc_hook.run.logs import configure_logging

            configure_logging(settings.log_level)
        from pmnc_hook._api import install

        install(**install_arguments(settings))
    except Exception as exc:
        _complain("not installed at first use", exc)


def _complain(what: str, exc: BaseException) -> None:
    message = " ".join(str(exc).split()) or type(exc).__name__
    sys.stderr.write(f"pmnc_hook: {what}: {message}\n")


# -- the reload signal, held from the start --------------------------------------------------


def _hold_signal(number: int) -> None:
    """Catch the reload signal from the start (the main thread; the first use may be in any).

    Before the hook is installed no module is loaded, so there is nothing to refresh: the
    signal is caught and does nothing, instead of ending the process by its default action.
    """
    _held[number] = signals().signal(number, _early_handler)


def _early_handler(number: int, frame: Optional[types.FrameType]) -> None:
    handler = _forward.get(number)
    if handler is not None:
        handler(number, frame)


def adopt_signal(number: int, handler: SignalHandler) -> Optional[SignalHandler]:
    """Have the start-up's handler of signal ``number`` call ``handler``; return it, or ``None``
    if the start-up holds no such signal.

    For the hook's installation, which the first use may run in a thread other than the main
    one, where ``signal.signal`` cannot be called: the signal reaches ``handler`` without it.
    The handler returned is what ``signal.getsignal(number)`` shows while this holds.
    """
    if not _holds(number):
        return None
    _forward[number] = handler
    return _early_handler


def _holds(number: int) -> bool:
    return number in _held and bool(signals().getsignal(number) is _early_handler)


def cancel() -> None:
    """Forget a set-up still waiting for its first use (the runner installs its own hook).

    Call from the main thread: signals the start-up holds get their earlier handlers back.
    """
    _deferred.defer(None)
    module = signals()
    for number, previous in _held.items():
        if module.getsignal(number) is _early_handler:
            module.signal(number, previous)
    _held.clear()
    _forward.clear()
