"""The reload signal: on e.g. SIGHUP the process runs ``refresh()`` (never in the handler).

The handler only writes a byte to a pipe; a thread blocked on that pipe wakes and runs
``refresh()``, then logs one line saying what changed. Handlers the program had for other
signals are left alone; the one this replaces is put back at ``uninstall()``. A handler the
program installs later for the same signal wins (a warning says so once). Forking servers
reset every signal to its default in a new worker before installing their own handlers
(gunicorn does): while the reload signal is installed, ``signal.signal(sig, SIG_DFL)`` of that
very signal keeps pmnc_hook's handler (a worker would otherwise die of the signal), and a reset
seen later is undone where that can be done (the main thread, e.g. in ``wsgi``/``asgi``). Forked
children get a pipe and a thread of their own; the signal is blocked around the fork, so one
that reaches the child early waits for its own pipe instead of waking the parent's.
"""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
from typing import Any, Callable, Optional

from pmnc_hook._errors import PmncHookError
from pmnc_hook._fork import at_fork

__all__ = ("ReloadSignal", "restore_if_reset", "signal_name")

_log = logging.getLogger("pmnc_hook.signal")
_CHECK = 1.0  # seconds between checks that our handler is still the one installed

_active: Optional[ReloadSignal] = None
_set_handler = signal.signal  # the real one, whatever ``signal.signal`` is made to be


def _signal(signalnum: int, handler: Any) -> Any:
    """``signal.signal``, except that resetting the reload signal to its default keeps ours."""
    active = _active
    if active is not None and signalnum == active.signum and handler == signal.SIG_DFL:
        _log.debug("%s reset to its default: pmnc_hook's reload handler stays", active.name)
        return _set_handler(signalnum, active._installed)
    return _set_handler(signalnum, handler)


def _guard_resets(on: bool) -> None:
    signal.signal = _signal if on else _set_handler


def signal_name(signum: int) -> str:
    """Return ``SIGHUP`` for ``signal.SIGHUP`` (the number if it has no name)."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


class ReloadSignal:
    """Runs ``refresh`` on a thread of its own whenever ``signum`` arrives."""

    def __init__(self, signum: int, refresh: Callable[[], list[str]]) -> None:
        self.signum = signum
        self.name = signal_name(signum)
        self._refresh = refresh
        self._previous: Any = None
        self._pipe: Optional[tuple[int, int]] = None
        self._thread: Optional[threading.Thread] = None
        self._stopping = False
        self._warned = False
        self._installed: Any = self._handler  # what signal.getsignal() shows while it is ours

    def _handler(self, signum: int, frame: object) -> None:
        pipe = self._pipe
        if pipe is not None:
            try:
                os.write(pipe[1], b"\0")
            except OSError:  # full (a reload is due anyway) or closing
                pass

    def start(self) -> None:
        """Install the handler (main thread only) and start the thread; ``PmncHookError`` if
        the signal cannot be used."""
        global _active
        if threading.current_thread() is not threading.main_thread():
            self._adopt()
            return
        try:
            self._previous = signal.getsignal(self.signum)
            self._open()
            _set_handler(self.signum, self._handler)
        except (OSError, ValueError, RuntimeError) as exc:
            self._close()
            raise PmncHookError(
                f"cannot use signal {self.name} as the reload signal: {exc}; pick another, "
                "e.g. HUP or USR2"
            ) from None
        _active = self
        _guard_resets(True)
        self._start_thread()

    def _adopt(self) -> None:
        # The PMNC_HOOK_PATH start-up caught the signal in the main thread; the first use,
        # which installs the hook, may come in any thread: its handler forwards to ours.
        global _active
        from pmnc_hook.run.startup import adopt_signal

        self._open()
        installed = adopt_signal(self.signum, self._handler)
        if installed is None:
            self._close()
            raise PmncHookError(
                f"the reload signal {self.name} can only be installed from the main thread"
            )
        self._installed = installed
        _active = self
        _guard_resets(True)
        self._start_thread()

    def _open(self) -> None:
        read, write = os.pipe()
        os.set_blocking(write, False)
        self._pipe = (read, write)

    def _close(self) -> None:
        pipe, self._pipe = self._pipe, None
        if pipe is not None:
            for fd in pipe:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def _start_thread(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="pmnc_hook-signal", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            pipe = self._pipe
            if pipe is None:
                return
            try:
                ready, _, _ = select.select([pipe[0]], [], [], _CHECK)
            except (OSError, ValueError):
                return
            if self._stopping:
                return
            self._check_handler()
            if not ready:
                continue
            try:
                os.read(pipe[0], 4096)
            except OSError:
                return
            self._reload()

    def _reload(self) -> None:
        try:
            changed = self._refresh()
        except Exception:
            _log.exception("reload signal %s: refresh() failed", self.name)
            return
        if changed:
            _log.info("reload signal %s: changed: %s", self.name, ", ".join(changed))
        else:
            _log.info("reload signal %s: nothing changed", self.name)

    def _check_handler(self) -> None:
        installed = signal.getsignal(self.signum)
        if installed == self._installed or installed in (signal.SIG_DFL, None) or self._warned:
            return
        self._warned = True
        _log.warning(
            "the program installed its own handler for %s, which replaces pmnc_hook's reload "
            "signal: sending %s no longer reloads (choose another --reload-signal)",
            self.name,
            self.name,
        )

    def restore_if_reset(self) -> None:
        """Put the handler back if something reset the signal to its default (main thread)."""
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(self.signum) == signal.SIG_DFL:
            _set_handler(self.signum, self._installed)

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread; put the previous handler back (from the main thread)."""
        global _active
        self._stopping = True
        pipe = self._pipe
        if pipe is not None:
            try:
                os.write(pipe[1], b"\0")
            except OSError:
                pass
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(self.signum) == self._installed:
                    previous = self._previous if self._previous is not None else signal.SIG_DFL
                    _set_handler(self.signum, previous)
            except (OSError, ValueError):
                pass
        self._close()
        if _active is self:
            _active = None
            _guard_resets(False)

    def after_fork_in_child(self) -> None:
        """In a forked child: a pipe and a thread of this process's own."""
        self._close()
        self._open()
        self._start_thread()


def restore_if_reset() -> None:
    """Put the reload signal's handler back if a forking server reset it (cheap)."""
    active = _active
    if active is not None:
        active.restore_if_reset()


# The reload signal is blocked in the forking thread around a fork: in the child it stays
# pending until the child has a pipe of its own (else it would wake the parent's thread).
_blocked: list[set[int]] = []


def _before_fork() -> None:
    active = _active
    if active is not None:
        _blocked.append(signal.pthread_sigmask(signal.SIG_BLOCK, {active.signum}))


def _after_fork_in_parent() -> None:
    if _blocked:
        signal.pthread_sigmask(signal.SIG_SETMASK, _blocked.pop())


def _after_fork_in_child() -> None:
    active = _active
    if active is not None:
        active.after_fork_in_child()
    if _blocked:
        signal.pthread_sigmask(signal.SIG_SETMASK, _blocked.pop())


at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)
