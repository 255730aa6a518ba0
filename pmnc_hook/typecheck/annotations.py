"""Read a function's annotations as the running Python means them, and turn them into checkers.

3.9-3.13 evaluate annotations when the function is defined, or keep them as strings under
``from __future__ import annotations``; 3.14+ evaluates them lazily, at first access (PEP
649/749). ``annotation_checkers`` gives one result on every version: each annotation
evaluated (strings in the function's globals and type parameters), then compiled by the same
``compile_checker`` as ``takes()`` checkers. When an annotation names what is not defined yet
(a class further down the module), ``deferred`` makes a wrapper that resolves them at its
first checked call, and again at each call until they resolve.
"""

from __future__ import annotations

import sys
import threading
import typing
from typing import TYPE_CHECKING, Any, Callable, Optional

from pmnc_hook._fork import at_fork
from pmnc_hook.typecheck.checkers import Checker, Named, anything
from pmnc_hook.typecheck.combinators import Collection, DictOf
from pmnc_hook.typecheck.contracts import build
from pmnc_hook.typecheck.errors import TypeCheckSpecificationError
from pmnc_hook.typecheck.language import compile_checker
from pmnc_hook.typecheck.plan import Plan, call_mode

if TYPE_CHECKING:
    import inspect

__all__ = ("annotation_checkers", "deferred")

# Guards every Deferred's one-time resolution and cell swap; re-entrant because resolving
# annotations can import modules whose decorated functions are called at import time.
_RESOLVE_LOCK = threading.RLock()


def _after_fork_in_child() -> None:
    global _RESOLVE_LOCK
    _RESOLVE_LOCK = threading.RLock()


at_fork(after_in_child=_after_fork_in_child)


def _written(func: Callable[..., Any]) -> dict[str, Any]:
    """Return the annotations as the function holds them: values, or strings under
    ``from __future__ import annotations``; on 3.14+ evaluating them now (``NameError`` for
    a name not defined yet)."""
    if sys.version_info >= (3, 14):
        import annotationlib

        return annotationlib.get_annotations(func)
    return dict(getattr(func, "__annotations__", None) or {})


class _AnnotationsOnly:
    """Annotations without the function's defaults, so that ``get_type_hints`` on 3.9 and
    3.10 does not widen ``x: int = None`` to ``Optional[int]`` as it does for functions."""

    def __init__(self, annotations: dict[str, Any]) -> None:
        self.__annotations__ = annotations


def _evaluate(func: Callable[..., Any]) -> dict[str, Any]:
    """Return every annotation evaluated; ``NameError`` if one names what is not defined yet."""
    import inspect

    written = _written(func)
    globalns = getattr(inspect.unwrap(func), "__globals__", None) or {}
    # PEP 695 type parameters (def f[T]), which get_type_hints only sees from 3.13 on.
    localns = {param.__name__: param for param in getattr(func, "__type_params__", ())}
    values = {
        # A string is evaluated as the module would evaluate the expression: typing's own
        # evaluation refuses what is not a type (a tuple, a number) with messages of its own.
        name: eval(value, globalns, localns) if isinstance(value, str) else value
        for name, value in written.items()
    }
    # Forward references nested in typing constructs (List["Node"]), or quoted once more under
    # the __future__ import, are typing's to resolve; the rest is final.
    nested = {
        name: _quoted(value) if sys.version_info < (3, 11) else value
        for name, value in values.items()
        if isinstance(value, str) or typing.get_origin(value) is not None
    }
    if nested:
        values.update(
            typing.get_type_hints(
                _AnnotationsOnly(nested), globalns, localns or None, include_extras=True
            )
        )
    return values


def _quoted(value: Any) -> Any:
    """Make the strings in ``list["Node"]`` forward references, as typing does from 3.11 on
    (3.9 and 3.10 leave them as they are, and typeguard then skips them with a warning)."""
    import types

    if type(value) is not types.GenericAlias:
        return value
    origin: Any = value.__origin__
    args = tuple(typing.ForwardRef(a) if isinstance(a, str) else _quoted(a) for a in value.__args__)
    return types.GenericAlias(origin, args)


