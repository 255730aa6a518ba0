"""The directive scanner: pure AST reading, nothing executed."""

from __future__ import annotations

import ast
import textwrap

import pytest

from pmnc_hook import DirectiveError
from pmnc_hook.reload.directives import find_directives, may_hold_directive, scan


def directives(src: str):
    return scan(ast.parse(textwrap.dedent(src)), "m.py")


def test_plain_module_has_no_directives():
    d = directives("x = 1\ndef f(): return x\n")
    assert d.reloadable and not d.stateful and d.init_line is None


@pytest.mark.parametrize(
    "src",
    [
        "__reloadable__ = False\n",
        "x = 1\nif True:\n    __reloadable__ = False\n",
        "try:\n    pass\nexcept Exception:\n    pass\nelse:\n    __reloadable__ = False\n",
        "__reloadable__: bool = False\n",
        "a = __reloadable__ = False\n",
        "with open(__file__):\n    __reloadable__ = False\n",
    ],
)
def test_reloadable_false_anywhere_at_module_level(src):
    assert directives(src).reloadable is False


def test_reloadable_true_keeps_reloading():
    assert directives("__reloadable__ = True\n").reloadable is True


def test_reloadable_inside_function_is_not_a_directive():
    assert directives("def f():\n    __reloadable__ = False\n").reloadable is True


@pytest.mark.parametrize(
    ("src", "line"),
    [
        ("x = 1\n__reloadable__ = 0\n", 2),
        ("__reloadable__ = 'no'\n", 1),
        ("\n\n__reloadable__ = not True\n", 3),
        ("a, __reloadable__ = 1, False\n", 1),
        ("__reloadable__ += 1\n", 1),
        ("from os import sep as __reloadable__\n", 1),
    ],
)
def test_non_literal_value_is_an_error_naming_file_and_line(src, line):
    with pytest.raises(DirectiveError) as info:
        directives(src)
    assert info.value.filename == "m.py" and info.value.lineno == line
    assert f"m.py:{line}:" in str(info.value)
    assert "True or False" in str(info.value)


def test_pmnc_init_makes_a_module_stateful():
    d = directives(
        """
        def pmnc_init(old_module, new_module, new_module_filename):
            pass
        """
    )
    assert d.stateful and d.init_line == 2


@pytest.mark.parametrize(
    "sig", ["(old, new, filename)", "(*args)", "(old, new, filename, extra=None)", "(a, *rest)"]
)
def test_pmnc_init_signatures_accepted(sig):
    assert directives(f"def pmnc_init{sig}:\n    pass\n").stateful


@pytest.mark.parametrize(
    "src",
    [
        "def pmnc_init(old, new):\n    pass\n",
        "def pmnc_init(a, b, c, d):\n    pass\n",
        "def pmnc_init(a, b, c, *, key):\n    pass\n",
        "async def pmnc_init(a, b, c):\n    pass\n",
    ],
)
def test_pmnc_init_wrong_signature_is_an_error(src):
    with pytest.raises(DirectiveError, match="pmnc_init"):
        directives(src)


def test_pmnc_init_bound_otherwise_counts_as_stateful():
    assert directives("from helpers import pmnc_init\n").stateful
    assert directives("pmnc_init = make_init()\n").stateful


def test_pmnc_init_in_a_class_is_not_a_directive():
    assert not directives("class A:\n    def pmnc_init(self, a, b, c): pass\n").stateful


def test_conflicting_values_mean_not_reloadable_and_are_recorded():
    d = find_directives(ast.parse("__reloadable__ = True\n__reloadable__ = False\n"))
    assert d.reloadable is False
    assert d.reloadable_lines == ((1, True), (2, False))


def test_cheap_pretest():
    assert may_hold_directive(b"__reloadable__ = False")
    assert may_hold_directive(b"def pmnc_init(a, b, c): pass")
    assert not may_hold_directive(b"def f(): return 1")
