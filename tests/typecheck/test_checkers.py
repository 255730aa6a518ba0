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
    checks_on,  # noqa: F401 - an autouse fixture
)

import pmnc_hook.typecheck as tc
from pmnc_hook.typecheck import (
    InputParameterError,
    ReturnValueError,
    TypeCheckSpecificationError,
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


# Each checker means the same given to takes(), to returns() and as an annotation, with or
# without "from __future__ import annotations" (then the annotation is the string "C").
ROUTES = ("takes", "returns", "annotation", "future annotation", "return annotation")
ANNOTATED = {
    "annotation": "def f(x: C):\n    return x",
    "future annotation": "from __future__ import annotations\ndef f(x: C):\n    return x",
    "return annotation": "def f(x) -> C:\n    return x",
}


def checked(checker: object, route: str) -> Any:
    """A function that returns its argument, checked by ``checker`` the way ``route`` says."""
    if route == "takes":
        return takes(checker)(lambda x: x)
    if route == "returns":
        return returns(checker)(lambda x: x)
    namespace = {"C": checker}
    exec(ANNOTATED[route], namespace)
    return typecheck(namespace["f"])


def accepts(checker: object, value: object, route: str = "takes") -> bool:
    """Whether ``checker`` lets ``value`` through (and passes it on unchanged)."""
    f = checked(checker, route)
    try:
        assert f(value) is value
    except (InputParameterError, ReturnValueError):
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
    # typing constructs holding checkers, which typing cannot check: read as combinators
    (Optional[list_of(int)], [None, [1], (1,)], [["x"], 1, [None]]),
    (Union[int, by_regex("x+")], [1, "xx"], ["y", 1.5, None]),
    (Optional[Union[list_of(int), by_regex("x")]], [None, [1], "x"], ["y", ["x"]]),
    (Union[Literal["a"], by_regex("b+")], ["a", "bb"], ["c", "A"]),
    (List[list_of(int)], [[[1], (2,)], []], [[["x"]], ([1],), [1]]),
    (list[by_regex("a")], [["a"]], [["b"], ("a",)]),
    (Dict[str, optional(int)], [{"a": None}, {}], [{"a": "x"}, {1: 1}, [("a", 1)]]),
    (dict[by_regex("k+"), int], [{"kk": 1}], [{"x": 1}]),
    (typing.Tuple[int, list_of(str)], [(1, ["a"])], [(1, [1]), (1, ["a"], 2), [1, ["a"]]]),
    (typing.Tuple[list_of(int), ...], [(), ((1,), [2])], [([1], ["x"]), [[1]]]),
    (typing.Set[with_attr("real")], [{1}, set()], [{"a"}, frozenset({1})]),
    (typing.FrozenSet[one_of(1, 2)], [frozenset({1})], [frozenset({3}), {1}]),
    (typing.Sequence[by_regex("a")], [["a"], ("a",)], [["b"], {"a"}]),
    (typing.Mapping[str, list_of(int)], [{"a": [1]}, OrderedDict(a=[])], [{"a": ["x"]}]),
    (Optional[lambda v: v > 0], [None, 1], [0, "a"]),
    (List[typing.Annotated[str, by_regex("a+")]], [["a", "aa"]], [["b"], [1]]),
    # Annotated: the type, and every checker among its metadata
    (typing.Annotated[str, by_regex("[a-z]+")], ["abc"], ["ABC", 1]),
    (typing.Annotated[list_of(int), "a note for another tool"], [[1]], [["x"]]),
    (typing.Annotated[int, "note", lambda v: v > 0], [1, -1], ["1"]),  # only checkers count
    (typing.Annotated[int, with_attr("real"), one_of(1, 2)], [1, 2], [3, "1"]),
]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("checker", "good", "bad"), CHECKER_CASES, ids=lambda v: repr(v)[:40] if v is not None else None
)
def test_checker_accepts_and_rejects(checker, good, bad, route):
    for value in good:
        assert accepts(checker, value, route), f"{checker!r} should accept {value!r}"
    for value in bad:
        assert not accepts(checker, value, route), f"{checker!r} should reject {value!r}"


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


