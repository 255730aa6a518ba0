"""takes() and returns(): which arguments are checked, how they are mapped, and what the
messages say."""

# typing.List and friends are what is under test here, next to list[int] and the rest.
# ruff: noqa: UP006, UP035

import functools
from typing import List

import pytest
from typecheck_support import (
    Point,
    checks_on,  # noqa: F401 - an autouse fixture
    message_of,
)

from pmnc_hook.typecheck import (
    InputParameterError,
    ReturnValueError,
    TypeCheckError,
    TypeCheckSpecificationError,
    by_regex,
    dict_of,
    disable,
    enable,
    list_of,
    nothing,
    optional,
    returns,
    set_of,
    takes,
    tuple_of,
    typecheck,
    with_attr,
)

# ---- messages ----------------------------------------------------------------------------


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


# ---- specification errors at decoration time --------------------------------------------


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
