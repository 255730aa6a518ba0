"""What one wrapper checks, and the messages it raises: ``Plan``.

A plan holds a checker per checked parameter (in signature order, so that the leftmost bad
argument is the one reported) and maybe one for the result; ``check_spec`` refuses, when
decorating, defaults the checkers reject and checkers no argument could pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NoReturn, Optional

from pmnc_hook.typecheck.checkers import Checker, InstanceOf
from pmnc_hook.typecheck.errors import (
    InputParameterError,
    ReturnValueError,
    TypeCheckSpecificationError,
    show,
)

if TYPE_CHECKING:
    import inspect

__all__ = ("Plan", "call_mode")


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
            if param.default is not param.empty and not checker.test(param.default):
                raise self.spec_error(
                    f"the default value of {name}, {show(param.default)}, is rejected by "
                    f"its checker {checker!r}"
                )
            # A *args or **kwargs checker sees the whole tuple or dict: a class that is
            # neither can never pass, and was surely meant for each element.
            whole: type
            if param.kind is param.VAR_POSITIONAL:
                whole, instead = tuple, f"list_of({checker!r})"
            elif param.kind is param.VAR_KEYWORD:
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


def call_mode(func: Callable[..., Any], result: Optional[Checker], from_annotations: bool) -> str:
    """How the wrapper calls ``func``: "await" it, "genret" (check what a generator
    returns), or "plain" (check what the call returns; an annotated generator's annotation
    describes the generator object itself)."""
    import inspect  # at decoration only: importing the package stays cheap

    if inspect.iscoroutinefunction(func):
        return "await"
    if result is not None and not from_annotations and inspect.isgeneratorfunction(func):
        return "genret"
    return "plain"
