"""Decorated functions keep their signatures for mypy: this file must pass ``mypy --strict``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from typing_extensions import assert_type

from pmnc_hook.typecheck import (
    anything,
    by_regex,
    dict_of,
    either,
    list_of,
    nothing,
    one_of,
    optional,
    returns,
    set_of,
    takes,
    tuple_of,
    typecheck,
    with_attr,
)


@takes(int)
def f(x: int) -> str:
    return str(x)


@takes(list_of(int), z=optional(str))
def g(x: list[int], y: float = 1.0, *, z: str | None = None) -> float:
    return sum(x) * y


@returns(dict_of(str, set_of(int)))
def h(*args: int, **kwargs: str) -> dict[str, set[int]]:
    return {"a": set(args)}


@typecheck
def k(x: int, /, y: str) -> tuple[int, str]:
    return x, y


@takes(either(int, by_regex("[0-9]+")), one_of("a", "b"), with_attr("real"), anything)
@returns(tuple_of(anything))
def combined(a: int | str, b: str, c: complex, d: object) -> tuple[object, ...]:
    return (a, b, c, d)


@takes(int)
async def fetch(x: int) -> bytes:
    return b"x" * x


@takes(n=int)
def count(n: int) -> Iterator[int]:
    yield from range(n)


@typecheck
async def ticks(n: int) -> AsyncIterator[int]:
    yield n


@returns(nothing)
def done() -> None:
    pass


# Checkers as annotations that mypy also reads: the type first, the checkers as metadata.
@typecheck
def tagged(
    name: Annotated[str, by_regex("[a-z]+")], ids: Annotated[list[int], list_of(int)]
) -> Annotated[int, either(int)]:
    return len(name) + len(ids)


class Account:
    @takes(amount=int)
    def add(self, amount: int) -> int:
        return amount

    @classmethod
    @takes(name=str)
    def named(cls, name: str) -> Account:
        return cls()

    @takes(name=str)
    @classmethod
    def named_outer(cls, name: str) -> Account:
        return cls()

    @staticmethod
    @takes(int)
    def double(x: int) -> int:
        return 2 * x

    @typecheck
    @staticmethod
    def triple(x: int) -> int:
        return 3 * x


async def use_async() -> None:
    assert_type(await fetch(2), bytes)
    async for tick in ticks(1):
        assert_type(tick, int)


def use() -> None:
    assert_type(f(1), str)
    assert_type(f(x=1), str)
    assert_type(g([1, 2]), float)
    assert_type(g([1], 2.0, z=None), float)
    assert_type(h(1, 2, a="b"), dict[str, set[int]])
    assert_type(k(1, "a"), tuple[int, str])
    assert_type(k(1, y="a"), tuple[int, str])
    assert_type(combined("1", "a", 1j, None), tuple[object, ...])
    assert_type(list(count(3)), list[int])
    assert_type(done(), None)
    assert_type(tagged("a", [1]), int)
    account = Account()
    assert_type(account.add(1), int)
    assert_type(Account.named("a"), Account)
    assert_type(Account.named_outer("a"), Account)
    assert_type(Account.double(1), int)
    assert_type(Account.triple(1), int)
    assert_type(list_of(int)([1]), bool)
