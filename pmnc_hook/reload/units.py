"""Units of work: ``pmnc_hook.request()``, and ``wsgi(app)``/``asgi(app)`` around each request.

A change-set is never published while a unit is in flight: every ``pmnc`` access in a unit
sees one generation. A unit is per thread and per asyncio task (a context variable); nested
units are one unit; a task started inside a unit belongs to it while the unit is open.
Entering counts the unit in (``deque.append``) and then reads the gate, like a tracked call;
while a publication is ready, new units wait for it (bounded by ``drain_timeout``), on the
event loop for ``async with``.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Awaitable, Iterable, Iterator, MutableMapping
from typing import Any, Callable, Optional, TypeVar

from pmnc_hook.reload import gate

__all__ = ("asgi", "in_unit", "request", "wsgi")

_F = TypeVar("_F", bound=Callable[..., Any])


class _Unit:
    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = True


_current: contextvars.ContextVar[Optional[_Unit]] = contextvars.ContextVar(
    "pmnc_hook_unit", default=None
)


def in_unit() -> bool:
    """Tell whether this thread or task is inside an open unit of work."""
    unit = _current.get()
    return unit is not None and unit.open


def _enter() -> Optional[tuple[_Unit, contextvars.Token[Optional[_Unit]]]]:
    """Open a unit unless one is open here; return what ``_leave`` needs (``None``: nested)."""
    outer = _current.get()
    if outer is not None and outer.open:
        return None
    unit = _Unit()
    token = _current.set(unit)
    gate.units.append(None)
    return unit, token


def _leave(opened: Optional[tuple[_Unit, contextvars.Token[Optional[_Unit]]]]) -> None:
    if opened is None:
        return
    unit, token = opened
    unit.open = False
    try:
        _current.reset(token)
    except ValueError:  # left in another context (a generator driven elsewhere)
        pass
    gate.units.pop()
    if gate.watching is not None:
        gate.exited()


class request:
    """A unit of work: ``with request():``, ``async with request():``, ``@request()``."""

    __slots__ = ("_opened",)

    def __new__(cls, func: Optional[Callable[..., Any]] = None) -> Any:
        if func is not None and callable(func):  # used bare: @request
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func: Optional[Callable[..., Any]] = None) -> None:
        self._opened: list[Optional[tuple[_Unit, contextvars.Token[Optional[_Unit]]]]] = []

    def __enter__(self) -> request:
        opened = _enter()
        self._opened.append(opened)
        if opened is not None and gate.closed is not None:
            gate.admit(None)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _leave(self._opened.pop())

    async def __aenter__(self) -> request:
        opened = _enter()
        self._opened.append(opened)
        if opened is not None and gate.closed is not None:
            await gate.admit_async(None)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        _leave(self._opened.pop())

    def __call__(self, func: _F) -> _F:
        """Decorate ``func`` (sync or async) so that each call is a unit of work."""
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def unit_async(*args: Any, **kwargs: Any) -> Any:
                async with request():
                    return await func(*args, **kwargs)

            return unit_async  # type: ignore[return-value]

        @functools.wraps(func)
        def unit(*args: Any, **kwargs: Any) -> Any:
            with request():
                return func(*args, **kwargs)

        return unit  # type: ignore[return-value]


class _ClosingBody:
    """A WSGI response body that ends its unit of work when the server closes it."""

    def __init__(self, body: Iterable[bytes], opened: Any) -> None:
        self._body = body
        self._opened = opened

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._body)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            opened, self._opened = self._opened, None
            if opened is not None:
                opened.__exit__(None, None, None)


def wsgi(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Wrap a WSGI application: each request, body included, is one unit of work."""

    @functools.wraps(app)
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        from pmnc_hook.reload import reload_signal

        reload_signal.restore_if_reset()
        unit = request()
        unit.__enter__()
        try:
            body = app(environ, start_response)
        except BaseException:
            unit.__exit__(None, None, None)
            raise
        return _ClosingBody(body, unit)

    return application


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def asgi(app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> Callable[..., Any]:
    """Wrap an ASGI application: each ``http`` request is one unit of work (a websocket
    connection is not: it would hold publication for as long as it is open)."""

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        from pmnc_hook.reload import reload_signal

        reload_signal.restore_if_reset()
        async with request():
            await app(scope, receive, send)

    functools.update_wrapper(application, app)
    return application
