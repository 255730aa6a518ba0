"""Tracked callables: what ``pmnc.<stateful>.<name>`` hands out, counted while it runs.

A stateful module (one with ``pmnc_init``) is published as a ``StatefulModule`` proxy. Every
attribute of it that can run the module's code (functions, ``functools.partial``, ``lru_cache``d
and other wrapped functions, bound and static methods, callable instances whose ``__call__`` is
the module's, classes defined in it) comes back *tracked*: a call counts itself in on the
module's ``Tracker`` (``deque.append``, atomic under the GIL, no lock), *then* reads the gate
(``gate.closed``), calls the current version's object found by name, and counts itself out.
Generators, coroutines and async generators are in flight from their first resume until they
finish (``send``/``throw``/``close`` and ``asend``/``athrow``/``aclose`` are delivered).

A tracked object is looked up by name at call time, so a function captured as
``f = pmnc.acc.add`` always calls the current version, whatever the module became since
(stateless, stateful again): the ``Tracker`` lives as long as the module's entry does.

Everything else handed out (module-level instances, constants) is the version's own object:
calls of its methods are not tracked (see docs/model.md, "objects handed out").
"""

from __future__ import annotations

import functools
import inspect
import types
from collections import deque
from typing import Any, Callable, Optional

from pmnc_hook.reload import gate

__all__ = ("ClassProxy", "StatefulModule", "Tracker", "WRAPPER_CODES", "runs_module_code")

_MAX_DEPTH = 8


def runs_module_code(value: object, ns: dict[str, Any], depth: int = 0) -> bool:
    """Tell whether calling ``value`` can run code whose globals are ``ns``."""
    if depth > _MAX_DEPTH:
        return False
    if isinstance(value, types.FunctionType):
        return value.__globals__ is ns
    if isinstance(value, type):
        if value.__module__ == ns.get("__name__"):
            return True
        return any(runs_module_code(v, ns, depth + 1) for v in list(vars(value).values()))
    inner: object = None
    if isinstance(value, (types.MethodType, staticmethod, classmethod)):
        inner = value.__func__
    elif isinstance(value, functools.partial):
        inner = value.func
    else:
        inner = getattr(value, "__wrapped__", None)
        if inner is None and callable(value) and not isinstance(value, types.BuiltinFunctionType):
            inner = next(
                (k.__dict__["__call__"] for k in type(value).__mro__ if "__call__" in k.__dict__),
                None,
            )
    return inner is not None and runs_module_code(inner, ns, depth + 1)


class Tracker:
    """Calls in flight into one module through ``pmnc``, and where its current version is."""

    __slots__ = ("__weakref__", "generators", "inflight", "module", "name", "ns")

    def __init__(self, name: str, module: types.ModuleType) -> None:
        self.name = name
        # One element per call in flight (append on entry, pop on exit): only its length counts.
        self.inflight: deque[None] = deque()
        # Tracked generators in flight in this module -> who first resumed them (caller_id).
        self.generators: dict[object, object] = {}
        self.module = module
        self.ns: dict[str, Any] = module.__dict__

    def switch(self, module: types.ModuleType) -> None:
        """Make ``module`` the version calls go to (publication, under the gate)."""
        self.module = module
        self.ns = module.__dict__

    def lookup(self, path: tuple[str, ...], ns: Optional[dict[str, Any]] = None) -> Any:
        """Return the current version's object at ``path`` (``("Cls", "method")``), or the
        one in ``ns`` (a version's globals read once by the caller)."""
        try:
            value = (self.ns if ns is None else ns)[path[0]]
        except KeyError:
            raise self.missing(path) from None
        for part in path[1:]:
            value = getattr(value, part)
        return value

    def missing(self, path: tuple[str, ...]) -> AttributeError:
        """Return the error for a name the current version no longer defines."""
        dotted = ".".join(path)
        return AttributeError(
            f"pmnc.{self.name}.{dotted} no longer exists: the current version of {self.name} "
            "does not define it (a function obtained through pmnc always calls the current "
            "version)"
        )

    def reset_after_fork(self, mine: int) -> None:
        """Keep only the calls in flight on the forking thread (``mine`` of them)."""
        self.inflight.clear()
        self.inflight.extend([None] * mine)
        self.generators.clear()

    def wrap(self, path: tuple[str, ...], value: Any) -> Any:
        """Return the tracked stand-in for ``value``, found at ``path`` in the module."""
        if isinstance(value, type):
            return ClassProxy(self, path, value)
        return _make_wrapper(self, path, value)


