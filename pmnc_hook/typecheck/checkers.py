"""Compile checkers as written into fast tests that can say what they rejected.

A checker as written is a ``Checker`` (the combinators below, ``anything``, ``nothing``), a
class (``isinstance``), a typing construct (``typeguard.check_type``, every element of a
collection), ``None`` (the value must be ``None``), a tuple (any of its checkers) or a
predicate (any other callable: a truthy result accepts the value, an exception rejects it).
``compile_all`` turns them into ``Checker`` objects or raises
``TypeCheckSpecificationError``. A ``Checker``'s ``test`` answers fast and never raises for a
rejected value; ``failure`` then finds the rejected part as a ``Mismatch``.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import operator
import re
import typing
from collections.abc import Iterable
from typing import Any, Callable, Optional, TypeVar, Union

from pmnc_hook.typecheck.errors import Mismatch, TypeCheckSpecificationError, show

__all__ = (
    "Checker",
    "InstanceOf",
    "Named",
    "TypeHint",
    "always",
    "anything",
    "by_regex",
    "compile_all",
    "dict_of",
    "either",
    "list_of",
    "nothing",
    "one_of",
    "optional",
    "set_of",
    "tuple_of",
    "with_attr",
)


def always(value: object) -> bool:
    return True


class Checker:
    """A compiled checker: ``test`` answers fast, ``explain`` finds what it rejected."""

    __slots__ = ("test",)

    test: Callable[[Any], bool]

    def __call__(self, value: object) -> bool:
        """Return whether ``value`` passes: checkers double as predicates."""
        return self.test(value)

    def explain(self, value: object) -> Optional[Mismatch]:
        return None if self.test(value) else Mismatch(value)

    def failure(self, value: object) -> Mismatch:
        return self.explain(value) or Mismatch(value)


class Named(Checker):
    __slots__ = ("_name",)

    def __init__(self, name: str, test: Callable[[Any], bool]) -> None:
        self._name = name
        self.test = test

    def __repr__(self) -> str:
        return self._name


anything: Checker = Named("anything", always)
nothing: Checker = Named("nothing", functools.partial(operator.is_, None))


class InstanceOf(Checker):
    __slots__ = ("cls",)

    def __init__(self, cls: type) -> None:
        self.cls = cls
        # The metaclass's __instancecheck__ bound to cls: a C call, cheaper than a lambda.
        self.test = type(cls).__instancecheck__.__get__(cls)

    def __repr__(self) -> str:
        return self.cls.__qualname__


class TypeHint(Checker):
    __slots__ = ("hint",)

    def __init__(self, hint: object) -> None:
        self.hint = hint
        self.test = self._test

    def _check(self, value: object) -> None:
        import typeguard  # imported on first use: it costs ~30 ms of start-up

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
        import typeguard

        try:
            self._check(value)
        except typeguard.TypeCheckError:
            return False
        return True

    def explain(self, value: object) -> Optional[Mismatch]:
        import typeguard

        try:
            self._check(value)
        except typeguard.TypeCheckError as exc:
            return Mismatch(value, reason=str(exc))
        return None

    def __repr__(self) -> str:
        hint = self.hint
        return hint.__qualname__ if isinstance(hint, type) else repr(hint)


class _Predicate(Checker):
    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], object]) -> None:
        try:
            inspect.signature(func).bind(None)
        except TypeError:
            raise TypeCheckSpecificationError(
                f"{show(func)} cannot be a predicate: it does not take one argument"
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

    def explain(self, value: object) -> Optional[Mismatch]:
        try:
            accepted = self.func(value)
        except Exception as exc:
            return Mismatch(value, reason=f"the check raised {exc!r}", cause=exc)
        return None if accepted else Mismatch(value)

    def __repr__(self) -> str:
        return getattr(self.func, "__qualname__", None) or repr(self.func)


def _is_type_hint(spec: object) -> bool:
    if typing.get_origin(spec) is not None or hasattr(spec, "__supertype__"):
        return True  # list[int], Optional[str], Literal[...], int | None, NewType
    if isinstance(spec, (TypeVar, typing.ForwardRef)):
        return True
    return not isinstance(spec, type) and type(spec).__module__ in ("typing", "typing_extensions")


def _compile(spec: object) -> Checker:
    """Turn a checker as written into a ``Checker``, or raise a specification error."""
    if isinstance(spec, Checker):
        return spec
    if spec is None or spec is type(None):
        return nothing
    if isinstance(spec, tuple):
        return either(*spec)
    if _is_type_hint(spec):
        return TypeHint(spec)
    if isinstance(spec, type):
        try:
            isinstance(None, spec)
        except TypeError:  # a Protocol or TypedDict: typeguard knows how to check it
            return TypeHint(spec)
        return InstanceOf(spec)
    if builtins.callable(spec):
        return _Predicate(spec)
    raise TypeCheckSpecificationError(
        f"{show(spec)} is not a checker: use a class, a typing construct, None, a combinator "
        "such as list_of(int), or a predicate function"
    )


def compile_all(specs: Iterable[object], where: str) -> tuple[Checker, ...]:
    try:
        return tuple(_compile(spec) for spec in specs)
    except TypeCheckSpecificationError as exc:
        raise TypeCheckSpecificationError(f"{where}: {exc}") from exc.__cause__


def _items(value: object) -> Iterable[Any]:
    return typing.cast("Iterable[Any]", value)


class _Collection(Checker):
    __slots__ = ("_indexed", "_kinds", "_name", "item")

    def __init__(self, name: str, kinds: tuple[type, ...], item: object) -> None:
        (self.item,) = compile_all([item], f"{name}()")
        self._name = name
        self._kinds = kinds
        self._indexed = set not in kinds
        item_test = self.item.test

        def test(value: object) -> bool:
            return isinstance(value, kinds) and all(map(item_test, _items(value)))

        self.test = test

    def explain(self, value: object) -> Optional[Mismatch]:
        if not isinstance(value, self._kinds):
            return Mismatch(value)
        item = self.item
        for index, element in enumerate(_items(value)):
            if not item.test(element):
                if not self._indexed:  # a set element has no index to point at
                    return Mismatch(element, role="an element of")
                return item.failure(element).below(f"[{index}]")
        return None

    def __repr__(self) -> str:
        return f"{self._name}({self.item!r})"


def list_of(checker: object) -> Checker:
    """Accept a list or tuple whose every element passes ``checker``."""
    return _Collection("list_of", (list, tuple), checker)


def tuple_of(checker: object) -> Checker:
    """Accept a tuple whose every element passes ``checker``."""
    return _Collection("tuple_of", (tuple,), checker)


def set_of(checker: object) -> Checker:
    """Accept a set or frozenset whose every element passes ``checker``."""
    return _Collection("set_of", (set, frozenset), checker)


class _DictOf(Checker):
    __slots__ = ("key", "value")

    def __init__(self, key: object, value: object) -> None:
        self.key, self.value = compile_all([key, value], "dict_of()")
        key_test, value_test = self.key.test, self.value.test

        def test(value: object) -> bool:
            return (
                isinstance(value, dict)
                and all(map(key_test, value))
                and all(map(value_test, value.values()))
            )

        self.test = test

    def explain(self, value: object) -> Optional[Mismatch]:
        if not isinstance(value, dict):
            return Mismatch(value)
        for key, item in value.items():
            if not self.key.test(key):
                return Mismatch(key, role="a key in")
            if not self.value.test(item):
                return self.value.failure(item).below(f"[{show(key)}]")
        return None

    def __repr__(self) -> str:
        return f"dict_of({self.key!r}, {self.value!r})"


def dict_of(key_checker: object, value_checker: object) -> Checker:
    """Accept a dict whose every key and every value pass their checkers."""
    return _DictOf(key_checker, value_checker)


class _Optional(Checker):
    __slots__ = ("item",)

    def __init__(self, item: object) -> None:
        (self.item,) = compile_all([item], "optional()")
        item_test = self.item.test

        def test(value: object) -> bool:
            return value is None or item_test(value)

        self.test = test

    def explain(self, value: object) -> Optional[Mismatch]:
        return None if value is None else self.item.explain(value)

    def __repr__(self) -> str:
        return f"optional({self.item!r})"


def optional(checker: object) -> Checker:
    """Accept ``None`` or a value that passes ``checker``."""
    return _Optional(checker)


class _OneOf(Checker):
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
        return f"one_of({', '.join(map(show, self.values))})"


def one_of(*values: object) -> Checker:
    """Accept a value equal to one of ``values``."""
    return _OneOf(values)


class _Either(Checker):
    __slots__ = ("options",)

    def __init__(self, options: tuple[object, ...]) -> None:
        if not options:
            raise TypeCheckSpecificationError("either() needs at least one checker")
        self.options = compile_all(options, "either()")
        tests = tuple(option.test for option in self.options)

        def test(value: object) -> bool:
            return any(option(value) for option in tests)

        self.test = test

    def __repr__(self) -> str:
        return f"either({', '.join(map(repr, self.options))})"


def either(*checkers: object) -> Checker:
    """Accept a value that passes any of ``checkers``."""
    return _Either(checkers)


class _WithAttr(Checker):
    __slots__ = ("names",)

    def __init__(self, names: tuple[object, ...]) -> None:
        if not names or not all(isinstance(name, str) for name in names):
            raise TypeCheckSpecificationError(
                f"with_attr() needs one or more attribute names as str, got {show(names)}"
            )
        self.names = typing.cast("tuple[str, ...]", names)

        def test(value: object) -> bool:
            return all(hasattr(value, name) for name in self.names)

        self.test = test

    def explain(self, value: object) -> Optional[Mismatch]:
        missing = [name for name in self.names if not hasattr(value, name)]
        return Mismatch(value, reason=f"no attribute {', '.join(missing)}") if missing else None

    def __repr__(self) -> str:
        return f"with_attr({', '.join(map(repr, self.names))})"


def with_attr(*names: str) -> Checker:
    """Accept a value that has every one of the attributes ``names``."""
    return _WithAttr(names)


class _ByRegex(Checker):
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
                f"by_regex() needs a str pattern, got {show(pattern)}"
            )
        self.pattern = compiled
        fullmatch = compiled.fullmatch

        def test(value: object) -> bool:
            return isinstance(value, str) and fullmatch(value) is not None

        self.test = test

    def __repr__(self) -> str:
        return f"by_regex({self.pattern.pattern!r})"


def by_regex(pattern: Union[str, re.Pattern[str]]) -> Checker:
    """Accept a ``str`` that the regular expression ``pattern`` matches in full."""
    return _ByRegex(pattern)
