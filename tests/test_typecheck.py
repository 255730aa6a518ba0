"""Tests for pmnc_hook.typecheck: checkers, messages, callables, the switch, annotations."""

# typing.List and friends are what is under test here, next to list[int] and the rest.
# ruff: noqa: UP006, UP035

import asyncio
import builtins
import functools
import importlib.util
import inspect
import os
import re
import subprocess
import sys
import textwrap
import threading
import typing
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Union

import pytest

import pmnc_hook.typecheck as tc
from pmnc_hook.typecheck import (
    InputParameterError,
    ReturnValueError,
    TypeCheckError,
    TypeCheckSpecificationError,
    anything,
    by_regex,
    dict_of,
    disable,
    either,
    enable,
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

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _checks_on():
    """Every test starts with checks enabled and leaves them enabled."""
    enable()
    yield
    enable()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def drain(generator: Any) -> tuple[list[Any], Any]:
    """Run a generator to its end: (the items it yielded, the value it returned)."""
    items = []
    while True:
        try:
            items.append(next(generator))
        except StopIteration as stop:
            return items, stop.value


class Point:
    x = 1
    y = 2


class HasClose(typing.Protocol):
    def close(self) -> None: ...


@typing.runtime_checkable
class Sized(typing.Protocol):
    def __len__(self) -> int: ...


class Closable:
    def close(self) -> None:
        pass


# ---- the seed's examples -----------------------------------------------------------------

SEED_PURE = """
@takes(list_of(int))
def pure_function(*args):
    return sum(args)
"""

SEED_ACCUMULATE = """
sum = 0
@takes(int)
def accumulate(x):
    global sum
    sum += x
"""


def seed_namespace() -> dict[str, Any]:
    """What a reloadable module gets injected: the names of typecheck's __all__."""
    return {name: getattr(tc, name) for name in tc.__all__}


def test_seed_pure_function_verbatim():
    namespace = seed_namespace()
    exec(SEED_PURE, namespace)
    pure_function = namespace["pure_function"]
    assert pure_function(1, 2, 3) == 6
    assert pure_function() == 0
    with pytest.raises(InputParameterError) as info:
        pure_function(1, "x")
    message = str(info.value)
    assert "pure_function()" in message
    assert "args[1]" in message
    assert "'x'" in message
    assert message == "pure_function() got an incompatible value for args[1]: 'x'"


def test_seed_accumulate_verbatim():
    namespace = seed_namespace()
    exec(SEED_ACCUMULATE, namespace)
    accumulate = namespace["accumulate"]
    accumulate(1)
    accumulate(x=2)
    assert namespace["sum"] == 3
    with pytest.raises(InputParameterError, match=r"accumulate\(\) .* for x: '5'"):
        accumulate("5")
    with pytest.raises(InputParameterError, match=r"for x: 1\.5"):
        accumulate(x=1.5)
    assert namespace["sum"] == 3


def test_star_import_gives_all_and_shadows_only_callable():
    namespace: dict[str, Any] = {}
    exec("from pmnc_hook.typecheck import *", namespace)
    namespace.pop("__builtins__")
    assert isinstance(tc.__all__, tuple)
    assert set(namespace) == set(tc.__all__)
    assert set(tc.__all__) == {
        "takes", "returns", "typecheck", "list_of", "tuple_of", "set_of", "dict_of",
        "optional", "one_of", "either", "with_attr", "by_regex", "anything", "nothing",
        "callable", "enable", "disable", "TypeCheckError", "InputParameterError",
        "ReturnValueError", "TypeCheckSpecificationError",
    }  # fmt: skip
    assert set(tc.__all__) & set(dir(builtins)) == {"callable"}
    assert namespace["callable"] is builtins.callable


# ---- every checker: accepted and rejected values ----------------------------------------


def accepts(checker: object, value: object) -> bool:
    """Whether ``@takes(checker)`` lets ``value`` through (and passes it on unchanged)."""

    @takes(checker)
    def f(x):
        return x

    try:
        assert f(value) is value
    except InputParameterError:
        return False
    return True


CHECKER_CASES = [
    # (checker, accepted values, rejected values)
    (int, [1, True, -5], ["1", 1.0, None]),
    (str, ["", "a"], [b"a", 1]),
    (Point, [Point()], [object(), Point]),
    (None, [None], [0, "", False]),
    (type(None), [None], [0]),
    (list_of(int), [[], [1, 2], (1, 2), ()], [[1, "x"], {1}, "12", 5, None]),
    (tuple_of(int), [(), (1, 2)], [[1], (1, "x"), None]),
    (set_of(str), [set(), {"a"}, frozenset({"a"})], [["a"], {1}, "a", {"a": 1}]),
    (dict_of(str, int), [{}, {"a": 1}, OrderedDict(a=1)], [{1: 1}, {"a": "b"}, [("a", 1)]]),
    (optional(int), [None, 1], ["x", 1.5]),
    (one_of("a", 1, None), ["a", 1, None, 1.0], ["b", 2, [1]]),
    (one_of([1], {"k": 1}), [[1], {"k": 1}], [[2], (1,)]),
    (either(int, by_regex("x+")), [1, "xx"], ["y", None, 1.5]),
    (with_attr("x", "y"), [Point(), Point], [object(), 1]),
    (with_attr("real", "imag"), [1, 1.5, 2j], ["s"]),
    (by_regex(r"\d+"), ["1", "123"], ["", "12a", "a12", 12, None, b"12"]),
    (by_regex(re.compile(r"[a-z]+", re.IGNORECASE)), ["abC"], ["ab1"]),
    (anything, [None, 0, object(), "x"], []),
    (nothing, [None], [0, "", False, []]),
    (tc.callable, [len, lambda: 0, Point, print], [1, "len", None]),
    (lambda x: x > 0, [1, 0.5], [0, -1, "a", None]),
    (str.isdigit, ["12"], ["1a"]),
    (list_of(optional(int)), [[1, None]], [[1, "x"], [None, 1.5]]),
    (dict_of(str, list_of(int)), [{"a": [1, 2]}, {"a": []}], [{"a": [1, "z"]}, {"a": 1}]),
    (set_of(tuple_of(int)), [{(1, 2)}], [{(1, "x")}]),
    (either(nothing, list_of(dict_of(str, anything))), [None, [{"k": object()}]], [[{1: 2}]]),
    ((int, str), [1, "a"], [1.5, None]),
    # typing constructs, checked through typeguard
    (List[int], [[], [1, 2]], [[1, "x"], (1, 2)]),
    (list[int], [[1]], [["x"], (1,)]),
    (Dict[str, int], [{"a": 1}], [{"a": "x"}, {1: 1}]),
    (dict[str, int], [{"a": 1}], [{"a": "x"}]),
    (Optional[str], [None, "a"], [1]),
    (Union[int, str], [1, "a"], [1.5]),
    (Literal["a", "b"], ["a", "b"], ["c", 1]),
    (typing.Tuple[int, str], [(1, "a")], [(1, 2), (1,)]),
    (typing.Callable[[int], int], [abs], [1]),
    (typing.Any, [None, 1], []),
    (HasClose, [Closable()], [1]),
    (Sized, [[], "ab"], [1]),
]


@pytest.mark.parametrize(
    ("checker", "good", "bad"), CHECKER_CASES, ids=lambda v: repr(v)[:40] if v is not None else None
)
def test_checker_accepts_and_rejects(checker, good, bad):
    for value in good:
        assert accepts(checker, value), f"{checker!r} should accept {value!r}"
    for value in bad:
        assert not accepts(checker, value), f"{checker!r} should reject {value!r}"


@pytest.mark.skipif(sys.version_info < (3, 10), reason="X | Y needs Python 3.10")
def test_checker_pep604_union():
    hint = eval("int | None")
    assert accepts(hint, 1) and accepts(hint, None) and not accepts(hint, "x")


def test_combinators_double_as_predicates():
    assert list_of(int)([1, 2]) is True
    assert list_of(int)([1, "x"]) is False
    assert optional(str)(None) is True
    assert by_regex("a+")("aaa") is True
    assert nothing(0) is False


def test_checker_reprs():
    assert repr(list_of(optional(int))) == "list_of(optional(int))"
    assert repr(dict_of(str, set_of(anything))) == "dict_of(str, set_of(anything))"
    assert repr(either(int, nothing)) == "either(int, nothing)"
    assert repr(one_of("a", 1)) == "one_of('a', 1)"
    assert repr(by_regex(r"\d+")) == r"by_regex('\\d+')"
    assert repr(with_attr("a")) == "with_attr('a')"


def test_bool_is_an_int():
    assert accepts(int, True)  # isinstance semantics, as documented


def test_predicate_that_raises_rejects_and_is_the_cause():
    @takes(lambda x: x > 0)
    def f(x):
        return x

    with pytest.raises(InputParameterError) as info:
        f("a")
    assert isinstance(info.value.__cause__, TypeError)
    assert "the check raised TypeError" in str(info.value)


def test_one_of_with_an_eq_that_raises():
    class Weird:
        def __eq__(self, other):
            raise ValueError("no")

        __hash__ = object.__hash__

    assert not accepts(one_of(1, 2), Weird())


# ---- messages ----------------------------------------------------------------------------


def message_of(call: Any, error: type[Exception] = InputParameterError) -> str:
    """The message ``call()`` raises, less the "test_x.<locals>." of a local function."""
    with pytest.raises(error) as info:
        call()
    return str(info.value).rpartition(".<locals>.")[2]


def test_message_for_a_named_parameter():
    @takes(int)
    def f(x):
        return x

    assert message_of(lambda: f("abc")) == "f() got an incompatible value for x: 'abc'"
    assert message_of(lambda: f(x="abc")) == "f() got an incompatible value for x: 'abc'"


def test_message_for_a_return_value():
    @returns(int)
    def f(x):
        return x

    text = message_of(lambda: f("abc"), ReturnValueError)
    assert text == "f() has returned an incompatible value: 'abc'"


def test_message_paths_into_nested_values():
    @takes(dict_of(str, list_of(int)))
    def f(x):
        return x

    assert message_of(lambda: f({"k": [1, 2, "z"]})) == (
        "f() got an incompatible value for x['k'][2]: 'z'"
    )
    assert message_of(lambda: f({1: [1]})) == "f() got an incompatible value for a key in x: 1"
    assert message_of(lambda: f([1])) == "f() got an incompatible value for x: [1]"

    @takes(list_of(set_of(int)))
    def g(x):
        return x

    assert message_of(lambda: g([{1}, {"a"}])) == (
        "g() got an incompatible value for an element of x[1]: 'a'"
    )

    @returns(tuple_of(optional(int)))
    def h(x):
        return x

    assert message_of(lambda: h((1, None, "q")), ReturnValueError) == (
        "h() has returned an incompatible value for result[2]: 'q'"
    )


def test_message_uses_the_qualname():
    class Box:
        @takes(x=int)
        def put(self, x):
            return x

    with pytest.raises(InputParameterError) as info:
        Box().put("a")
    assert str(info.value).startswith("test_message_uses_the_qualname.<locals>.Box.put() got ")


def test_message_of_a_typing_construct_says_why():
    @takes(x=List[int])
    def f(x):
        return x

    text = message_of(lambda: f([1, 2, "x"]))
    assert text.startswith("f() got an incompatible value for x: [1, 2, 'x'] (")
    assert "item 2" in text


def test_message_truncates_long_values():
    @takes(int)
    def f(x):
        return x

    assert len(message_of(lambda: f("a" * 100_000))) < 300
    assert len(message_of(lambda: f(list(range(100_000))))) < 300


def test_message_survives_a_failing_repr():
    class Ugly:
        def __repr__(self):
            raise RuntimeError("no repr")

    @takes(int)
    def f(x):
        return x

    assert message_of(lambda: f(Ugly())).startswith("f() got an incompatible value for x: <Ugly")


def test_error_hierarchy():
    assert issubclass(TypeCheckError, TypeError)
    for error in (InputParameterError, ReturnValueError, TypeCheckSpecificationError):
        assert issubclass(error, TypeCheckError)


# ---- what gets checked: keywords, defaults, *args, **kwargs ------------------------------


def test_keyword_passed_arguments_are_checked():
    @takes(int, str, z=float)
    def f(x, y="a", *, z=1.0):
        return (x, y, z)

    assert f(1) == (1, "a", 1.0)
    assert f(y="b", x=2, z=2.5) == (2, "b", 2.5)
    assert message_of(lambda: f(y=3, x=1)) == "f() got an incompatible value for y: 3"
    assert message_of(lambda: f(x="1")) == "f() got an incompatible value for x: '1'"
    assert message_of(lambda: f(1, z=1)) == "f() got an incompatible value for z: 1"


def test_positional_only_parameters():
    @takes(int, str)
    def f(x, /, y):
        return (x, y)

    assert f(1, y="a") == (1, "a")
    assert message_of(lambda: f("1", "a")) == "f() got an incompatible value for x: '1'"
    with pytest.raises(TypeError, match="positional-only"):
        f(x=1, y="a")


def test_positional_only_and_kwargs_with_the_same_name():
    @takes(int, dict_of(str, str))
    def f(x, /, **kwargs):
        return x, kwargs

    assert f(1, x="a") == (1, {"x": "a"})
    assert "kwargs['x']: 2" in message_of(lambda: f(1, x=2))


def test_leftmost_bad_argument_is_reported():
    @takes(x=int, y=int)
    def f(x, y):
        return x + y

    assert "for x:" in message_of(lambda: f(y="b", x="a"))


def test_unchecked_parameters_pass_anything():
    @takes(int)
    def f(x, y, *args, **kwargs):
        return (x, y, args, kwargs)

    assert f(1, None, 2, k=3) == (1, None, (2,), {"k": 3})


def test_star_args_checker_checks_the_tuple_as_a_whole():
    @takes(str, tuple_of(int))
    def f(name, *args):
        return args

    assert f("a", 1, 2) == (1, 2)
    assert f("a") == ()
    assert message_of(lambda: f("a", 1, "x")) == "f() got an incompatible value for args[1]: 'x'"

    @takes(args=lambda args: len(args) == 2)
    def pair(*args):
        return args

    assert pair(1, 2) == (1, 2)
    assert message_of(lambda: pair(1)) == "pair() got an incompatible value for args: (1,)"


def test_star_kwargs_checker_checks_the_dict_as_a_whole():
    @takes(kwargs=dict_of(str, int))
    def f(**kwargs):
        return kwargs

    assert f(a=1, b=2) == {"a": 1, "b": 2}
    assert message_of(lambda: f(a=1, b="x")) == "f() got an incompatible value for kwargs['b']: 'x'"

    @takes(options=with_attr("keys"))
    def g(**options):
        return options

    assert g() == {}


def test_star_args_with_a_class_checker_is_a_specification_error():
    with pytest.raises(TypeCheckSpecificationError, match=r"list_of\(int\)"):

        @takes(int)
        def f(*args):
            pass

    with pytest.raises(TypeCheckSpecificationError, match=r"dict_of\(str, int\)"):

        @takes(kwargs=int)
        def g(**kwargs):
            pass

    @takes(tuple, kw=dict)  # classes a tuple or dict is an instance of are fine
    def h(*args, **kw):
        return args, kw

    assert h(1, a=2) == ((1,), {"a": 2})


def test_annotations_on_star_args_check_each_element():
    @typecheck
    def f(*args: int, **kwargs: str) -> int:
        return len(args) + len(kwargs)

    assert f(1, 2, a="x") == 3
    assert message_of(lambda: f(1, "y")) == "f() got an incompatible value for args[1]: 'y'"
    assert message_of(lambda: f(k=1)) == "f() got an incompatible value for kwargs['k']: 1"


def test_defaults_are_kept_and_passed():
    marker: list[int] = []

    @takes(list_of(int), z=optional(int))
    def f(x=marker, *, z=None):
        return x, z

    assert f()[0] is marker
    assert f() == ([], None)
    assert f.__defaults__ == (marker,)
    assert f.__kwdefaults__ == {"z": None}


def test_decorating_partials_and_lambdas():
    def add(a, b):
        return a + b

    inc = takes(int)(functools.partial(add, 1))
    assert inc(2) == 3
    with pytest.raises(InputParameterError):
        inc("x")
    square = takes(int)(lambda x: x * x)
    assert square(3) == 9
    with pytest.raises(InputParameterError) as info:
        square("a")
    assert str(info.value).startswith("test_decorating_partials_and_lambdas.<locals>.<lambda>()")


def test_parameter_names_that_look_like_ours():
    @takes(int, int, int, _tc_on=int)
    def f(_tc_f, _tc_t0, __tc_r, _tc_on=0):
        return _tc_f + _tc_t0 + __tc_r + _tc_on

    assert f(1, 2, 3, 4) == 10
    assert "for _tc_t0: 'x'" in message_of(lambda: f(1, "x", 3))
    disable()
    assert f(1, 2, 3, _tc_on=0) == 6
    assert f("a", "b", "c", "d") == "abcd"
    enable()
    with pytest.raises(InputParameterError):
        f("a", "b", "c", "d")


def test_wrong_arity_is_python_own_error():
    @takes(int)
    def f(x):
        return x

    with pytest.raises(TypeError, match=r"f\(\) takes 1 positional argument but 2 were given"):
        f(1, 2)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        f(y=1)


def test_stacked_decorators():
    @returns(str)
    @takes(int)
    def f(x):
        return "a" * x if x >= 0 else x

    assert f(2) == "aa"
    assert message_of(lambda: f("2")) == "f() got an incompatible value for x: '2'"
    assert message_of(lambda: f(-1), ReturnValueError) == (
        "f() has returned an incompatible value: -1"
    )


def test_returns_nothing():
    @returns(nothing)
    def f(x):
        return x

    assert f(None) is None
    assert message_of(lambda: f(0), ReturnValueError) == "f() has returned an incompatible value: 0"

    @returns(None)
    def g():
        return 1

    with pytest.raises(ReturnValueError):
        g()


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
    assert method(1) in (2, 3)
    assert getattr(Account(), name)(x=1) in (2, 3)
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
    @returns(int)
    def echo():
        total = 0
        try:
            while True:
                received = yield total
                total += received
        except KeyError:
            return total

    generator = echo()
    assert next(generator) == 0
    assert generator.send(2) == 2
    assert generator.send(3) == 5
    with pytest.raises(StopIteration) as stop:
        generator.throw(KeyError("end"))
    assert stop.value.value == 5
    other = echo()
    next(other)
    other.close()


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


def run_fresh(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.pop("PMNC_HOOK_PATH", None)
    full_env.pop("PMNC_HOOK_TYPECHECK", None)
    full_env.update(env)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


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
def test_environment_variable_sets_the_initial_state(value, expected):
    env = {} if value is None else {"PMNC_HOOK_TYPECHECK": value}
    result = run_fresh(SWITCH_PROGRAM, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()


# ---- specification errors at decoration time --------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: takes(5),
        lambda: takes("int"),
        lambda: takes([int]),
        lambda: takes(x=3.5),
        lambda: returns(5),
        lambda: list_of(5),
        lambda: tuple_of("x"),
        lambda: set_of(1),
        lambda: dict_of(str, 5),
        lambda: optional(5),
        lambda: one_of(),
        lambda: either(),
        lambda: either(int, 5),
        lambda: with_attr(),
        lambda: with_attr(1),
        lambda: by_regex(5),
        lambda: by_regex(b"x"),
        lambda: by_regex(re.compile(b"x")),
        lambda: by_regex("("),
        lambda: takes(lambda: True),
        lambda: takes(lambda a, b: True),
    ],
)
def test_nonsense_checkers_are_refused(make):
    with pytest.raises(TypeCheckSpecificationError):
        make()


def test_specification_error_messages():
    with pytest.raises(TypeCheckSpecificationError, match=r"takes\(\): 5 is not a checker"):
        takes(5)
    with pytest.raises(TypeCheckSpecificationError, match=r"bad regular expression '\('"):
        by_regex("(")

    def f(x):
        pass

    with pytest.raises(TypeCheckSpecificationError, match=r"f\(\): no parameter named 'y'"):
        takes(y=int)(f)
    with pytest.raises(TypeCheckSpecificationError, match=r"2 positional checkers but only 1"):
        takes(int, int)(f)
    with pytest.raises(TypeCheckSpecificationError, match="by position and by keyword"):
        takes(int, x=int)(f)

    def g(x="abc"):
        pass

    with pytest.raises(
        TypeCheckSpecificationError, match=r"g\(\): the default value of x, 'abc', is rejected"
    ):
        takes(int)(g)


def test_decorating_what_is_not_a_function_is_refused():
    with pytest.raises(TypeCheckSpecificationError):
        takes(int)(Point)
    with pytest.raises(TypeCheckSpecificationError):
        takes(int)(5)
    with pytest.raises(TypeCheckSpecificationError):
        typecheck(Point)


def test_default_that_fails_its_annotation_is_refused():
    with pytest.raises(TypeCheckSpecificationError, match="default value of x, None"):

        @typecheck
        def f(x: int = None):  # type: ignore[assignment]
            pass

    @typecheck
    def g(x: Optional[int] = None, *, y: List[int] = []) -> None:  # noqa: B006
        pass

    g()


# ---- annotations -------------------------------------------------------------------------


def test_typecheck_with_typing_generics():
    @typecheck
    def f(
        a: List[int], b: dict[str, int], c: Optional[str], d: Literal["x", "y"], e: Union[int, str]
    ) -> list[int]:
        return a

    assert f([1], {"k": 1}, None, "x", 1) == [1]
    for bad in [
        lambda: f(["1"], {}, None, "x", 1),
        lambda: f([], {"k": "v"}, None, "x", 1),
        lambda: f([], {}, 5, "x", 1),
        lambda: f([], {}, None, "z", 1),
        lambda: f([], {}, None, "x", 1.5),
    ]:
        with pytest.raises(InputParameterError):
            bad()


def test_every_element_is_checked_not_a_sample():
    values = [*range(999), "bad"]

    @typecheck
    def annotated(x: list[int]) -> int:
        return len(x)

    @takes(List[int])
    def by_hint(x):
        return len(x)

    @takes(list_of(int))
    def by_combinator(x):
        return len(x)

    @returns(list[int])
    def result(x):
        return x

    @typecheck
    def mapping(x: Dict[str, int]) -> None:
        pass

    good = list(range(1000))
    assert annotated(good) == by_hint(good) == by_combinator(good) == 1000
    for function in (annotated, by_hint, by_combinator):
        with pytest.raises(InputParameterError):
            function(values)
    assert "x[999]: 'bad'" in message_of(lambda: by_combinator(values))
    assert "item 999" in message_of(lambda: annotated(values))
    with pytest.raises(ReturnValueError):
        result(values)
    mapping({str(i): i for i in range(1000)})
    with pytest.raises(InputParameterError):
        mapping({**{str(i): i for i in range(999)}, "last": "bad"})


def test_typecheck_uses_typing_semantics_and_takes_isinstance():
    @typecheck
    def f(x: float, y: bytes) -> complex:
        return x

    assert f(1, bytearray(b"a")) == 1  # int passes for float and complex, as PEP 484 says

    @takes(float)
    def g(x):
        return x

    with pytest.raises(InputParameterError):
        g(1)


def test_typecheck_skips_what_is_unannotated_or_any():
    @typecheck
    def f(self, x, y: Any, z: object) -> Any:
        return x

    assert f(None, "a", 1, 2) == "a"


class Shelf:
    @typecheck
    def put(self, item: str) -> int:
        return len(item)

    @classmethod
    @typecheck
    def make(cls, size: int) -> "Shelf":
        return cls() if size else "none"  # type: ignore[return-value]

    @typecheck
    @staticmethod
    def measure(item: str) -> int:
        return len(item)


def test_typecheck_on_methods():
    assert Shelf().put("ab") == 2
    assert isinstance(Shelf.make(1), Shelf)
    assert Shelf.measure("abc") == 3
    with pytest.raises(InputParameterError):
        Shelf().put(1)
    with pytest.raises(InputParameterError):
        Shelf.make("1")
    with pytest.raises(ReturnValueError):
        Shelf.make(0)
    with pytest.raises(InputParameterError):
        Shelf.measure(1)


FUTURE_MODULE = """
from __future__ import annotations

from typing import Optional

from pmnc_hook.typecheck import typecheck


@typecheck
def total(values: list[int], scale: Optional[int] = None) -> int:
    return sum(values) * (scale or 1)


@typecheck
def make(name: str) -> Later:
    return Later(name) if name else "nothing"


@typecheck
def star(*args: int, **kwargs: Later) -> dict[str, int]:
    return {"n": len(args) + len(kwargs)}


@typecheck
def broken(x: Missing) -> None:
    pass


class Later:
    def __init__(self, name: str) -> None:
        self.name = name

    @typecheck
    def renamed(self, name: str) -> Later:
        return Later(name)
"""


@pytest.fixture
def future_module(tmp_path):
    path = tmp_path / "future_mod.py"
    path.write_text(FUTURE_MODULE)
    spec = importlib.util.spec_from_file_location("future_mod", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_future_annotations_resolve_at_first_call(future_module):
    m = future_module
    assert m.total([1, 2], 2) == 6
    assert m.total([1, 2]) == 3
    assert message_of(lambda: m.total([1, "2"])).startswith(
        "total() got an incompatible value for values: [1, '2']"
    )
    with pytest.raises(InputParameterError):
        m.total([1], "2")
    assert m.make("a").name == "a"
    assert message_of(lambda: m.make(""), ReturnValueError) == (
        "make() has returned an incompatible value: 'nothing'"
    )
    assert m.star(1, 2, k=m.Later("x")) == {"n": 3}
    assert message_of(lambda: m.star(1, "2")) == "star() got an incompatible value for args[1]: '2'"
    assert message_of(lambda: m.star(k=1)) == "star() got an incompatible value for kwargs['k']: 1"
    assert m.Later("a").renamed("b").name == "b"
    with pytest.raises(InputParameterError):
        m.Later("a").renamed(1)


def test_future_annotations_unresolvable_is_a_clear_error_at_call(future_module):
    m = future_module
    with pytest.raises(TypeCheckSpecificationError) as info:
        m.broken(1)
    text = str(info.value)
    assert "broken()" in text and "Missing" in text and "future_mod" in text
    m.Missing = int  # the name can appear later: the next call resolves again
    m.broken(1)
    with pytest.raises(InputParameterError):
        m.broken("1")


def test_unresolvable_annotation_is_not_touched_while_disabled(future_module):
    disable()
    assert future_module.broken(1) is None


def test_forward_reference_in_a_real_annotation_resolves_later():
    namespace: dict[str, Any] = {"typecheck": typecheck, "List": List}
    exec(
        textwrap.dedent(
            """
            @typecheck
            def f(x: List["Node"]) -> int:
                return len(x)

            class Node:
                pass
            """
        ),
        namespace,
    )
    f, node = namespace["f"], namespace["Node"]
    assert f([node()]) == 1
    with pytest.raises(InputParameterError):
        f([1])


def test_lazy_resolution_is_thread_safe(future_module):
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def call():
        barrier.wait()
        try:
            for _ in range(50):
                assert future_module.total([1, 2]) == 3
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 695 needs Python 3.12")
def test_generic_function_type_parameters():
    namespace: dict[str, Any] = {"typecheck": typecheck}
    exec(
        textwrap.dedent(
            """
            @typecheck
            def first[T: (int, str)](items: list[T]) -> T:
                return items[0]

            @typecheck
            def later[T: (int, str)](items: "list[T]") -> "T":
                return items[0]
            """
        ),
        namespace,
    )
    for function in (namespace["first"], namespace["later"]):
        assert function([1, 2]) == 1
        with pytest.raises(InputParameterError):
            function([1.5])


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.Self needs Python 3.11")
def test_self_annotation_is_not_checked():
    class Node:
        @typecheck
        def clone(self, deep: bool) -> typing.Self:
            return self

    node = Node()
    assert node.clone(True) is node
    with pytest.raises(InputParameterError):
        node.clone("yes")
