"""@typecheck on annotations that name what is defined further down: written as 3.14 reads
them (PEP 649), under ``from __future__ import annotations``, or quoted, with one behaviour
on every version: resolved when decorating where they can be, else at the first call."""

# typing.List is what is under test here, next to list.
# ruff: noqa: UP006, UP035

import os
import re
import sys
import textwrap
import threading
from typing import Any, List

import pytest
from conftest import run_python, wait_for
from typecheck_support import (
    checks_on,  # noqa: F401 - an autouse fixture
    load_module,
    message_of,
)

import pmnc_hook.typecheck
from pmnc_hook.typecheck import (
    InputParameterError,
    ReturnValueError,
    TypeCheckSpecificationError,
    disable,
    typecheck,
)

PEP_649 = pytest.mark.skipif(
    sys.version_info < (3, 14), reason="an unquoted name defined later needs PEP 649 (3.14+)"
)
STYLES = [pytest.param("pep649", marks=PEP_649), "future", "quoted", "future quoted"]

# ‹...› marks an annotation: left as it is (pep649), under the __future__ import, quoted, or
# both (a quoted forward reference in a module that has the __future__ import).
FORWARD = """
from typing import List, Optional

from pmnc_hook.typecheck import *


@typecheck
def total(values: ‹list[int]›, scale: ‹Optional[int]› = None) -> ‹int›:
    return sum(values) * (scale or 1)


@typecheck
def make(name: ‹str›, kids: ‹list_of(Node)› = ()) -> ‹Node›:
    return Node(name) if name else "nothing"


@typecheck
def star(*args: ‹int›, **kwargs: ‹optional(Node)›) -> ‹dict[str, int]›:
    return {"n": len(args) + len(kwargs)}


@typecheck
def listed(nodes: ‹list[Node]›, more: ‹Optional[List[Node]]› = None) -> ‹int›:
    return len(nodes)


@takes(x=int)
def takes_ignores_annotations(x: ‹Node›) -> ‹Node›:
    return x


def positive(value: ‹Number›) -> ‹bool›:
    return value > 0


@takes(positive)
def root(x):
    return x ** 0.5


@typecheck
def broken(x: ‹Missing›) -> None:
    pass


class Node:
    def __init__(self, name):
        self.name = name

    @typecheck
    def renamed(self, name: ‹by_regex("[a-z]+")›) -> ‹Node›:
        return Node(name) if name != "none" else None

    @classmethod
    @typecheck
    def several(cls, n: ‹int›) -> ‹list_of(Node)›:
        return [cls("a")] * n if n >= 0 else [1]


Number = int
"""


def styled(template: str, style: str) -> str:
    """Write the annotations marked in ``template`` in ``style``."""
    if "quoted" in style:
        text = re.sub("‹(.*?)›", lambda match: repr(match.group(1)), template)
    else:
        text = re.sub("‹(.*?)›", r"\1", template)
    return f"from __future__ import annotations\n{text}" if "future" in style else text


@pytest.fixture(params=STYLES)
def forward(request, tmp_path):
    return load_module(tmp_path, f"forward_{request.param}", styled(FORWARD, request.param))


def test_annotations_naming_later_classes_are_checked(forward):
    m = forward
    assert m.total([1, 2], 2) == 6
    assert message_of(lambda: m.total([1, "2"])).startswith(
        "total() got an incompatible value for values: [1, '2']"
    )
    with pytest.raises(InputParameterError):
        m.total([1], "2")
    assert m.make("a", [m.Node("b")]).name == "a"
    assert message_of(lambda: m.make("a", [1])) == "make() got an incompatible value for kids[0]: 1"
    assert message_of(lambda: m.make(""), ReturnValueError) == (
        "make() has returned an incompatible value: 'nothing'"
    )
    assert m.star(1, 2, k=m.Node("x"), j=None) == {"n": 4}
    assert message_of(lambda: m.star(1, "2")) == "star() got an incompatible value for args[1]: '2'"
    assert message_of(lambda: m.star(k=1)) == "star() got an incompatible value for kwargs['k']: 1"
    assert m.listed([m.Node("a")], [m.Node("b")]) == 1
    assert message_of(lambda: m.listed([1])).startswith("listed() got an incompatible value")
    with pytest.raises(InputParameterError):
        m.listed([], [1])


def test_methods_naming_their_own_class_are_checked(forward):
    node = forward.Node("a")
    assert node.renamed("b").name == "b"
    assert message_of(lambda: node.renamed("B")) == (
        "Node.renamed() got an incompatible value for name: 'B'"
    )
    with pytest.raises(ReturnValueError):
        node.renamed("none")
    assert [n.name for n in forward.Node.several(2)] == ["a", "a"]
    with pytest.raises(InputParameterError):
        forward.Node.several("2")
    assert message_of(lambda: forward.Node.several(-1), ReturnValueError) == (
        "Node.several() has returned an incompatible value for result[0]: 1"
    )


def test_takes_and_predicates_do_not_evaluate_annotations(forward):
    # 3.14 evaluates annotations on first access: inspect.signature() would raise NameError
    assert forward.takes_ignores_annotations(1) == 1
    with pytest.raises(InputParameterError):
        forward.takes_ignores_annotations("x")
    assert forward.root(4) == 2.0
    with pytest.raises(InputParameterError, match="for x: -1"):
        forward.root(-1)


