"""Calls mypy must reject: each line marked ``# E: <code>`` must get an error with that code,
and no other line may get one (checked by tests/test_typecheck_static.py)."""

from __future__ import annotations

from pmnc_hook.typecheck import list_of, returns, takes, typecheck


@takes(int)
def f(x: int) -> str:
    return str(x)


@returns(list_of(int))
def g(x: list[int], *, scale: int = 1) -> list[int]:
    return x


@typecheck
def k(x: int, /, y: str) -> int:
    return x


# Checked at run time, but no type mypy can read: write Annotated[list[int], list_of(int)].
@typecheck
def pythomnic_style(x: list_of(int)) -> None:  # E: valid-type
    pass


@takes(int)
async def fetch(x: int) -> bytes:
    return b""


class Account:
    @takes(amount=int)
    def add(self, amount: int) -> int:
        return amount

    @takes(name=str)
    @classmethod
    def named(cls, name: str) -> Account:
        return cls()

    @takes(x=int)
    @staticmethod
    def double(x: int) -> int:
        return 2 * x


def misuse() -> None:
    f("1")  # E: arg-type
    f(1, 2)  # E: call-arg
    f(y=1)  # E: call-arg
    f(1) + 1  # E: operator
    g([1], 2)  # E: call-arg|misc (the code depends on the mypy version)
    g([1], scale="2")  # E: arg-type
    k(x=1, y="a")  # E: call-arg
    length: int = f(1)  # E: assignment
    print(length)
    fetch(1).decode()  # E: attr-defined
    Account().add("1")  # E: arg-type
    Account.named(1)  # E: arg-type
    Account.double("2")  # E: arg-type
