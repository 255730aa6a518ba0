"""Check arguments and results against checkers: ``@takes(list_of(int))``, ``@returns(str)``.

A checker is a class (``isinstance``), a typing construct (``typeguard.check_type``, every
element of a collection), ``None`` (the value must be ``None``), one of the combinators below,
or a predicate (any other callable: a truthy result accepts the value, an exception rejects it).

``takes`` maps positional checkers to the parameters in order (``self``/``cls`` included) and
keyword checkers by name; a parameter is checked however it is passed, and a checker for a
``*args`` or ``**kwargs`` parameter checks the tuple or dict as a whole. ``returns`` checks the
result: the awaited value of an ``async def``, the ``return`` value of a generator. ``typecheck``
checks from annotations (``*args: int`` checks each element), resolving string annotations at
the first call. A checker that makes no sense, or a default value its checker rejects, raises
``TypeCheckSpecificationError`` when decorating.

``disable()`` and ``enable()`` switch the checks of every decorated function at run time;
``PMNC_HOOK_TYPECHECK=0`` in the environment at import starts them switched off.

Each wrapper is generated with the decorated function's own parameter list, so that Python
itself binds the arguments (however they are passed), and a disabled wrapper costs one global
read and one call.
"""

from __future__ import annotations

import builtins
import inspect
import typing
from typing import TYPE_CHECKING, Any, Callable, Optional, TypeVar, overload

from pmnc_hook.typecheck.checkers import (
    Checker,
    Named,
    anything,
    by_regex,
    compile_all,
    dict_of,
    either,
    list_of,
    nothing,
    one_of,
    optional,
    set_of,
    tuple_of,
    with_attr,
)
from pmnc_hook.typecheck.contracts import (
    Lazy,
    Plan,
    build,
    call_mode,
    checkers_from_annotations,
    read_signature,
    switch,
)
from pmnc_hook.typecheck.errors import (
    InputParameterError,
    ReturnValueError,
    TypeCheckError,
    TypeCheckSpecificationError,
)

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


__all__ = (
    "InputParameterError",
    "ReturnValueError",
    "TypeCheckError",
    "TypeCheckSpecificationError",
    "anything",
    "by_regex",
    "callable",
    "dict_of",
    "disable",
    "either",
    "enable",
    "list_of",
    "nothing",
    "one_of",
    "optional",
    "returns",
    "set_of",
    "takes",
    "tuple_of",
    "typecheck",
    "with_attr",
)

# The builtin itself, re-exported so that injecting ``__all__`` into a module changes nothing.
callable = builtins.callable


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
    plan = Plan(func, read_signature(func, label), checkers, result, label)
    plan.check_spec()
    if result is not None and inspect.isasyncgenfunction(func):
        if not result.test(None):
            raise plan.spec_error(f"an async generator returns None, which {result!r} rejects")
        plan.result = None
    return build(plan, call_mode(func, plan.result, False))


def takes(*checkers: object, **kwcheckers: object) -> _Decorator:
    """Check arguments: positional ``checkers`` map to the parameters in order, ``self`` and
    ``cls`` included, ``kwcheckers`` by name; so give a method's checkers by keyword."""
    label = "takes()"
    positional = compile_all(checkers, label)
    by_name = dict(zip(kwcheckers, compile_all(kwcheckers.values(), label)))

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
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
        return _decorate(func, mapped, None, label)

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
    annotations: dict[str, Any] = dict(getattr(func, "__annotations__", {}))
    if not any(isinstance(value, str) for value in annotations.values()):
        try:
            checkers, result = checkers_from_annotations(func, signature)
        except TypeCheckSpecificationError as exc:
            if not isinstance(exc.__cause__, NameError):
                raise
            # A forward reference to a name defined further down: resolve at the first call.
        else:
            plan = Plan(func, signature, checkers, result, label)
            plan.check_spec()
            return build(plan, call_mode(func, result, True))
    has_result = "return" in annotations
    named = {name: anything for name in signature.parameters if name in annotations}
    plan = Plan(func, signature, named, anything if has_result else None, label)
    pending = Lazy(plan)
    tests = [pending.stand_in(index) for index in range(len(plan.names))]
    if has_result:
        plan.result = Named("<unresolved annotation>", pending.stand_in(-1))
    pending.wrapper = build(plan, call_mode(func, plan.result, True), tests)
    return pending.wrapper


@overload
def typecheck(func: _StaticT) -> _StaticT: ...
@overload
def typecheck(func: _ClassT) -> _ClassT: ...
@overload
def typecheck(func: Callable[_P, _R]) -> Callable[_P, _R]: ...
def typecheck(func: Any) -> Any:
    """Check arguments and result against the annotations (``*args: int`` checks each
    element); string annotations are resolved at the first checked call."""
    return _on_methods(_typecheck)(func)
