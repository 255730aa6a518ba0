"""Generate the checking wrapper of a function from its ``Plan``, and switch checks on and off.

``build`` compiles a wrapper with the function's own parameter list, so that Python itself
binds the arguments; a wrapper whose checks are off costs one global read and one call. The
run-time switch is a global of this module, ``_tc_on`` (plus aliases with more leading
underscores for functions with ``_tc_*`` parameters): this module's globals are the generated
code's, and ``switch`` flips them all at once.
"""

from __future__ import annotations

import functools
import sys
import threading
import types
from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Callable, Optional

from pmnc_hook._fork import at_fork
from pmnc_hook._settings import typecheck_enabled
from pmnc_hook.typecheck.checkers import always, anything

if TYPE_CHECKING:
    import inspect

    from pmnc_hook.typecheck.plan import Plan

__all__ = ("build", "switch")

# ---- the switch --------------------------------------------------------------------------

# Every generated wrapper first reads a global of this module: "_tc_on", or, for a function
# with a parameter whose name starts with "_tc_", an alias with more leading underscores.
_tc_on = typecheck_enabled()
_FLAG_NAMES = {"_tc_on"}
_SWITCH_LOCK = threading.Lock()  # guards _FLAG_NAMES and keeps the aliases equal to _tc_on


def _after_fork_in_child() -> None:
    global _SWITCH_LOCK
    _SWITCH_LOCK = threading.Lock()


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


def _source(params: list[inspect.Parameter], plan: Plan, mode: str) -> str:
    """Write a factory of a wrapper that has ``params`` and checks what ``plan`` says."""
    from inspect import Parameter  # at decoration only: importing the package stays cheap

    p = plan.prefix  # starts every name of ours, so that no parameter shadows one
    header: list[str] = []
    call: list[str] = []
    star = any(param.kind is Parameter.VAR_POSITIONAL for param in params)
    for index, param in enumerate(params):
        name, kind = param.name, param.kind
        if kind is Parameter.KEYWORD_ONLY and not star:
            header.append("*")
            star = True
        if kind is Parameter.VAR_POSITIONAL:
            header.append(f"*{name}")
            call.append(f"*{name}")
        elif kind is Parameter.VAR_KEYWORD:
            header.append(f"**{name}")
            call.append(f"**{name}")
        else:
            header.append(name)
            call.append(f"{name}={name}" if kind is Parameter.KEYWORD_ONLY else name)
        if kind is Parameter.POSITIONAL_ONLY and (
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
    from inspect import Parameter

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
    positional = (Parameter.POSITIONAL_ONLY, Parameter.POSITIONAL_OR_KEYWORD)
    defaults = [q.default for q in params if q.kind in positional and q.default is not q.empty]
    kwdefaults = {
        q.name: q.default
        for q in params
        if q.kind is Parameter.KEYWORD_ONLY and q.default is not q.empty
    }
    wrapper.__defaults__ = tuple(defaults) or None
    wrapper.__kwdefaults__ = kwdefaults or None
    return functools.wraps(func)(wrapper)
