"""@typecheck: annotations read as the running Python means them (3.9-3.15, PEP 649, string
annotations, forward references), compiled like takes() checkers."""

# typing.List and friends are what is under test here, next to list[int] and the rest.
# ruff: noqa: UP006, UP035

import sys
import textwrap
import threading
import typing
from typing import Any, Dict, List, Literal, Optional, Union

import pytest
from typecheck_support import (
    load_module,
    message_of,
)

from pmnc_hook.typecheck import (
    InputParameterError,
    ReturnValueError,
    TypeCheckSpecificationError,
    disable,
    enable,
    list_of,
    returns,
    takes,
    typecheck,
)


@pytest.fixture(autouse=True)
def _checks_on():
    """Every test starts with checks enabled and leaves them enabled."""
    enable()
    yield
    enable()


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
    return load_module(tmp_path, "future_mod", FUTURE_MODULE)


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
