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
import functools
import inspect
import operator
import re
import reprlib
import sys
import threading
import types
import typing
from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Optional, TypeVar, Union, overload

import typeguard

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


from ._config import typecheck_enabled

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

# ---- the switch --------------------------------------------------------------------------

# Every generated wrapper first reads a global of this module: "_tc_on", or, for a function
# with a parameter whose name starts with "_tc_", an alias with more leading underscores.
_tc_on = typecheck_enabled()
_FLAG_NAMES = {"_tc_on"}
_SWITCH_LOCK = threading.Lock()  # guards _FLAG_NAMES and keeps the aliases equal to _tc_on


def _switch(on: bool) -> None:
    with _SWITCH_LOCK:
        for name in _FLAG_NAMES:
            globals()[name] = on


def _flag_alias(name: str) -> None:
    with _SWITCH_LOCK:
        if name not in _FLAG_NAMES:
            globals()[name] = _tc_on
            _FLAG_NAMES.add(name)


def enable() -> None:
    """Turn checks on for every decorated function, including those decorated already."""
    _switch(True)


def disable() -> None:
    """Turn checks off for every decorated function: a call then goes straight through."""
    _switch(False)


# ---- errors ------------------------------------------------------------------------------


class TypeCheckError(TypeError):
    """Base of the errors this module raises."""


class InputParameterError(TypeCheckError):
    """An argument was rejected by its checker; the message names function, parameter, value."""


class ReturnValueError(TypeCheckError):
    """A result was rejected by its checker; the message names the function and the value."""


class TypeCheckSpecificationError(TypeCheckError):
    """A checker makes no sense, names no parameter, or rejects its parameter's default."""


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 120
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdict = 10
_repr.maxlevel = 4


def _show(value: object) -> str:
    return _repr.repr(value)  # never raises: a failing __repr__ becomes "<T instance at ...>"


class _Mismatch:
    """A rejected value: ``path`` leads to it from the value checked (``[1]['k']``), ``role``
    says if it is a key or set element there, ``reason`` why, if a check said."""

    __slots__ = ("cause", "path", "reason", "role", "value")

    def __init__(
        self,
        value: object,
        *,
        role: str = "",
        reason: str = "",
        cause: Optional[BaseException] = None,
    ) -> None:
        self.value = value
        self.path = ""
        self.role = role
        self.reason = reason
        self.cause = cause

    def below(self, segment: str) -> _Mismatch:
        self.path = segment + self.path
        return self

    def location(self, root: str) -> str:
        return f"{self.role} {root}{self.path}" if self.role else f"{root}{self.path}"

    def shown(self) -> str:
        return f"{_show(self.value)} ({self.reason})" if self.reason else _show(self.value)


# ---- checkers ----------------------------------------------------------------------------


def _always(value: object) -> bool:
    return True


class _Checker:
    """A compiled checker: ``test`` answers fast, ``explain`` finds what it rejected."""

    __slots__ = ("test",)

    test: Callable[[Any], bool]

    def __call__(self, value: object) -> bool:
        """Return whether ``value`` passes: checkers double as predicates."""
        return self.test(value)

    def explain(self, value: object) -> Optional[_Mismatch]:
        return None if self.test(value) else _Mismatch(value)

    def failure(self, value: object) -> _Mismatch:
        return self.explain(value) or _Mismatch(value)


class _Named(_Checker):
    __slots__ = ("_name",)

    def __init__(self, name: str, test: Callable[[Any], bool]) -> None:
        self._name = name
        self.test = test

    def __repr__(self) -> str:
        return self._name


anything: _Checker = _Named("anything", _always)
nothing: _Checker = _Named("nothing", functools.partial(operator.is_, None))


class _InstanceOf(_Checker):
    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls
        # The metaclass's __instancecheck__ bound to cls: a C call, cheaper than a lambda.
        self.test = type(cls).__instancecheck__.__get__(cls)

    def __repr__(self) -> str:
        return self.cls.__qualname__