def _kind(value: Any) -> str:
    target = inspect.unwrap(value) if not isinstance(value, functools.partial) else value
    if inspect.iscoroutinefunction(value) or inspect.iscoroutinefunction(target):
        return "coroutine"
    if inspect.isasyncgenfunction(value) or inspect.isasyncgenfunction(target):
        return "asyncgen"
    if inspect.isgeneratorfunction(value) or inspect.isgeneratorfunction(target):
        return "generator"
    return "plain"


def _make_wrapper(tracker: Tracker, path: tuple[str, ...], value: Any) -> Callable[..., Any]:
    wrapped = _FACTORIES[_kind(value)](tracker, path)
    name = getattr(value, "__name__", path[-1])
    wrapped.__name__ = name if isinstance(name, str) else path[-1]
    qualname = getattr(value, "__qualname__", None)
    wrapped.__qualname__ = qualname if isinstance(qualname, str) else path[-1]
    wrapped.__doc__ = getattr(value, "__doc__", None)
    wrapped.__module__ = str(tracker.ns.get("__name__", ""))
    return wrapped


def _plain(tracker: Tracker, path: tuple[str, ...]) -> Callable[..., Any]:
    append = tracker.inflight.append
    pop = tracker.inflight.pop
    if len(path) > 1:
        lookup = tracker.lookup

        def call_attribute(*args: Any, **kwargs: Any) -> Any:
            append(None)
            try:
                if gate.closed is not None:
                    gate.admit(tracker)
                return lookup(path)(*args, **kwargs)
            finally:
                pop()
                if gate.watching is not None:
                    gate.exited()

        return call_attribute
    name = path[0]

    def call(*args: Any, **kwargs: Any) -> Any:
        append(None)
        try:
            if gate.closed is not None:
                gate.admit(tracker)
            try:
                function = tracker.ns[name]
            except KeyError:
                raise tracker.missing(path) from None
            return function(*args, **kwargs)
        finally:
            pop()
            if gate.watching is not None:
                gate.exited()

    return call


def _generator(tracker: Tracker, path: tuple[str, ...]) -> Callable[..., Any]:
    append = tracker.inflight.append
    pop = tracker.inflight.pop

    def call_generator(*args: Any, **kwargs: Any) -> Any:
        append(None)
        key = object()
        try:
            if gate.closed is not None:
                gate.admit(tracker)
            tracker.generators[key] = gate.caller_id()
            return (yield from tracker.lookup(path)(*args, **kwargs))
        finally:
            tracker.generators.pop(key, None)
            pop()
            if gate.watching is not None:
                gate.exited()

    return call_generator


def _coroutine(tracker: Tracker, path: tuple[str, ...]) -> Callable[..., Any]:
    append = tracker.inflight.append
    pop = tracker.inflight.pop

    async def call_coroutine(*args: Any, **kwargs: Any) -> Any:
        append(None)
        token = None
        try:
            if gate.closed is not None:
                await gate.admit_async(tracker)
            token = gate.enter_async(tracker)  # once admitted: until then it holds nothing
            return await tracker.lookup(path)(*args, **kwargs)
        finally:
            if token is not None:
                gate.leave_async(token)
            pop()
            if gate.watching is not None:
                gate.exited()

    return call_coroutine


