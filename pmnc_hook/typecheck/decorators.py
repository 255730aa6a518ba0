"""The decorators: ``takes``, ``returns``, ``typecheck``; and ``enable``/``disable``.

Each turns what it is given (checkers, or the annotations) into a ``Plan`` through the one
compile path of ``language``, refuses nonsense when decorating, and has ``contracts`` generate
the wrapper. Each also takes a classmethod or staticmethod and gives back the same kind.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, overload

from pmnc_hook.typecheck.annotations import annotation_checkers, deferred
from pmnc_hook.typecheck.checkers import Checker
from pmnc_hook.typecheck.contracts import build, switch
from pmnc_hook.typecheck.errors import TypeCheckSpecificationError
from pmnc_hook.typecheck.language import compile_all
from pmnc_hook.typecheck.plan import Plan, call_mode
from pmnc_hook.typecheck.signatures import read_signature

if TYPE_CHECKING:
    from typing_extensions import ParamSpec, Protocol

    _P = ParamSpec("_P")
    _R = TypeVar("_R")
    _StaticT = TypeVar("_StaticT", bound="staticmethod[Any, Any]")
    _ClassT = TypeVar("_ClassT", bound="classmethod[Any, Any, Any]")

    class _Decorator(Protocol):
        """What ``takes(...)`` and ``returns(...)`` give: a signature-keeping decorator."""

        @overload
        def __call__(self, func: _StaticT, /) -> _StaticT: ...
        @overload
        def __call__(self, func: _ClassT, /) -> _ClassT: ...
        @overload
        def __call__(self, func: Callable[_P, _R], /) -> Callable[_P, _R]: ...


__all__ = ("disable", "enable", "returns", "takes", "typecheck")


def enable() -> None:
    """Turn checks on for every decorated function, including those decorated already."""
    switch(True)


def disable() -> None:
    """Turn checks off for every decorated function: a call then goes straight through."""
    switch(False)


def _on_methods(
    decorate: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> Callable[[Any], Any]:
    """Let ``decorate`` also take a classmethod or staticmethod, and give back the same kind."""

    def apply(func: Any) -> Any:
        if isinstance(func, (classmethod, staticmethod)):
            return type(func)(decorate(func.__func__))
        return decorate(func)

    return apply


def _decorate(
    func: Callable[..., Any],
    checkers: dict[str, Checker],
    result: Optional[Checker],
    label: str,
) -> Callable[..., Any]:
    """Wrap ``func`` to check ``checkers`` and ``result``, given to ``takes`` or ``returns``."""
    import inspect  # at decoration only: importing the package stays cheap

    plan = Plan(func, read_signature(func, label), checkers, result, label)
    plan.check_spec()
    if result is not None and inspect.isasyncgenfunction(func):
        if not result.test(None):
            raise plan.spec_error(f"an async generator returns None, which {result!r} rejects")
        plan.result = None
    return build(plan, call_mode(func, plan.result, False))


def _map_positional(
    func: Callable[..., Any], positional: tuple[Checker, ...], by_name: dict[str, Checker]
) -> dict[str, Checker]:
    """Give positional checkers to the parameters in order, keyword ones by name."""
    label = "takes()"
    names = list(read_signature(func, label).parameters)
    where = f"{label} for {getattr(func, '__qualname__', func)}()"
    if len(positional) > len(names):
        raise TypeCheckSpecificationError(
            f"{where}: {len(positional)} positional checkers but only {len(names)} "
            f"parameter{'s' if len(names) != 1 else ''} ({', '.join(names)})"
        )
    mapped = dict(zip(names, positional))
    for name, checker in by_name.items():
        if name not in names:
            raise TypeCheckSpecificationError(
                f"{where}: no parameter named {name!r} (parameters: {', '.join(names)})"
            )
        if name in mapped:
            raise TypeCheckSpecificationError(
                f"{where}: parameter {name!r} has a checker by position and by keyword"
            )
        mapped[name] = checker
    return mapped


def takes(*checkers: object, **kwcheckers: object) -> _Decorator:
    """Check arguments: positional ``checkers`` map to the parameters in order, ``self`` and
    ``cls`` included, ``kwcheckers`` by name; so give a method's checkers by keyword."""
    label = "takes()"
    positional = compile_all(checkers, label)
    by_name = dict(zip(kwcheckers, compile_all(kwcheckers.values(), label)))

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        return _decorate(func, _map_positional(func, positional, by_name), None, label)

    return typing.cast("_Decorator", _on_methods(decorate))


def returns(checker: object) -> _Decorator:
    """Check the result: the awaited value of an ``async def``, the ``return`` value of a
    generator (checked when it finishes)."""
    (result,) = compile_all([checker], "returns()")
    return typing.cast(
        "_Decorator", _on_methods(lambda func: _decorate(func, {}, result, "returns()"))
    )


def _typecheck(func: Callable[..., Any]) -> Callable[..., Any]:
    label = "typecheck"
    signature = read_signature(func, label)
    try:
        checkers, result = annotation_checkers(func, signature)
    except TypeCheckSpecificationError as exc:
        if not isinstance(exc.__cause__, NameError):
            raise
        # A forward reference to a name defined further down: resolve at the first call.
        return deferred(func, signature, label)
    plan = Plan(func, signature, checkers, result, label)
    plan.check_spec()
    return build(plan, call_mode(func, result, True))


@overload
def typecheck(func: _StaticT) -> _StaticT: ...
@overload
def typecheck(func: _ClassT) -> _ClassT: ...
@overload
def typecheck(func: Callable[_P, _R]) -> Callable[_P, _R]: ...
def typecheck(func: Any) -> Any:
    """Check arguments and result against the annotations, which mean what they mean to
    ``takes`` and ``returns`` (``*args: int`` checks each element); annotations that name
    what is not defined yet are resolved at the first checked call."""
    return _on_methods(_typecheck)(func)
