"""@typecheck: annotations read as the running Python means them (3.9-3.15, PEP 649, string
annotations, forward references), compiled like takes() checkers."""

# typing.List and friends are what is under test here, next to list[int] and the rest.
# ruff: noqa: UP006, UP035

import sys
import textwrap
import types
import typing
from typing import Any, Dict, List, Literal, Optional, Union

import pytest
from typecheck_support import (
    checks_on,  # noqa: F401 - an autouse fixture
    message_of,
)

import pmnc_hook.typecheck as tc
from pmnc_hook.typecheck import (
    InputParameterError,
    ReturnValueError,
    TypeCheckSpecificationError,
    by_regex,
    either,
    list_of,
    nothing,
    optional,
    returns,
    takes,
    tuple_of,
    typecheck,
    with_attr,
)


def test_annotations_on_star_args_check_each_element():
    @typecheck
    def f(*args: int, **kwargs: str) -> int:
        return len(args) + len(kwargs)

    assert f(1, 2, a="x") == 3
    assert message_of(lambda: f(1, "y")) == "f() got an incompatible value for args[1]: 'y'"
    assert message_of(lambda: f(k=1)) == "f() got an incompatible value for kwargs['k']: 1"


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


# ---- checkers as annotations, as Pythomnic3k's users write them --------------------------

# Pythomnic3k's own samples, where its checker language and this one agree; the names are
# injected into the module, not imported, as the hook does for reloadable modules.
PYTHOMNIC_SAMPLES = """
@typecheck
def foo(i: int, x = None, s: str = "default") -> bool:
    return i > 0

@typecheck
def kw(*args, k1: int, k2: str = "default", k3 = None) -> nothing:
    return k3

@typecheck
def stream(ostream: with_attr("write", "flush"), f: optional(callable) = None):
    return f

divisible_by_three = lambda x: x % 3 == 0

@typecheck
def digits(i: by_regex("^[0-9]+$")) -> divisible_by_three:
    return int(i)

@typecheck
def extract_from_dict(d: dict_of(int, str), k: tuple_of(int)) -> list_of(str):
    return [d[key] for key in k]

@typecheck
def contains(x: int, xs: set_of(int)) -> bool:
    return x in xs

@typecheck
def set_level(level: one_of(1, 2, 3)):
    return level

@typecheck
def accept_number(x: either(int, by_regex("^[0-9]+$"))):
    return x
"""


@pytest.fixture(params=["eager", "future"])
def samples(request):
    namespace = {name: getattr(tc, name) for name in tc.__all__}
    future = "from __future__ import annotations\n" if request.param == "future" else ""
    exec(future + PYTHOMNIC_SAMPLES, namespace)
    return types.SimpleNamespace(**namespace)


def test_pythomnic_samples_accept(samples):
    assert samples.foo(1) is True
    assert samples.kw(1, 2, k1=1) is None
    assert samples.stream(sys.stdout, print) is print
    assert samples.digits("12") == 12
    assert samples.extract_from_dict({1: "a"}, (1,)) == ["a"]
    assert samples.contains(1, {1, 2}) is True
    assert samples.set_level(2) == 2
    assert samples.accept_number("12") == "12"


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("foo('1')", InputParameterError),
        ("foo(1, s=1)", InputParameterError),
        ("foo(0.5)", InputParameterError),
        ("kw(k1='1')", InputParameterError),
        ("kw(k1=1, k3=1)", ReturnValueError),
        ("stream(object())", InputParameterError),
        ("stream(sys.stdout, 1)", InputParameterError),
        ("digits('1a')", InputParameterError),
        ("digits('13')", ReturnValueError),
        ("extract_from_dict({'1': 'a'}, (1,))", InputParameterError),
        ("extract_from_dict({1: 'a'}, [1])", InputParameterError),
        ("extract_from_dict({1: 2}, (1,))", InputParameterError),
        ("contains(1, [1])", InputParameterError),
        ("set_level(4)", InputParameterError),
        ("accept_number('x')", InputParameterError),
        ("accept_number(1.5)", InputParameterError),
    ],
)
def test_pythomnic_samples_reject(samples, call, error):
    with pytest.raises(error):
        eval(call, {**vars(samples), "sys": sys})


def test_checkers_as_annotations_on_star_args_check_each_element():
    @typecheck
    def f(*args: list_of(int), **kwargs: by_regex("[a-z]+")) -> int:
        return len(args) + len(kwargs)

    assert f([1], (2, 3), a="x") == 3
    assert message_of(lambda: f([1], ["y"])) == "f() got an incompatible value for args[1][0]: 'y'"
    assert message_of(lambda: f(1)) == "f() got an incompatible value for args[0]: 1"
    assert message_of(lambda: f(k="X")) == "f() got an incompatible value for kwargs['k']: 'X'"


def test_string_annotations_that_name_checkers():
    @typecheck
    def f(x: "list_of(int)", y: "optional(by_regex('a+'))" = None) -> "nothing":
        return None if x else x

    assert f([1], "aa") is None
    with pytest.raises(InputParameterError):
        f(["1"])
    with pytest.raises(InputParameterError):
        f([1], "b")
    with pytest.raises(ReturnValueError):
        f([])


class Cart:
    @typecheck
    def add(self, items: list_of(str), count: lambda n: n > 0 = 1) -> nothing:
        self.items = items * count

    @classmethod
    @typecheck
    def of(cls, names: tuple_of(by_regex("[a-z]+"))) -> with_attr("add"):
        return cls() if names else None

    @typecheck
    @staticmethod
    def price(code: either(int, by_regex("[0-9]+"))) -> optional(int):
        return int(code) if code else "free"


def test_checkers_as_annotations_on_methods():
    cart = Cart()
    cart.add(["a"], 2)
    assert cart.items == ["a", "a"]
    with pytest.raises(InputParameterError):
        cart.add([1])
    with pytest.raises(InputParameterError):
        cart.add(["a"], 0)
    assert isinstance(Cart.of(("a",)), Cart)
    with pytest.raises(InputParameterError):
        Cart.of(("A",))
    with pytest.raises(ReturnValueError):
        Cart.of(())
    assert Cart.price("12") == 12
    with pytest.raises(InputParameterError):
        Cart.price("x")
    with pytest.raises(ReturnValueError):
        Cart.price(0)