def test_a_name_never_defined_is_a_clear_error_at_each_call_until_it_is(forward):
    with pytest.raises(TypeCheckSpecificationError) as info:
        forward.broken(1)
    text = str(info.value)
    assert "broken()" in text and "Missing" in text and forward.__name__ in text
    with pytest.raises(TypeCheckSpecificationError):
        forward.broken(1)
    forward.Missing = int  # the name can appear later: the next call resolves again
    assert forward.broken(1) is None
    with pytest.raises(InputParameterError):
        forward.broken("1")


def test_unresolvable_annotations_are_not_touched_while_disabled(forward):
    disable()
    assert forward.broken(1) is None


@PEP_649
def test_a_local_class_defined_after_the_function():
    @typecheck
    def f(x: Local) -> int:  # noqa: F821 - PEP 649: evaluated at the first call
        return 1

    class Local:
        pass

    assert f(Local()) == 1
    with pytest.raises(InputParameterError):
        f(1)


def test_forward_reference_inside_a_typing_construct():
    namespace: dict[str, Any] = {"typecheck": typecheck, "List": List}
    source = """
        @typecheck
        def f(x: List["Node"], y: list["Node"]) -> int:
            return len(x) + len(y)

        class Node:
            pass
    """
    exec(textwrap.dedent(source), namespace)
    f, node = namespace["f"], namespace["Node"]
    assert f([node()], [node()]) == 2
    with pytest.raises(InputParameterError):
        f([1], [])
    with pytest.raises(InputParameterError):  # 3.9 and 3.10 leave "Node" a plain str there
        f([], [1])


# ---- concurrency: the first calls ------------------------------------------------------------

RACING = """
from __future__ import annotations

from pmnc_hook.typecheck import typecheck


@typecheck
def f(x: Later) -> check_result():
    return x.value


class Later:
    def __init__(self, value):
        self.value = value
"""
PACKAGE = os.path.dirname(pmnc_hook.typecheck.__file__)


def inside_the_library(ident: int) -> bool:
    frame = sys._current_frames().get(ident)
    name = frame.f_code.co_filename if frame is not None else ""
    return name.startswith((PACKAGE, "<pmnc_hook.typecheck"))


def test_resolution_at_the_first_calls_is_thread_safe(tmp_path):
    module = load_module(tmp_path, "racing", RACING)
    callers, arrived, evaluations, overlapping = 8, set(), [], []
    barrier = threading.Barrier(callers)

    def check_result():
        # Runs while the annotations resolve: wait until every other caller is inside the
        # call as well, so that all of them overlap the resolution; it must run only once.
        me = threading.get_ident()
        evaluations.append(me)
        others = lambda: [i for i in set(arrived) - {me} if inside_the_library(i)]  # noqa: E731
        wait_for(lambda: len(others()) == callers - 1, timeout=20)
        overlapping.append(len(others()))
        return int

    module.check_result = check_result
    results, errors = {}, []

    def call(value: int) -> None:
        barrier.wait()
        arrived.add(threading.get_ident())
        try:
            results[value] = module.f(module.Later(value))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert results == {i: i for i in range(callers)}
    assert len(evaluations) == 1
    assert overlapping == [callers - 1]
    with pytest.raises(InputParameterError):
        module.f(1)
    with pytest.raises(ReturnValueError):
        module.f(module.Later("x"))


# ---- a reloadable module, as Pythomnic3k's users write one -------------------------------

HOOKED = """
@typecheck
def scale(
    values: list_of(int), label: by_regex("^[a-z]+$"), by: either(int, float) = 1
) -> list_of(int):
    return [v * by for v in values] if label != "broken" else "broken"


@typecheck
def first(item: optional(with_attr("name"))) -> nothing:
    return None if item is None else item.name


@typecheck
def make(name: by_regex("[a-z]+"), check: lambda n: n > 0 = 1) -> ‹Item›:
    return Item() if name != "none" else None


class Item:
    name = "item"
"""
CALLS = [
    "scale([1, 2], 'ab')", "scale(['x'], 'ab')", "scale([1], 'AB')", "scale([1], 'broken')",
    "scale([1], 'ab', by='2')", "first(None)", "first(object())", "first(Item())",
    "make('a')", "make('A')", "make('none')", "make('a', 0)",
]  # fmt: skip
EXPECTED = (
    "ok InputParameterError InputParameterError ReturnValueError InputParameterError ok "
    "InputParameterError ReturnValueError ok InputParameterError ReturnValueError "
    "InputParameterError"
)


@pytest.mark.parametrize("style", STYLES)
def test_a_reloadable_module_with_checkers_as_annotations(tmp_path, style):
    # The checkers are injected names, not imports; the module is loaded by the hook.
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "shop.py").write_text(styled(HOOKED, style))
    program = f"""
        import pmnc_hook
        from pmnc_hook import pmnc
        pmnc_hook.install([{str(mods)!r}], watch=False)
        shop = pmnc.shop
        outcomes = []
        for call in {CALLS!r}:
            try:
                eval(call, vars(shop))
                outcomes.append("ok")
            except Exception as exc:
                outcomes.append(type(exc).__name__)
        print(" ".join(outcomes))
        pmnc_hook.uninstall()
    """
    result = run_python(program, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == EXPECTED.split()
