"""Every kind of callable decorated (methods, async, generators), the metadata the wrapper
keeps, and the run-time switch."""

# typing.List and friends are what is under test here, next to list[int] and the rest.
# ruff: noqa: UP006, UP035

import asyncio
import inspect
import sys
import typing

import pytest
from conftest import run_python
from typecheck_support import (
    checks_on,  # noqa: F401 - an autouse fixture
    drain,
    message_of,
    run,
)

from pmnc_hook.typecheck import (
    InputParameterError,
    ReturnValueError,
    TypeCheckSpecificationError,
    disable,
    enable,
    nothing,
    returns,
    takes,
    typecheck,
    with_attr,
)

# ---- every kind of callable --------------------------------------------------------------


class Account:
    def __init__(self) -> None:
        self.total = 0

    @takes(amount=int)
    def add(self, amount):
        self.total += amount
        return self.total

    @takes(with_attr("total"), int)  # positional checkers include self
    def add_positional(self, amount):
        return amount

    @classmethod
    @takes(name=str)
    def named(cls, name):
        return (cls, name)

    @takes(name=str)
    @classmethod
    def named_outer(cls, name):
        return (cls, name)

    @staticmethod
    @takes(int)
    def double(x):
        return 2 * x

    @takes(x=int)
    @staticmethod
    def triple(x):
        return 3 * x

    @returns(int)
    @takes(x=int)
    def __call__(self, x):
        return x if x >= 0 else str(x)


def test_methods():
    account = Account()
    assert account.add(2) == 2
    assert account.add(amount=3) == 5
    assert "Account.add() got an incompatible value for amount: 'x'" == message_of(
        lambda: account.add("x")
    )
    assert message_of(lambda: account.add(amount=1.5)).endswith("for amount: 1.5")
    assert account.add_positional(1) == 1
    assert message_of(lambda: Account.add_positional(object(), 1)).startswith(
        "Account.add_positional() got an incompatible value for self: <object"
    )
    assert account(1) == 1
    assert message_of(lambda: account(-1), ReturnValueError).endswith("value: '-1'")


@pytest.mark.parametrize("name", ["named", "named_outer"])
def test_classmethods_in_either_order(name):
    method = getattr(Account, name)
    assert method("a") == (Account, "a")
    assert getattr(Account(), name)(name="b") == (Account, "b")
    assert isinstance(inspect.getattr_static(Account, name), classmethod)
    assert (
        message_of(lambda: method(1)) == f"Account.{name}() got an incompatible value for name: 1"
    )


@pytest.mark.parametrize("name", ["double", "triple"])
def test_staticmethods_in_either_order(name):
    method = getattr(Account, name)
    factor = {"double": 2, "triple": 3}[name]
    assert method(1) == factor
    assert getattr(Account(), name)(x=2) == 2 * factor
    assert isinstance(inspect.getattr_static(Account, name), staticmethod)
    assert (
        message_of(lambda: method("a")) == f"Account.{name}() got an incompatible value for x: 'a'"
    )


def test_async_def():
    @returns(int)
    @takes(int)
    async def f(x):
        await asyncio.sleep(0)
        return x if x >= 0 else "negative"

    assert inspect.iscoroutinefunction(f)
    if sys.version_info < (3, 14):  # deprecated from 3.14 on, for inspect's
        assert asyncio.iscoroutinefunction(f)
    assert run(f(2)) == 2
    assert message_of(lambda: run(f("2"))) == "f() got an incompatible value for x: '2'"
    assert message_of(lambda: run(f(-1)), ReturnValueError) == (
        "f() has returned an incompatible value: 'negative'"
    )


def test_async_def_with_annotations_checks_the_awaited_value():
    @typecheck
    async def f(x: int) -> str:
        return "ok" if x else 0  # type: ignore[return-value]

    assert inspect.iscoroutinefunction(f)
    assert run(f(1)) == "ok"
    with pytest.raises(ReturnValueError):
        run(f(0))
    with pytest.raises(InputParameterError):
        run(f("1"))


def test_async_method():
    class Service:
        @takes(n=int)
        async def ping(self, n):
            return n

    assert run(Service().ping(n=1)) == 1
    with pytest.raises(InputParameterError):
        run(Service().ping("1"))


def test_generator_arguments_are_checked_at_call_time():
    @takes(int)
    def count(n):
        yield from range(n)

    assert list(count(3)) == [0, 1, 2]
    with pytest.raises(InputParameterError):
        count("3")  # no next() needed


def test_generator_returns_checks_the_return_value():
    @returns(str)
    def gen(n):
        yield n
        return "done" if n else 0

    assert drain(gen(1)) == ([1], "done")
    generator = gen(0)
    assert next(generator) == 0
    with pytest.raises(ReturnValueError, match=r"gen\(\) has returned an incompatible value: 0"):
        next(generator)