class Box(typing.Generic[typing.TypeVar("T")]):
    pass


@pytest.mark.parametrize(
    "hint",
    [
        typing.Callable[[list_of(int)], int],
        typing.Iterator[by_regex("a")],
        typing.Type[optional(int)],
        Box[list_of(int)],
    ],
    ids=repr,
)
def test_typing_constructs_that_cannot_hold_checkers_are_refused(hint):
    # typeguard would accept every value there: refuse rather than check nothing
    for route in ROUTES:
        with pytest.raises(TypeCheckSpecificationError, match="typing cannot check"):
            checked(hint, route)


# A nonsense annotation is refused when decorating, with or without the __future__ import.
NONSENSE_ANNOTATIONS = [
    "10",
    "'10'",
    "'no ( python'",
    "[int, str]",
    "{'k': int}",
    "by_regex('(')",
    "...",
]


@pytest.mark.parametrize("future", [False, True], ids=["eager", "future"])
@pytest.mark.parametrize("annotation", NONSENSE_ANNOTATIONS)
def test_nonsense_annotations_are_refused_when_decorating(annotation, future):
    source = f"@typecheck\ndef f(a: {annotation}):\n    return a\n"
    if future:
        source = "from __future__ import annotations\n" + source
    namespace = {"typecheck": typecheck, "by_regex": by_regex}
    with pytest.raises(TypeCheckSpecificationError) as info:
        exec(source, namespace)
    text = str(info.value)  # before 3.14 Python itself evaluates by_regex("(") at the def
    assert ("f()" in text or "by_regex()" in text) and "every name they use" not in text


def test_nonsense_result_annotation_names_the_result():
    with pytest.raises(TypeCheckSpecificationError, match=r"f\(\): the annotation of the result"):

        @typecheck
        def f() -> 10:  # type: ignore[valid-type]
            pass


# ---- where Pythomnic3k's checker language differs ------------------------------------------


def test_a_tuple_is_either_not_a_tuple_of_that_shape():
    # Pythomnic3k: (str, bytes) is a 2-tuple of a str and a bytes; here it is either(str, bytes)
    for route in ROUTES:
        f = checked((str, bytes), route)
        assert f("a") == "a" and f(b"a") == b"a"
        with pytest.raises((InputParameterError, ReturnValueError)):
            f(("a", b"b"))


def test_a_list_of_checkers_is_refused():
    # Pythomnic3k: [int, str] is a 2-list of an int and a str; here it is no checker at all
    for route in ROUTES:
        with pytest.raises(TypeCheckSpecificationError, match="is not a checker"):
            checked([int, str], route)


def test_a_string_checker_says_it_is_a_forward_reference_only_in_annotations():
    with pytest.raises(
        TypeCheckSpecificationError, match="forward reference only in an annotation"
    ):
        takes("int")


def test_new_types_and_aliases_of_checkers_are_checked():
    positive = typing.NewType("positive", lambda v: v > 0)  # type: ignore[misc]
    assert accepts(positive, 1) and not accepts(positive, 0)
    bounded = typing.TypeVar("bounded", bound=list_of(int))
    with pytest.raises(TypeCheckSpecificationError, match="typing cannot check"):
        checked(bounded, "annotation")


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the type statement needs Python 3.12")
def test_type_aliases_of_checkers_are_checked():
    namespace: dict[str, Any] = {"list_of": list_of}
    exec("type Ints = list_of(int)\ntype Later = list[Missing]", namespace)
    for route in ROUTES:
        assert accepts(namespace["Ints"], [1], route)
        assert not accepts(namespace["Ints"], ["x"], route)
    takes(namespace["Later"])  # its value names what is not defined yet: no error when decorating