class _TypeHint(_Checker):
    __slots__ = ("hint",)

    def __init__(self, hint: object) -> None:
        self.hint = hint
        self.test = self._test

    def _check(self, value: object) -> None:
        try:
            typeguard.check_type(
                value,
                self.hint,
                forward_ref_policy=typeguard.ForwardRefPolicy.ERROR,
                collection_check_strategy=typeguard.CollectionCheckStrategy.ALL_ITEMS,
            )
        except NameError as exc:
            raise TypeCheckSpecificationError(
                f"cannot resolve a forward reference in {self!r}: {exc}"
            ) from exc

    def _test(self, value: object) -> bool:
        try:
            self._check(value)
        except typeguard.TypeCheckError:
            return False
        return True

    def explain(self, value: object) -> Optional[_Mismatch]:
        try:
            self._check(value)
        except typeguard.TypeCheckError as exc:
            return _Mismatch(value, reason=str(exc))
        return None

    def __repr__(self) -> str:
        hint = self.hint
        return hint.__qualname__ if isinstance(hint, type) else repr(hint)


class _Predicate(_Checker):
    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], object]) -> None:
        try:
            inspect.signature(func).bind(None)
        except TypeError:
            raise TypeCheckSpecificationError(
                f"{_show(func)} cannot be a predicate: it does not take one argument"
            ) from None
        except ValueError:
            pass  # no signature to read (some builtins): trust it
        self.func = func
        self.test = builtins.callable if func is builtins.callable else self._test

    def _test(self, value: object) -> bool:
        try:
            return bool(self.func(value))
        except Exception:
            return False

    def explain(self, value: object) -> Optional[_Mismatch]:
        try:
            accepted = self.func(value)
        except Exception as exc:
            return _Mismatch(value, reason=f"the check raised {exc!r}", cause=exc)
        return None if accepted else _Mismatch(value)

    def __repr__(self) -> str:
        return getattr(self.func, "__qualname__", None) or repr(self.func)


def _is_type_hint(spec: object) -> bool:
    if typing.get_origin(spec) is not None or hasattr(spec, "__supertype__"):
        return True  # list[int], Optional[str], Literal[...], int | None, NewType
    if isinstance(spec, (TypeVar, typing.ForwardRef)):
        return True
    return not isinstance(spec, type) and type(spec).__module__ in ("typing", "typing_extensions")


def _compile(spec: object) -> _Checker:
    """Turn a checker as written into a ``_Checker``, or raise a specification error."""
    if isinstance(spec, _Checker):
        return spec
    if spec is None or spec is type(None):
        return nothing
    if isinstance(spec, tuple):
        return either(*spec)
    if _is_type_hint(spec):
        return _TypeHint(spec)
    if isinstance(spec, type):
        try:
            isinstance(None, spec)
        except TypeError:  # a Protocol or TypedDict: typeguard knows how to check it
            return _TypeHint(spec)
        return _InstanceOf(spec)
    if builtins.callable(spec):
        return _Predicate(spec)
    raise TypeCheckSpecificationError(
        f"{_show(spec)} is not a checker: use a class, a typing construct, None, a combinator "
        "such as list_of(int), or a predicate function"
    )


def _compile_all(specs: Iterable[object], where: str) -> tuple[_Checker, ...]:
    try:
        return tuple(_compile(spec) for spec in specs)
    except TypeCheckSpecificationError as exc:
        raise TypeCheckSpecificationError(f"{where}: {exc}") from exc.__cause__


def _items(value: object) -> Iterable[Any]:
    return typing.cast("Iterable[Any]", value)