def test_generator_send_throw_and_close_pass_through():
    closed: list[int] = []

    @returns(int)
    def echo():
        total = 0
        try:
            while True:
                received = yield total
                total += received
        except KeyError:
            return total
        finally:
            closed.append(total)

    generator = echo()
    assert next(generator) == 0
    assert generator.send(2) == 2
    assert generator.send(3) == 5
    with pytest.raises(StopIteration) as stop:
        generator.throw(KeyError("end"))
    assert stop.value.value == 5
    other = echo()
    next(other)
    other.send(4)
    assert closed == [5]
    other.close()  # reaches the generator: its finally runs at once, with GeneratorExit
    assert closed == [5, 4]


def test_generator_with_annotations_checks_the_generator_object():
    @typecheck
    def count(n: int) -> typing.Iterator[int]:
        yield from range(n)

    assert list(count(2)) == [0, 1]
    with pytest.raises(InputParameterError):
        count("2")

    @typecheck
    def not_a_generator(n: int) -> typing.Iterator[int]:
        return n  # type: ignore[return-value]

    with pytest.raises(ReturnValueError):
        not_a_generator(1)


def test_async_generator():
    @takes(int)
    @returns(nothing)
    async def ticks(n):
        for i in range(n):
            yield i

    async def collect(n):
        return [i async for i in ticks(n)]

    assert run(collect(2)) == [0, 1]
    with pytest.raises(InputParameterError):
        ticks("2")  # at call time

    with pytest.raises(TypeCheckSpecificationError, match="async generator"):

        @returns(int)
        async def never(n):
            yield n

    @typecheck
    async def annotated(n: int) -> typing.AsyncIterator[int]:
        yield n

    assert inspect.isasyncgen(annotated(1))
    with pytest.raises(InputParameterError):
        annotated("1")


# ---- metadata ----------------------------------------------------------------------------


def documented(x: int, y: str = "a", *args: int, z: float = 1.0, **kwargs: str) -> str:
    """Say hello."""
    return y


documented.custom = "kept"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "decorate", [takes(int, str), returns(str), typecheck], ids=["takes", "returns", "typecheck"]
)
def test_metadata_is_kept(decorate):
    wrapper = decorate(documented)
    assert wrapper is not documented
    assert wrapper.__name__ == "documented"
    assert wrapper.__qualname__ == "documented"
    assert wrapper.__doc__ == "Say hello."
    assert wrapper.__module__ == documented.__module__
    assert wrapper.__wrapped__ is documented
    assert wrapper.__annotations__ == documented.__annotations__
    assert wrapper.custom == "kept"
    assert inspect.signature(wrapper) == inspect.signature(documented)
    assert typing.get_type_hints(wrapper) == typing.get_type_hints(documented)
    assert wrapper(1) == "a"


def test_tracebacks_name_the_function():
    @takes(int)
    def traced(x):
        return x

    with pytest.raises(InputParameterError) as info:
        traced("x")
    assert "traced" in [entry.name for entry in info.traceback]


# ---- the run-time switch -----------------------------------------------------------------


def test_disable_and_enable_affect_functions_decorated_before():
    @returns(int)
    @takes(int)
    def f(x):
        return x

    @typecheck
    def g(x: int) -> int:
        return x

    disable()
    assert f("a") == "a"
    assert g("a") == "a"
    enable()
    with pytest.raises(InputParameterError):
        f("a")
    with pytest.raises(InputParameterError):
        g("a")


def test_disable_affects_functions_decorated_while_disabled():
    disable()

    @takes(int)
    def f(x):
        return x

    assert f("a") == "a"
    enable()
    with pytest.raises(InputParameterError):
        f("a")


def test_disable_skips_generator_and_async_checks():
    @returns(int)
    def gen():
        yield 1
        return "x"

    @returns(int)
    async def coro(x):
        return "x"

    disable()
    assert drain(gen()) == ([1], "x")
    assert run(coro(1)) == "x"


def test_specification_errors_still_raised_while_disabled():
    disable()
    with pytest.raises(TypeCheckSpecificationError):

        @takes(int)
        def f(x="a"):
            pass


SWITCH_PROGRAM = """
    from pmnc_hook.typecheck import InputParameterError, enable, takes

    @takes(int)
    def f(x):
        return x

    try:
        f("a")
        print("unchecked")
    except InputParameterError:
        print("checked")
    enable()
    try:
        f("a")
        print("unchecked")
    except InputParameterError:
        print("checked")
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "checked checked"), ("0", "unchecked checked"), (" 0 ", "unchecked checked"),
     ("1", "checked checked"), ("", "checked checked")],
)  # fmt: skip
def test_environment_variable_sets_the_initial_state(tmp_path, value, expected):
    env = {} if value is None else {"PMNC_HOOK_TYPECHECK": value}
    result = run_python(SWITCH_PROGRAM, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()