def _async_generator(tracker: Tracker, path: tuple[str, ...]) -> Callable[..., Any]:
    append = tracker.inflight.append
    pop = tracker.inflight.pop

    async def call_async_generator(*args: Any, **kwargs: Any) -> Any:
        append(None)
        key = object()
        try:
            if gate.closed is not None:
                await gate.admit_async(tracker)
            tracker.generators[key] = gate.caller_id()
            agen = tracker.lookup(path)(*args, **kwargs)
            try:
                item = await agen.__anext__()
            except StopAsyncIteration:
                return
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    await agen.aclose()
                    raise
                except BaseException as exc:  # athrow(): deliver it inside
                    try:
                        item = await agen.athrow(exc)
                    except StopAsyncIteration:
                        return
                else:
                    try:
                        item = await agen.asend(sent)
                    except StopAsyncIteration:
                        return
        finally:
            tracker.generators.pop(key, None)
            pop()
            if gate.watching is not None:
                gate.exited()

    return call_async_generator


_FACTORIES: dict[str, Callable[[Tracker, tuple[str, ...]], Callable[..., Any]]] = {
    "plain": _plain,
    "generator": _generator,
    "coroutine": _coroutine,
    "asyncgen": _async_generator,
}

_dummy = Tracker("-", types.ModuleType("-"))
# The code objects of every wrapper kind: a frame running one of them is a call in flight.
WRAPPER_CODES = frozenset(
    factory(_dummy, path).__code__
    for factory in _FACTORIES.values()
    for path in (("-",), ("-", "-"))
)
del _dummy


class ClassProxy:
    """A class of a stateful module: calling it (constructing) is tracked; its callable
    attributes (class and static methods) come back tracked; ``isinstance`` and subclassing
    work against the current version's class."""

    __slots__ = ("_path", "_tracker", "_wrapped")

    def __init__(self, tracker: Tracker, path: tuple[str, ...], cls: type) -> None:
        object.__setattr__(self, "_tracker", tracker)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_wrapped", _make_wrapper(tracker, path, cls))

    def _current(self) -> Any:
        return self._tracker.lookup(self._path)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._wrapped(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # One read of the current version: a swap between reading the class and its globals
        # would make a method of the old class look foreign, and hand it out untracked.
        ns = self._tracker.ns
        value = getattr(self._tracker.lookup(self._path, ns), name)
        if callable(value) and runs_module_code(value, ns):
            return self._tracker.wrap((*self._path, name), value)
        return value

    def __instancecheck__(self, instance: object) -> bool:
        return isinstance(instance, self._current())

    def __subclasscheck__(self, subclass: type) -> bool:
        return issubclass(subclass, self._current())

    def __mro_entries__(self, bases: tuple[object, ...]) -> tuple[type, ...]:
        return (self._current(),)

    def __repr__(self) -> str:
        return f"<pmnc tracked class {self._current()!r}>"


class StatefulModule:
    """``pmnc.<name>`` of a stateful module: what can run its code is tracked, the rest
    forwarded to the version this proxy stands for."""

    def __init__(self, tracker: Tracker, module: types.ModuleType) -> None:
        object.__setattr__(self, "_StatefulModule__tracker", tracker)
        object.__setattr__(self, "_StatefulModule__module", module)

    def __getattr__(self, name: str) -> Any:
        tracker: Tracker = object.__getattribute__(self, "_StatefulModule__tracker")
        module: types.ModuleType = object.__getattribute__(self, "_StatefulModule__module")
        value = getattr(module, name)
        if not name.startswith("__") and callable(value) and runs_module_code(value, vars(module)):
            wrapped = tracker.wrap((name,), value)
            object.__setattr__(self, name, wrapped)  # later accesses are dict hits
            return wrapped
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_StatefulModule__module"), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(object.__getattribute__(self, "_StatefulModule__module"), name)

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_StatefulModule__module"))

    def __repr__(self) -> str:
        module = object.__getattribute__(self, "_StatefulModule__module")
        return f"<pmnc stateful module {module.__name__!r}: {module!r}>"


def unproxy(obj: object) -> Optional[types.ModuleType]:
    """Return the module a ``StatefulModule`` stands for, or ``None`` for anything else."""
    if isinstance(obj, StatefulModule):
        module: types.ModuleType = object.__getattribute__(obj, "_StatefulModule__module")
        return module
    return None