class _Collection(_Checker):
    __slots__ = ("_indexed", "_kinds", "_name", "item")

    def __init__(self, name: str, kinds: tuple[type, ...], item: object) -> None:
        (self.item,) = _compile_all([item], f"{name}()")
        self._name = name
        self._kinds = kinds
        self._indexed = set not in kinds
        item_test = self.item.test

        def test(value: object) -> bool:
            return isinstance(value, kinds) and all(map(item_test, _items(value)))

        self.test = test

    def explain(self, value: object) -> Optional[_Mismatch]:
        if not isinstance(value, self._kinds):
            return _Mismatch(value)
        item = self.item
        for index, element in enumerate(_items(value)):
            if not item.test(element):
                if not self._indexed:  # a set element has no index to point at
                    return _Mismatch(element, role="an element of")
                return item.failure(element).below(f"[{index}]")
        return None

    def __repr__(self) -> str:
        return f"{self._name}({self.item!r})"


def list_of(checker: object) -> _Checker:
    """Accept a list or tuple whose every element passes ``checker``."""
    return _Collection("list_of", (list, tuple), checker)


def tuple_of(checker: object) -> _Checker:
    """Accept a tuple whose every element passes ``checker``."""
    return _Collection("tuple_of", (tuple,), checker)


def set_of(checker: object) -> _Checker:
    """Accept a set or frozenset whose every element passes ``checker``."""
    return _Collection("set_of", (set, frozenset), checker)


class _DictOf(_Checker):
    __slots__ = ("key", "value")

    def __init__(self, key: object, value: object) -> None:
        self.key, self.value = _compile_all([key, value], "dict_of()")
        key_test, value_test = self.key.test, self.value.test

        def test(value: object) -> bool:
            return (
                isinstance(value, dict)
                and all(map(key_test, value))
                and all(map(value_test, value.values()))
            )

        self.test = test

    def explain(self, value: object) -> Optional[_Mismatch]:
        if not isinstance(value, dict):
            return _Mismatch(value)
        for key, item in value.items():
            if not self.key.test(key):
                return _Mismatch(key, role="a key in")
            if not self.value.test(item):
                return self.value.failure(item).below(f"[{_show(key)}]")
        return None

    def __repr__(self) -> str:
        return f"dict_of({self.key!r}, {self.value!r})"


def dict_of(key_checker: object, value_checker: object) -> _Checker:
    """Accept a dict whose every key and every value pass their checkers."""
    return _DictOf(key_checker, value_checker)


class _Optional(_Checker):
    __slots__ = ("item",)

    def __init__(self, item: object) -> None:
        (self.item,) = _compile_all([item], "optional()")
        item_test = self.item.test

        def test(value: object) -> bool:
            return value is None or item_test(value)

        self.test = test

    def explain(self, value: object) -> Optional[_Mismatch]:
        return None if value is None else self.item.explain(value)

    def __repr__(self) -> str:
        return f"optional({self.item!r})"


def optional(checker: object) -> _Checker:
    """Accept ``None`` or a value that passes ``checker``."""
    return _Optional(checker)


class _OneOf(_Checker):
    __slots__ = ("values",)

    def __init__(self, values: tuple[object, ...]) -> None:
        if not values:
            raise TypeCheckSpecificationError("one_of() needs at least one value")
        self.values = values

        def test(value: object) -> bool:
            try:
                return value in values
            except Exception:  # an __eq__ that raises, as arrays' does
                return False

        self.test = test

    def __repr__(self) -> str:
        return f"one_of({', '.join(map(_show, self.values))})"


def one_of(*values: object) -> _Checker:
    """Accept a value equal to one of ``values``."""
    return _OneOf(values)


class _Either(_Checker):
    __slots__ = ("options",)

    def __init__(self, options: tuple[object, ...]) -> None:
        if not options:
            raise TypeCheckSpecificationError("either() needs at least one checker")
        self.options = _compile_all(options, "either()")
        tests = tuple(option.test for option in self.options)

        def test(value: object) -> bool:
            return any(option(value) for option in tests)

        self.test = test

    def __repr__(self) -> str:
        return f"either({', '.join(map(repr, self.options))})"


def either(*checkers: object) -> _Checker:
    """Accept a value that passes any of ``checkers``."""
    return _Either(checkers)


