"""Generate the checking wrapper of a function, and turn its annotations into checkers.

``build`` compiles a wrapper with the function's own parameter list, so that Python itself
binds the arguments, from a ``Plan`` (a checker per checked parameter, maybe one for the
result); a wrapper whose checks are off costs one global read and one call. The run-time
switch is a global of this module, ``_tc_on`` (plus aliases with more leading underscores
for functions with ``_tc_*`` parameters): this module's globals are the generated code's, and
``switch`` flips them all at once. ``checkers_from_annotations`` resolves annotations, string
ones included, against the function's globals; ``Lazy`` defers that to the first checked
call for annotations that cannot be resolved yet.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import sys
import threading
import types
import typing
from collections.abc import Generator
from typing import Any, Callable, NoReturn, Optional

from pmnc_hook._fork import at_fork
from pmnc_hook._settings import typecheck_enabled
from pmnc_hook.typecheck.checkers import (
    Checker,
    InstanceOf,
    TypeHint,
    always,
    anything,
    dict_of,
    nothing,
    tuple_of,
)
from pmnc_hook.typecheck.errors import (
    InputParameterError,
    ReturnValueError,
    TypeCheckSpecificationError,
    show,
)

__all__ = (
    "Lazy",
    "Plan",
    "build",
    "call_mode",
    "checkers_from_annotations",
    "read_signature",
    "switch",
)

_KIND = inspect.Parameter

# ---- the switch --------------------------------------------------------------------------

# Every generated wrapper first reads a global of this module: "_tc_on", or, for a function
# with a parameter whose name starts with "_tc_", an alias with more leading underscores.
_tc_on = typecheck_enabled()
_FLAG_NAMES = {"_tc_on"}
_SWITCH_LOCK = threading.Lock()  # guards _FLAG_NAMES and keeps the aliases equal to _tc_on
# Guards every Lazy's one-time resolution and cell swap; re-entrant because resolving
# annotations can import modules whose decorated functions are called at import time.
_RESOLVE_LOCK = threading.RLock()


def _after_fork_in_child() -> None:
    global _SWITCH_LOCK, _RESOLVE_LOCK
    _SWITCH_LOCK = threading.Lock()
    _RESOLVE_LOCK = threading.RLock()


at_fork(after_in_child=_after_fork_in_child)


def switch(on: bool) -> None:
    """Turn the checks of every wrapper, made or to be made, on or off."""
    with _SWITCH_LOCK:
        for name in _FLAG_NAMES:
            globals()[name] = on


def _flag_alias(name: str) -> None:
    with _SWITCH_LOCK:
        if name not in _FLAG_NAMES:
            globals()[name] = _tc_on
            _FLAG_NAMES.add(name)


# ---- wrappers ----------------------------------------------------------------------------


class Plan:
    """What one wrapper checks: a checker per checked parameter, maybe one for the result."""

    def __init__(
        self,
        func: Callable[..., Any],
        signature: inspect.Signature,
        checkers: dict[str, Checker],
        result: Optional[Checker],
        label: str,
    ) -> None:
        self.func = func
        self.signature = signature
        self.label = label
        self.qualname: str = getattr(func, "__qualname__", None) or repr(func)
        # In signature order, so that the leftmost bad argument is the one reported.
        self.names = [name for name in signature.parameters if name in checkers]
        self.checkers = [checkers[name] for name in self.names]
        self.result = result
        self.prefix = ""  # set by build: the start of every name in the generated code

    def spec_error(self, problem: str) -> TypeCheckSpecificationError:
        return TypeCheckSpecificationError(f"{self.label} for {self.qualname}(): {problem}")

    def check_spec(self) -> None:
        """Refuse defaults the checkers reject, and checkers no argument tuple could pass."""
        params = self.signature.parameters
        for name, checker in zip(self.names, self.checkers):
            param = params[name]
            if param.default is not _KIND.empty and not checker.test(param.default):
                raise self.spec_error(
                    f"the default value of {name}, {show(param.default)}, is rejected by "
                    f"its checker {checker!r}"
                )
            # A *args or **kwargs checker sees the whole tuple or dict: a class that is
            # neither can never pass, and was surely meant for each element.
            whole: type
            if param.kind is _KIND.VAR_POSITIONAL:
                whole, instead = tuple, f"list_of({checker!r})"
            elif param.kind is _KIND.VAR_KEYWORD:
                whole, instead = dict, f"dict_of(str, {checker!r})"
            else:
                continue
            if isinstance(checker, InstanceOf) and not issubclass(whole, checker.cls):
                raise self.spec_error(
                    f"{name} is a {whole.__name__} checked as a whole, which {checker!r} "
                    f"rejects; to check each element use {instead}"
                )

    def fail_input(self, index: int, value: object) -> NoReturn:
        mismatch = self.checkers[index].failure(value)
        raise InputParameterError(
            f"{self.qualname}() got an incompatible value for "
            f"{mismatch.location(self.names[index])}: {mismatch.shown()}"
        ) from mismatch.cause

    def fail_result(self, value: object) -> NoReturn:
        assert self.result is not None
        mismatch = self.result.failure(value)
        where = f" for {mismatch.location('result')}" if mismatch.path or mismatch.role else ""
        raise ReturnValueError(
            f"{self.qualname}() has returned an incompatible value{where}: {mismatch.shown()}"
        ) from mismatch.cause


def read_signature(func: Callable[..., Any], label: str) -> inspect.Signature:
    """Return the signature of the function that ``label`` decorates, or refuse it."""
    if isinstance(func, type) or not builtins.callable(func):
        raise TypeCheckSpecificationError(
            f"{label} decorates functions and methods, not {show(func)}"
        )
    try:
        return inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise TypeCheckSpecificationError(
            f"{label} cannot read the signature of {show(func)}: {exc}"
        ) from exc


def _source(params: list[inspect.Parameter], plan: Plan, mode: str) -> str:
    """Write a factory of a wrapper that has ``params`` and checks what ``plan`` says."""
    p = plan.prefix  # starts every name of ours, so that no parameter shadows one
    header: list[str] = []
    call: list[str] = []
    star = any(param.kind is _KIND.VAR_POSITIONAL for param in params)
    for index, param in enumerate(params):
        name, kind = param.name, param.kind
        if kind is _KIND.KEYWORD_ONLY and not star:
            header.append("*")
            star = True
        if kind is _KIND.VAR_POSITIONAL:
            header.append(f"*{name}")
            call.append(f"*{name}")
        elif kind is _KIND.VAR_KEYWORD:
            header.append(f"**{name}")
            call.append(f"**{name}")
        else:
            header.append(name)
            call.append(f"{name}={name}" if kind is _KIND.KEYWORD_ONLY else name)
        if kind is _KIND.POSITIONAL_ONLY and (
            index + 1 == len(params) or params[index + 1].kind is not kind
        ):
            header.append("/")
    tests = [f"{p}t{index}" for index in range(len(plan.names))]
    is_async = mode == "await"
    invoke = f"{'await ' if is_async else ''}{p}f({', '.join(call)})"
    lines = [
        f"def {p}factory({p}f, {p}fail, {p}rfail, {p}rt, {p}gen, {', '.join(tests)}):",
        f"    {'async ' if is_async else ''}def {p}wrapper({', '.join(header)}):",
    ]
    if plan.names or plan.result is not None:
        lines.append(f"        if {p}on:")
    for index, name in enumerate(plan.names):
        lines.append(f"            if not {p}t{index}({name}): {p}fail({index}, {name})")
    if mode == "genret":
        lines.append(f"            return {p}gen({invoke})")
    elif plan.result is not None:
        lines += [
            f"            {p}r = {invoke}",
            f"            if not {p}rt({p}r): {p}rfail({p}r)",
            f"            return {p}r",
        ]
    lines += [f"        return {invoke}", f"    return {p}wrapper", ""]
    return "\n".join(lines)


@functools.lru_cache(maxsize=512)
def _compile_source(source: str) -> types.CodeType:
    return compile(source, "<pmnc_hook.typecheck wrapper>", "exec")


def build(
    plan: Plan, mode: str, tests: Optional[list[Callable[[Any], bool]]] = None
) -> Callable[..., Any]:
    """Generate the wrapper; ``tests[i]``, if given, stands in for ``plan.checkers[i]``."""
    if tests is None:  # the checkers are final: leave out those that accept everything
        kept = [(n, c) for n, c in zip(plan.names, plan.checkers) if c is not anything]
        plan.names, plan.checkers = [n for n, _ in kept], [c for _, c in kept]
        tests = [checker.test for checker in plan.checkers]
        if plan.result is anything:
            plan.result = None
    func, params = plan.func, list(plan.signature.parameters.values())
    prefix = "_tc_"
    while any(param.name.startswith(prefix) for param in params):
        prefix = "_" + prefix
    plan.prefix = prefix
    _flag_alias(f"{prefix}on")
    namespace: dict[str, Any] = {}
    # The factory's globals are this module's, where the wrapper finds the switch.
    exec(_compile_source(_source(params, plan, mode)), globals(), namespace)

    def checked_generator(generator: Generator[Any, Any, Any]) -> Generator[Any, Any, Any]:
        result = yield from generator
        if _tc_on and plan.result is not None and not plan.result.test(result):
            plan.fail_result(result)
        return result

    result_test = plan.result.test if plan.result is not None else always
    wrapper: Callable[..., Any] = namespace[f"{prefix}factory"](
        func, plan.fail_input, plan.fail_result, result_test, checked_generator, *tests
    )
    code = wrapper.__code__.replace(co_name=getattr(func, "__name__", "wrapper"))
    if sys.version_info >= (3, 11):
        code = code.replace(co_qualname=plan.qualname)
    wrapper.__code__ = code  # for tracebacks; __name__ and __qualname__ come from wraps()
    positional = (_KIND.POSITIONAL_ONLY, _KIND.POSITIONAL_OR_KEYWORD)
    defaults = [q.default for q in params if q.kind in positional and q.default is not q.empty]
    kwdefaults = {
        q.name: q.default
        for q in params
        if q.kind is _KIND.KEYWORD_ONLY and q.default is not q.empty
    }
    wrapper.__defaults__ = tuple(defaults) or None
    wrapper.__kwdefaults__ = kwdefaults or None
    return functools.wraps(func)(wrapper)


def call_mode(func: Callable[..., Any], result: Optional[Checker], from_annotations: bool) -> str:
    """How the wrapper calls ``func``: "await" it, "genret" (check what a generator
    returns), or "plain" (check what the call returns; an annotated generator's annotation
    describes the generator object itself)."""
    if inspect.iscoroutinefunction(func):
        return "await"
    if result is not None and not from_annotations and inspect.isgeneratorfunction(func):
        return "genret"
    return "plain"


# ---- annotations -------------------------------------------------------------------------

# Plain classes that typing, and so typeguard, widens: int passes for float, bytearray for bytes.
_WIDENED = frozenset({float, complex, bytes})


def _from_annotation(hint: object) -> Checker:
    if hint is typing.Any or hint is object or getattr(hint, "_name", None) == "Self":
        return anything  # Self has no meaning outside typeguard's own instrumentation
    if hint is None or hint is type(None):
        return nothing
    if type(hint) is type and hint not in _WIDENED:
        return InstanceOf(hint)
    return TypeHint(hint)


def _param_checker(param: inspect.Parameter, hint: object) -> Checker:
    checker = _from_annotation(hint)
    if checker is anything:
        return anything
    if param.kind is _KIND.VAR_POSITIONAL:
        return tuple_of(checker)
    if param.kind is _KIND.VAR_KEYWORD:
        return dict_of(anything, checker)
    return checker


class _AnnotationsOnly:
    """A function's annotations without its defaults, so that ``get_type_hints`` on 3.9 and
    3.10 does not widen ``x: int = None`` to ``Optional[int]`` as it does for functions."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.__annotations__ = dict(getattr(func, "__annotations__", {}))


