"""Checkers made of other, already compiled checkers: collections, unions, values, patterns.

These classes take compiled ``Checker`` objects; ``language`` compiles what users write and
builds them (``list_of(int)``, and typing constructs that hold checkers, such as
``Optional[list_of(int)]``). ``shown`` is what ``repr`` gives, so that a message shows the
checker as it was written.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Callable, Optional

from pmnc_hook.typecheck.checkers import Checker
from pmnc_hook.typecheck.errors import Mismatch, TypeCheckSpecificationError, show

__all__ = (
    "AllOf",
    "ByRegex",
    "Collection",
    "DictOf",
    "Either",
    "FixedTuple",
    "OneOf",
    "OrNone",
    "Shown",
    "WithAttr",
)


def _items(value: object) -> Iterable[Any]:
    return typing.cast("Iterable[Any]", value)


class Shown(Checker):
    """A combinator whose ``repr`` is the checker as it was written."""

    __slots__ = ("_shown",)

    def __init__(self, shown: str) -> None:
        self._shown = shown

    def __repr__(self) -> str:
        return self._shown


class Collection(Shown):
    """An instance of ``kinds`` whose every element passes ``item``."""

    __slots__ = ("_indexed", "_kinds", "item")

    def __init__(self, kinds: tuple[type, ...], item: Checker, shown: str) -> None:
        self.item = item
        super().__init__(shown)
        self._kinds = kinds
        # A set element has no index to point at in a message.
        self._indexed = not any(issubclass(kind, AbstractSet) for kind in kinds)
        item_test = item.test

        def test(value: object) -> bool:
            return isinstance(value, kinds) and all(map(item_test, _items(value)))

        self.test = test

    def explain(self, value: object) -> Optional[Mismatch]:
        if not isinstance(value, self._kinds):
            return Mismatch(value)
        item = self.item
        for index, element in enumerate(_items(value)):
            if not item.test(element):
                if not self._indexed:
                    return Mismatch(element, role="an element of")
                return item.failure(element).below(f"[{index}]")
        return None


class FixedTuple(Shown):
    """A tuple of exactly ``len(items)`` elements, each passing its own checker."""

    __slots__ = ("items",)

    def __init__(self, items: tuple[Checker, ...], shown: str) -> None:
        self.items = items
        super().__init__(shown)
        tests = tuple(item.test for item in items)
        size = len(tests)

        def test(value: object) -> bool:
            return (
                isinstance(value, tuple)
                and len(value) == size
                and all(check(element) for check, element in zip(tests, value))
            )

        self.test = test

    def explain(self, value: object) -> Optional[Mismatch]:
        if not isinstance(value, tuple) or len(value) != len(self.items):
            return Mismatch(value)
        for index, (item, element) in enumerate(zip(self.items, value)):
            if not item.test(element):
                return item.failure(element).below(f"[{index}]")
        return None


class DictOf(Shown):
    """An instance of ``kinds`` (mappings) whose every key and value pass their checkers."""

    __slots__ = ("_kinds", "key", "value")

    def __init__(self, kinds: tuple[type, ...], key: Checker, value: Checker, shown: str) -> None:
        self.key, self.value = key, value
        self._kinds = kinds
        super().__init__(shown)
        key_test, value_test = key.test, value.test
        mappings: Any = kinds  # typed Any so that isinstance does not narrow to object

        def test(value: Any) -> bool:
            return (
                isinstance(value, mappings)
                and all(map(key_test, value))
                and all(map(value_test, value.values()))
            )

        self.test = test

    def explain(self, value: object) -> Optional[Mismatch]:
        if not isinstance(value, self._kinds):
            return Mismatch(value)
        for key, item in typing.cast("Mapping[Any, Any]", value).items():
            if not self.key.test(key):
                return Mismatch(key, role="a key in")
            if not self.value.test(item):
                return self.value.failure(item).below(f"[{show(key)}]")
        return None


class OrNone(Shown):
    """``None``, or a value that passes ``item``."""

    __slots__ = ("item",)

    def __init__(self, item: Checker, shown: str) -> None:
        self.item = item
        super().__init__(shown)
        item_test = item.test

        def test(value: object) -> bool:
            return value is None or item_test(value)

        self.test = test

    def explain(self, value: object) -> Optional[Mismatch]:
        return None if value is None else self.item.explain(value)


class _Several(Shown):
    """A value that passes ``quantifier`` (``any`` or ``all``) of ``parts``."""

    __slots__ = ("parts",)

    quantifier: Callable[[Iterable[bool]], bool]

    def __init__(self, parts: tuple[Checker, ...], shown: str) -> None:
        super().__init__(shown)
        self.parts = parts
        tests = tuple(part.test for part in parts)
        quantifier = type(self).quantifier

        def test(value: object) -> bool:
            return quantifier(part(value) for part in tests)

        self.test = test


class Either(_Several):
    """A value that passes any of ``parts``."""

    __slots__ = ()
    quantifier = staticmethod(any)

    def __init__(self, parts: tuple[Checker, ...], shown: str) -> None:
        if not parts:
            raise TypeCheckSpecificationError("either() needs at least one checker")
        super().__init__(parts, shown)


class AllOf(_Several):
    """A value that passes every one of ``parts`` (``Annotated[str, by_regex(...)]``)."""

    __slots__ = ()
    quantifier = staticmethod(all)

    def explain(self, value: object) -> Optional[Mismatch]:
        for part in self.parts:
            if not part.test(value):
                return part.failure(value)
        return None


class OneOf(Checker):
    """A value equal to one of ``values``."""

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


class WithAttr(Checker):
    """A value that has every one of the attributes ``names``."""

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


class ByRegex(Checker):
    """A ``str`` that a regular expression matches in full."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: object) -> None:
        import re  # at decoration only: importing the package stays cheap

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