class _WithAttr(_Checker):
    __slots__ = ("names",)

    def __init__(self, names: tuple[object, ...]) -> None:
        if not names or not all(isinstance(name, str) for name in names):
            raise TypeCheckSpecificationError(
                f"with_attr() needs one or more attribute names as str, got {_show(names)}"
            )
        self.names = typing.cast("tuple[str, ...]", names)

        def test(value: object) -> bool:
            return all(hasattr(value, name) for name in self.names)

        self.test = test

    def explain(self, value: object) -> Optional[_Mismatch]:
        missing = [name for name in self.names if not hasattr(value, name)]
        return _Mismatch(value, reason=f"no attribute {', '.join(missing)}") if missing else None

    def __repr__(self) -> str:
        return f"with_attr({', '.join(map(repr, self.names))})"


def with_attr(*names: str) -> _Checker:
    """Accept a value that has every one of the attributes ``names``."""
    return _WithAttr(names)


class _ByRegex(_Checker):
    __slots__ = ("pattern",)

    def __init__(self, pattern: object) -> None:
        if isinstance(pattern, re.Pattern) and isinstance(pattern.pattern, str):
            compiled: re.Pattern[str] = pattern
        elif isinstance(pattern, str):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise TypeCheckSpecificationError(
                    f"by_regex() got a bad regular expression {pattern!r}: {exc}"
                ) from exc
        else:
            raise TypeCheckSpecificationError(
                f"by_regex() needs a str pattern, got {_show(pattern)}"
            )
        self.pattern = compiled
        fullmatch = compiled.fullmatch

        def test(value: object) -> bool:
            return isinstance(value, str) and fullmatch(value) is not None

        self.test = test

    def __repr__(self) -> str:
        return f"by_regex({self.pattern.pattern!r})"


def by_regex(pattern: Union[str, re.Pattern[str]]) -> _Checker:
    """Accept a ``str`` that the regular expression ``pattern`` matches in full."""
    return _ByRegex(pattern)


# ---- annotations -------------------------------------------------------------------------

# Plain classes that typing, and so typeguard, widens: int passes for float, bytearray for bytes.
_WIDENED = frozenset({float, complex, bytes})


def _from_annotation(hint: object) -> _Checker:
    if hint is typing.Any or hint is object or getattr(hint, "_name", None) == "Self":
        return anything  # Self has no meaning outside typeguard's own instrumentation
    if hint is None or hint is type(None):
        return nothing
    if type(hint) is type and hint not in _WIDENED:
        return _InstanceOf(hint)
    return _TypeHint(hint)


def _param_checker(param: inspect.Parameter, hint: object) -> _Checker:
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


def _checkers_from_annotations(
    func: Callable[..., Any], signature: inspect.Signature
) -> tuple[dict[str, _Checker], Optional[_Checker]]:
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


# ---- wrappers ----------------------------------------------------------------------------

_KIND = inspect.Parameter


