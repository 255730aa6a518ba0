"""The compiled checkers every other piece is made of: a ``Checker`` and its leaf kinds.

A ``Checker``'s ``test`` answers fast and never raises for a rejected value; ``explain`` (and
``failure``) then find the rejected part as a ``Mismatch``. The leaves: ``anything``,
``nothing``, a class (``InstanceOf``), a typing construct (``TypeHint``, checked by typeguard,
imported on first use) and a predicate (``Predicate``). Combinators are in ``combinators``;
what a checker as written means is decided in ``language``.
"""

from __future__ import annotations

import builtins
import functools
import operator
from typing import Any, Callable, Optional

from pmnc_hook.typecheck.errors import Mismatch, TypeCheckSpecificationError, show
from pmnc_hook.typecheck.signatures import signature_of

__all__ = (
    "Checker",
    "InstanceOf",
    "Named",
    "Predicate",
    "TypeHint",
    "always",
    "anything",
    "nothing",
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
    """A typing construct that typeguard checks; ``language`` hands it only what typing
    itself can check (typeguard accepts objects it does not know)."""

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


class Predicate(Checker):
    """Any other callable: a truthy result accepts the value, an exception rejects it."""

    __slots__ = ("func",)

    def __init__(self, func: Callable[[Any], object]) -> None:
        try:
            signature_of(func).bind(None)
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