def checkers_from_annotations(
    func: Callable[..., Any], signature: inspect.Signature
) -> tuple[dict[str, Checker], Optional[Checker]]:
    """Evaluate the annotations (strings included) against the function's globals."""
    globalns = getattr(inspect.unwrap(func), "__globals__", {})
    # PEP 695 type parameters (def f[T]), which get_type_hints only sees from 3.13 on.
    localns = {param.__name__: param for param in getattr(func, "__type_params__", ())}
    try:
        hints = typing.get_type_hints(
            _AnnotationsOnly(func), globalns, localns or None, include_extras=True
        )
    except Exception as exc:
        raise TypeCheckSpecificationError(
            f"typecheck for {func.__qualname__}(): cannot resolve the annotations "
            f"({type(exc).__name__}: {exc}); every name they use must exist in module "
            f"{func.__module__!r} by the time the function is first called"
        ) from exc
    checkers = {
        name: _param_checker(param, hints[name])
        for name, param in signature.parameters.items()
        if name in hints
    }
    result = _from_annotation(hints["return"]) if "return" in hints else None
    return checkers, result


class Lazy:
    """Resolves string annotations at the first checked call, then puts the real tests in
    the wrapper's closure cells, so that later calls cost what an eager wrapper's do."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.wrapper: Optional[Callable[..., Any]] = None
        self.done = False

    def resolve(self) -> None:
        with _RESOLVE_LOCK:
            if self.done:
                return
            plan = self.plan
            checkers, result = checkers_from_annotations(plan.func, plan.signature)
            plan.checkers = [checkers[name] for name in plan.names]
            plan.result = result
            plan.check_spec()
            assert self.wrapper is not None
            code = self.wrapper.__code__
            cells = dict(zip(code.co_freevars, self.wrapper.__closure__ or ()))
            for index, checker in enumerate(plan.checkers):
                cells[f"{plan.prefix}t{index}"].cell_contents = checker.test
            if result is not None:
                cells[f"{plan.prefix}rt"].cell_contents = result.test
            self.done = True

    def stand_in(self, index: int) -> Callable[[Any], bool]:
        """Return the test that stands in for checker ``index`` (-1: the result's)."""

        def test(value: object) -> bool:
            self.resolve()
            checker = self.plan.result if index < 0 else self.plan.checkers[index]
            return checker is None or checker.test(value)

        return test