class _Plan:
    """What one wrapper checks: a checker per checked parameter, maybe one for the result."""

    def __init__(
        self,
        func: Callable[..., Any],
        signature: inspect.Signature,
        checkers: dict[str, _Checker],
        result: Optional[_Checker],
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
        self.prefix = ""  # set by _build: the start of every name in the generated code

    def spec_error(self, problem: str) -> TypeCheckSpecificationError:
        return TypeCheckSpecificationError(f"{self.label} for {self.qualname}(): {problem}")

    def check_spec(self) -> None:
        """Refuse defaults the checkers reject, and checkers no argument tuple could pass."""
        params = self.signature.parameters
        for name, checker in zip(self.names, self.checkers):
            param = params[name]
            if param.default is not _KIND.empty and not checker.test(param.default):
                raise self.spec_error(
                    f"the default value of {name}, {_show(param.default)}, is rejected by "
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
            if isinstance(checker, _InstanceOf) and not issubclass(whole, checker.cls):
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


def _signature(func: Callable[..., Any], label: str) -> inspect.Signature:
    if isinstance(func, type) or not builtins.callable(func):
        raise TypeCheckSpecificationError(
            f"{label} decorates functions and methods, not {_show(func)}"
        )
    try:
        return inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise TypeCheckSpecificationError(
            f"{label} cannot read the signature of {_show(func)}: {exc}"
        ) from exc


def _source(params: list[inspect.Parameter], plan: _Plan, mode: str) -> str:
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


def _build(
    plan: _Plan, mode: str, tests: Optional[list[Callable[[Any], bool]]] = None
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

    result_test = plan.result.test if plan.result is not None else _always
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


def _mode(func: Callable[..., Any], result: Optional[_Checker], from_annotations: bool) -> str:
    """How the wrapper calls ``func``: "await" it, "genret" (check what a generator
    returns), or "plain" (check what the call returns; an annotated generator's annotation
    describes the generator object itself)."""
    if inspect.iscoroutinefunction(func):
        return "await"
    if result is not None and not from_annotations and inspect.isgeneratorfunction(func):
        return "genret"
    return "plain"


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
    checkers: dict[str, _Checker],
    result: Optional[_Checker],
    label: str,
) -> Callable[..., Any]:
    """Wrap ``func`` to check ``checkers`` and ``result``, given to ``takes`` or ``returns``."""
    plan = _Plan(func, _signature(func, label), checkers, result, label)
    plan.check_spec()
    if result is not None and inspect.isasyncgenfunction(func):
        if not result.test(None):
            raise plan.spec_error(f"an async generator returns None, which {result!r} rejects")
        plan.result = None
    return _build(plan, _mode(func, plan.result, False))


def takes(*checkers: object, **kwcheckers: object) -> _Decorator:
    """Check arguments: positional ``checkers`` map to the parameters in order, ``self`` and
    ``cls`` included, ``kwcheckers`` by name; so give a method's checkers by keyword."""
    label = "takes()"
    positional = _compile_all(checkers, label)
    by_name = dict(zip(kwcheckers, _compile_all(kwcheckers.values(), label)))

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        names = list(_signature(func, label).parameters)
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
    (result,) = _compile_all([checker], "returns()")
    return typing.cast(
        "_Decorator", _on_methods(lambda func: _decorate(func, {}, result, "returns()"))
    )


class _Lazy:
    """Resolves string annotations at the first checked call, then puts the real tests in
    the wrapper's closure cells, so that later calls cost what an eager wrapper's do."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.wrapper: Optional[Callable[..., Any]] = None
        self.lock = threading.Lock()  # guards the one-time resolution and the cell swap
        self.done = False

    def resolve(self) -> None:
        with self.lock:
            if self.done:
                return
            plan = self.plan
            checkers, result = _checkers_from_annotations(plan.func, plan.signature)
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


def _typecheck(func: Callable[..., Any]) -> Callable[..., Any]:
    label = "typecheck"
    signature = _signature(func, label)
    annotations: dict[str, Any] = dict(getattr(func, "__annotations__", {}))
    if not any(isinstance(value, str) for value in annotations.values()):
        try:
            checkers, result = _checkers_from_annotations(func, signature)
        except TypeCheckSpecificationError as exc:
            if not isinstance(exc.__cause__, NameError):
                raise
            # A forward reference to a name defined further down: resolve at the first call.
        else:
            plan = _Plan(func, signature, checkers, result, label)
            plan.check_spec()
            return _build(plan, _mode(func, result, True))
    has_result = "return" in annotations
    named = {name: anything for name in signature.parameters if name in annotations}
    plan = _Plan(func, signature, named, anything if has_result else None, label)
    pending = _Lazy(plan)
    tests = [pending.stand_in(index) for index in range(len(plan.names))]
    if has_result:
        plan.result = _Named("<unresolved annotation>", pending.stand_in(-1))
    pending.wrapper = _build(plan, _mode(func, plan.result, True), tests)
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
