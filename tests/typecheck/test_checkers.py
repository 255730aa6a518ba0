"""The checker language: what each checker accepts and rejects, in takes(), returns() and
annotations alike; combinators; typing constructs that hold checkers; nonsense refused."""

# typing.List and friends are what is under test here, next to list[int] and the rest.
# ruff: noqa: UP006, UP035

import builtins
import re
import sys
import typing
from collections import OrderedDict
from typing import Any, Dict, List, Literal, Optional, Union

import pytest
from typecheck_support import (
    Closable,
    HasClose,
    Point,
    Sized,
)

import pmnc_hook.typecheck as tc
from pmnc_hook.typecheck import (
    InputParameterError,
    TypeCheckSpecificationError,
    anything,
    by_regex,
    dict_of,
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
    with_attr,
)


@pytest.fixture(autouse=True)
def _checks_on():
    """Every test starts with checks enabled and leaves them enabled."""
    enable()
    yield
    enable()


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