def _checker(param: Optional[inspect.Parameter], hint: object, where: str) -> Checker:
    try:
        checker = compile_checker(hint, hint=True)
    except TypeCheckSpecificationError as exc:
        raise TypeCheckSpecificationError(f"{where}: {exc}") from exc.__cause__
    if checker is anything or param is None:
        return checker
    if param.kind is param.VAR_POSITIONAL:  # *args: int checks each element, as Python means
        return Collection((tuple,), checker, f"tuple_of({checker!r})")
    if param.kind is param.VAR_KEYWORD:
        return DictOf((dict,), anything, checker, f"dict_of(anything, {checker!r})")
    return checker


def annotation_checkers(
    func: Callable[..., Any], signature: inspect.Signature
) -> tuple[dict[str, Checker], Optional[Checker]]:
    """Return a checker per annotated parameter and one for the result, if annotated.

    Raise ``TypeCheckSpecificationError``: caused by a ``NameError`` if an annotation names
    what is not defined yet, or because an annotation is no checker at all.
    """
    where = f"typecheck for {getattr(func, '__qualname__', func)}()"
    try:
        hints = _evaluate(func)
    except TypeCheckSpecificationError as exc:  # a combinator in an annotation, evaluated now
        raise TypeCheckSpecificationError(f"{where}: {exc}") from exc.__cause__
    except NameError as exc:
        raise TypeCheckSpecificationError(
            f"{where}: cannot resolve the annotations ({type(exc).__name__}: {exc}); every "
            f"name they use must exist in module {getattr(func, '__module__', None)!r} by "
            "the time the function is first called"
        ) from exc
    except Exception as exc:
        raise TypeCheckSpecificationError(
            f"{where}: cannot evaluate the annotations ({type(exc).__name__}: {exc})"
        ) from exc
    checkers = {
        name: _checker(param, hints[name], f"{where}: the annotation of {name}")
        for name, param in signature.parameters.items()
        if name in hints
    }
    result = None
    if "return" in hints:
        result = _checker(None, hints["return"], f"{where}: the annotation of the result")
    return checkers, result


def _annotated_names(func: Callable[..., Any]) -> Optional[frozenset[str]]:
    """Return the names that have annotations, or ``None`` if that cannot be told yet (3.14+
    cannot list them without evaluating them)."""
    try:
        return frozenset(_written(func))
    except Exception:
        return None


class _Deferred:
    """Resolves the annotations at the first checked call, then puts the real tests in the
    wrapper's closure cells, so that later calls cost what an eager wrapper's do."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.wrapper: Optional[Callable[..., Any]] = None
        self.done = False

    def resolve(self) -> None:
        with _RESOLVE_LOCK:
            if self.done:
                return
            plan = self.plan
            checkers, result = annotation_checkers(plan.func, plan.signature)
            # Stand-ins for parameters that turn out unannotated (on 3.14+ which ones are is
            # only known now) accept everything.
            plan.checkers = [checkers.get(name, anything) for name in plan.names]
            if plan.result is not None:
                plan.result = result or anything
            plan.check_spec()
            assert self.wrapper is not None
            code = self.wrapper.__code__
            cells = dict(zip(code.co_freevars, self.wrapper.__closure__ or ()))
            for index, checker in enumerate(plan.checkers):
                cells[f"{plan.prefix}t{index}"].cell_contents = checker.test
            if plan.result is not None:
                cells[f"{plan.prefix}rt"].cell_contents = plan.result.test
            self.done = True

    def stand_in(self, index: int) -> Callable[[Any], bool]:
        """Return the test that stands in for checker ``index`` (-1: the result's)."""

        def test(value: object) -> bool:
            self.resolve()
            checker = self.plan.result if index < 0 else self.plan.checkers[index]
            return checker is None or checker.test(value)

        return test


def deferred(
    func: Callable[..., Any], signature: inspect.Signature, label: str
) -> Callable[..., Any]:
    """Return a wrapper that reads the annotations of ``func`` at its first checked call."""
    names = _annotated_names(func)
    params = signature.parameters
    checked = {name: anything for name in params if names is None or name in names}
    has_result = names is None or "return" in names
    plan = Plan(func, signature, checked, anything if has_result else None, label)
    pending = _Deferred(plan)
    tests = [pending.stand_in(index) for index in range(len(plan.names))]
    if has_result:
        plan.result = Named("<unresolved annotation>", pending.stand_in(-1))
    pending.wrapper = build(plan, call_mode(func, plan.result, True), tests)
    return pending.wrapper
