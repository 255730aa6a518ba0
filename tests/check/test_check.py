"""The static checker's rules over one file's bytes: each finding (and its absence),
columns, encodings, suppression comments."""

from __future__ import annotations

import sys
import textwrap

import pytest

from pmnc_hook.check.source import check_source

MODULES = ("bar", "baz")


def codes(src: str, *, as_module: bool = True, modules=MODULES, data: bytes | None = None):
    """Return (code, line, col) of each finding in ``src`` (dedented)."""
    raw = data if data is not None else textwrap.dedent(src).encode()
    found = check_source(raw, "m.py", modules=modules, as_module=as_module)
    return [(f.code, f.line, f.col) for f in found]


def only(src: str, code: str, **kw):
    return [(line, col) for c, line, col in codes(src, **kw) if c == code]


# -- PMNC001: direct imports ----------------------------------------------------------


@pytest.mark.parametrize(
    "src",
    [
        "import bar\n",
        "import bar as b\n",
        "import os, bar\n",
        "from bar import f\n",
        "from bar import f as g, h\n",
        "import pmnc_hook.modules.bar\n",
        "from pmnc_hook.modules import bar\n",
        "from pmnc_hook.modules.bar import f\n",
        "def run():\n    import bar\n    return bar.f()\n",
    ],
)
def test_direct_import_of_a_module_is_pmnc001(src):
    assert "PMNC001" in [c for c, _, _ in codes(src)]
    assert "PMNC001" in [c for c, _, _ in codes(src, as_module=False)]


def test_pmnc001_names_the_fix():
    (finding,) = check_source(b"from bar import f\n", "m.py", modules=MODULES)
    assert finding.code == "PMNC001" and "pmnc.bar.f" in finding.message
    (finding,) = check_source(b"x = 1\nimport bar\n", "m.py", modules=MODULES)
    assert (finding.line, finding.col) == (2, 1) and "pmnc.bar" in finding.message


@pytest.mark.parametrize(
    "src",
    [
        "import json\n",
        "from json import dumps\n",
        "from . import bar\n",
        "from .bar import f\n",
        "import barn\n",
        "import pmnc_hook\nfrom pmnc_hook import pmnc\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bar\n",
        "import typing\nif typing.TYPE_CHECKING:\n    from bar import f\n",
    ],
)
def test_other_imports_are_not_pmnc001(src):
    assert only(src, "PMNC001") == []


# -- PMNC002: captured values ----------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "where"),
    [
        ("f = pmnc.bar.f\n", (1, 5)),
        ("x = pmnc.bar\n", (1, 5)),
        ("x: object = pmnc.bar.f\n", (1, 13)),
        ("def g(h=pmnc.bar.f):\n    return h()\n", (1, 9)),
        ("def g(*, h=pmnc.bar.f):\n    return h()\n", (1, 12)),
        ("async def g(h=pmnc.bar.f):\n    return h()\n", (1, 15)),
        ("class A:\n    cb = pmnc.bar.f\n", (2, 10)),
        ("class A:\n    def m(self, h=pmnc.bar.f):\n        pass\n", (2, 19)),
        ("handlers = {'a': pmnc.bar.f}\n", (1, 18)),
        ("handlers = [pmnc.bar.f for _ in range(2)]\n", (1, 13)),
        ("f = pmnc.bar.f if True else None\n", (1, 5)),
        ("import atexit\natexit.register(pmnc.bar.f)\n", (2, 17)),
        ("import functools\nh = functools.partial(pmnc.bar.f, 1)\n", (2, 23)),
        ("if True:\n    f = pmnc.bar.f\n", (2, 9)),
        ("g = lambda h=pmnc.bar.f: h()\n", (1, 14)),
        ("class A(pmnc.bar.Base):\n    pass\n", (1, 9)),
        ("x = pmnc.bar.f.__name__\n", (1, 5)),
    ],
)
def test_value_captured_at_import_is_pmnc002(src, where):
    assert only(src, "PMNC002") == [where]


@pytest.mark.parametrize(
    "src",
    [
        "x = pmnc.bar.f(1)\n",
        "pmnc.bar.f(pmnc.baz.g)\n",
        "def g():\n    f = pmnc.bar.f\n    return f()\n",
        "def g(h=None):\n    return (h or pmnc.bar.f)()\n",
        "def outer():\n    def inner(h=pmnc.bar.f):\n        return h()\n    return inner\n",
        "cb = lambda: pmnc.bar.f()\n",
        "print(pmnc.bar.VERSION)\n",
        "if pmnc.bar.DEBUG:\n    pass\n",
        "p = pmnc\n",
        "x = len(pmnc.bar.ITEMS) + 1\n",
        "x = pmnc.bar.TABLE['k']\n",
        "level = pmnc.bar.LEVEL > 2\n",
        "for item in pmnc.bar.ITEMS:\n    pass\n",
    ],
)
def test_use_at_import_or_capture_at_call_time_is_not_pmnc002(src):
    assert only(src, "PMNC002") == []


@pytest.mark.parametrize(
    "src",
    [
        "from pmnc_hook import pmnc\nf = pmnc.bar.f\n",
        "from pmnc_hook import pmnc as P\nf = P.bar.f\n",
        "import pmnc_hook\nf = pmnc_hook.pmnc.bar.f\n",
        "import pmnc_hook as ph\nf = ph.pmnc.bar.f\n",
        "import pmnc_hook.typecheck\nf = pmnc_hook.pmnc.bar.f\n",
    ],
)
def test_pmnc002_in_program_files_follows_the_import(src):
    assert only(src, "PMNC002", as_module=False) == [(2, 5)]


def test_program_file_without_the_import_has_no_facade():
    # The injected name exists only in reloadable modules.
    assert codes("f = pmnc.bar.f\nx = pmnc.nosuch.f\n", as_module=False) == []


def test_module_that_rebinds_pmnc_has_no_injected_facade():
    assert codes("import pmnc\nf = pmnc.nosuch.f\n") == []


def test_pmnc002_message_says_what_to_do():
    (finding,) = check_source(b"def g(h=pmnc.bar.f): pass\n", "m.py", modules=MODULES)
    assert "default to None" in finding.message and "pmnc.bar.f" in finding.message
    (finding,) = check_source(b"f = pmnc.bar.f\n", "m.py", modules=MODULES)
    assert "at the point of use" in finding.message and "'bar'" in finding.message


# -- PMNC003: state lost on reload ------------------------------------------------------


@pytest.mark.parametrize(
    "mutation",
    [
        "CACHE[k] = v",
        "CACHE[k] += 1",
        "CACHE[k][0] = v",
        "CACHE[k].append(v)",
        "CACHE.update({k: v})",
        "CACHE.setdefault(k, v)",
        "CACHE.pop(k)",
        "CACHE.clear()",
        "del CACHE[k]",
        "ITEMS.append(v)",
        "ITEMS.extend([v])",
        "ITEMS.insert(0, v)",
        "ITEMS.remove(v)",
        "ITEMS.sort()",
        "SEEN.add(v)",
        "SEEN.discard(v)",
        "QUEUE.appendleft(v)",
        "COUNTS[k] += 1",
        "TYPED[k] = v",
        "[CACHE.pop(x) for x in list(CACHE)]",
    ],
)
def test_module_state_changed_in_a_function_is_pmnc003(mutation):
    src = f"""\
    import collections
    CACHE = {{}}
    ITEMS = list()
    SEEN = set()
    QUEUE = collections.deque()
    COUNTS = collections.defaultdict(int)
    TYPED: dict[str, int] = {{}}

    def put(k, v):
        {mutation}
    """
    assert [line for line, _ in only(src, "PMNC003")] == [10]


@pytest.mark.parametrize(
    "src",
    [
        "n = 0\ndef inc():\n    global n\n    n += 1\n",
        "n = 0\ndef inc():\n    global n\n    n = n + 1\n",
        "def start():\n    global conn\n    conn = object()\n",
        "CACHE = {}\ndef reset():\n    global CACHE\n    CACHE = {}\n",
        "class A:\n    def put(self, v):\n        ITEMS.append(v)\nITEMS = []\n",
        "A, B = [], {}\ndef put(v):\n    B[v] = v\n",
        "CACHE = {}\nasync def put(v):\n    CACHE[v] = v\n",
        "CACHE = {}\nput = lambda v: CACHE.update({v: v})\n",
        "CACHE = {}\ndef outer():\n    def inner(v):\n        CACHE[v] = v\n    return inner\n",
    ],
)
def test_more_state_changes_are_pmnc003(src):
    assert len(only(src, "PMNC003")) == 1


@pytest.mark.parametrize(
    "src",
    [
        # a local list, a parameter, a closure variable: not module state
        "def f():\n    local = []\n    local.append(1)\n    return local\n",
        "CACHE = {}\ndef f(CACHE):\n    CACHE['k'] = 1\n",
        "CACHE = {}\ndef f():\n    CACHE = {}\n    CACHE['k'] = 1\n",
        "ITEMS = []\ndef f():\n    for ITEMS in [[1]]:\n        ITEMS.append(1)\n",
        "CACHE = {}\ndef outer():\n    CACHE = {}\n    def inner():\n        CACHE['k'] = 1\n",
        # changed while the module loads, which a reload repeats
        "CACHE = {}\nCACHE['k'] = 1\nfor i in range(3):\n    CACHE[i] = i\n",
        "REG = {}\ndef register(f):\n    REG[f.__name__] = f\n    return f\n@register\ndef a():\n"
        "    pass\n",
        "ITEMS = []\ndef load():\n    ITEMS.extend([1, 2])\nload()\n",
        # reading is not changing; unknown kinds of objects are not judged
        "CACHE = {}\ndef get(k):\n    return CACHE.get(k), CACHE[k], list(CACHE.items())\n",
        "conn = connect()\ndef f():\n    conn.update()\n",
        "n = 0\ndef f():\n    global n\n    return n + 1\n",
        # migrated or never reloaded
        "CACHE = {}\ndef put(k, v):\n    CACHE[k] = v\n"
        "def pmnc_init(old_module, new_module, new_module_filename):\n"
        "    if old_module:\n        new_module.CACHE = old_module.CACHE\n",
        "__reloadable__ = False\nCACHE = {}\ndef put(k, v):\n    CACHE[k] = v\n",
        "n = 0\ndef inc():\n    global n\n    n += 1\n__reloadable__ = False\n",
    ],
)
def test_no_pmnc003(src):
    assert only(src, "PMNC003") == []


def test_pmnc003_does_not_apply_to_program_files():
    src = "CACHE = {}\ndef put(k, v):\n    CACHE[k] = v\n"
    assert only(src, "PMNC003", as_module=False) == []
    assert only(src + "if __name__ == '__main__':\n    put(1, 2)\n", "PMNC003") == []
    assert only("#!/usr/bin/env python\n" + src, "PMNC003") == []
    assert only("import pmnc_hook\n" + src + "pmnc_hook.install(['.'])\n", "PMNC003") == []


def test_pmnc003_message_names_the_state_and_the_fix():
    (finding,) = check_source(b"CACHE = {}\ndef f(v):\n    CACHE.add(v)\n", "m.py")
    assert "'CACHE'" in finding.message and "CACHE.add(...)" in finding.message
    assert "pmnc_init(old_module, new_module, new_module_filename)" in finding.message
    assert "__reloadable__ = False" in finding.message


# -- PMNC004: pmnc_init -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "where"),
    [
        ("def pmnc_init(old, new):\n    pass\n", (1, 1)),
        ("async def pmnc_init(old, new, filename):\n    pass\n", (1, 1)),
        ("class A:\n    def pmnc_init(old, new, filename):\n        pass\n", (2, 5)),
        ("def setup():\n    def pmnc_init(old, new, filename):\n        pass\n", (2, 5)),
        ("class A:\n    class B:\n        def pmnc_init(a, b, c):\n            pass\n", (3, 9)),
    ],
)
def test_bad_or_misplaced_pmnc_init_is_pmnc004(src, where):
    assert only(src, "PMNC004") == [where]


def test_misplaced_pmnc_init_says_where():
    src = b"class Store:\n    def pmnc_init(self, a, b):\n        pass\n"
    (finding,) = check_source(src, "m.py")
    assert "class 'Store'" in finding.message and "module level" in finding.message


@pytest.mark.parametrize(
    "src",
    [
        "def pmnc_init(old_module, new_module, new_module_filename):\n    pass\n",
        "def pmnc_init(*args):\n    pass\n",
        "if True:\n    def pmnc_init(a, b, c):\n        pass\n",
        "try:\n    pass\nexcept Exception:\n    def pmnc_init(a, b, c):\n        pass\n",
    ],
)
def test_good_pmnc_init_is_not_pmnc004(src):
    assert only(src, "PMNC004") == []


def test_pmnc004_and_pmnc005_do_not_apply_to_program_files():
    src = "def pmnc_init(a):\n    pass\n__reloadable__ = maybe\n"
    assert codes(src, as_module=False) == []


# -- PMNC005: __reloadable__ ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "where"),
    [
        ("__reloadable__ = flag\n", (1, 1)),
        ("__reloadable__ = 0\n", (1, 1)),
        ("x = 1\n__reloadable__ = not True\n", (2, 1)),
        ("__reloadable__ = True\nx = 1\n__reloadable__ = False\n", (3, 1)),
        ("__reloadable__ = False\nif x:\n    __reloadable__ = True\n", (3, 1)),
    ],
)
def test_bad_or_conflicting_reloadable_is_pmnc005(src, where):
    assert only(src, "PMNC005") == [where]


def test_conflicting_reloadable_names_the_other_line():
    (finding,) = check_source(b"__reloadable__ = False\n\n__reloadable__ = True\n", "m.py")
    assert "line 1" in finding.message


@pytest.mark.parametrize(
    "src",
    [
        "__reloadable__ = False\n",
        "__reloadable__ = False\n__reloadable__ = False\n",
        "def f():\n    __reloadable__ = 3\n",
    ],
)
def test_good_reloadable_is_not_pmnc005(src):
    assert only(src, "PMNC005") == []


# -- PMNC006: unknown module -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("src", "as_module"),
    [
        ("def f():\n    return pmnc.nosuch.g()\n", True),
        ("from pmnc_hook import pmnc\n\ndef f():\n    return pmnc.nosuch.g()\n", False),
        ("import pmnc_hook\n\ndef f():\n    return pmnc_hook.pmnc.nosuch\n", False),
    ],
)
def test_unknown_module_is_pmnc006(src, as_module):
    assert [c for c, _, _ in codes(src, as_module=as_module)] == ["PMNC006"]


def test_known_module_and_facade_dunders_are_not_pmnc006():
    assert codes("def f():\n    return pmnc.bar.g(), pmnc.baz, pmnc.__class__\n") == []


def test_pmnc006_message_names_the_file():
    (finding,) = check_source(b"def f():\n    pmnc.nosuch.g()\n", "m.py", modules=MODULES)
    assert "nosuch.py" in finding.message and (finding.line, finding.col) == (2, 5)


# -- PMNC007: unreadable source ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"x = 1\ndef f(:\n    pass\n", 2),
        (b"x = (\n", 1),
        (b"x = '\xff'\n", 1),  # not UTF-8
        (b"# coding: no-such-codec\nx = 1\n", 1),
        (b"x = 1\x00\n", 1),
    ],
)
def test_unparsable_source_is_a_pmnc007_finding(data, line):
    (finding,) = check_source(data, "m.py")
    assert finding.code == "PMNC007" and finding.line == line and finding.col >= 1
    assert f"Python {sys.version_info[0]}.{sys.version_info[1]}" in finding.message


def test_pmnc007_column_points_at_the_error():
    (finding,) = check_source(b"x = 1\ny = )\n", "m.py")
    assert (finding.line, finding.col) == (2, 5)


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        # a sum is a new value: nothing of pmnc is kept
        ("x = foo(" + " + ".join(["pmnc.bar.f"] * 1500) + ")\n", []),
        ("C = {}\nx = " + "lambda: " * 1500 + "C.clear()\n", [("PMNC003", 2, 12005)]),
        ("x = " + ".".join(["pmnc"] * 1500) + "\n", [("PMNC002", 1, 5)]),
    ],
)
def test_deeply_nested_source_is_checked_without_crashing(src, expected):
    found = check_source(src.encode(), "m.py", modules=["bar", "pmnc"])
    assert [(f.code, f.line, f.col) for f in found] == expected


def test_encoding_cookie_is_honoured():
    data = "# -*- coding: latin-1 -*-\ns = 'é'\nimport bar\n".encode("latin-1")
    assert codes("", data=data) == [("PMNC001", 3, 1)]


def test_columns_count_characters_not_bytes():
    assert codes("s = 'ééé'; f = pmnc.bar.f\n") == [("PMNC002", 1, 16)]


# -- suppression ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "left"),
    [
        ("# pmnc: ignore[PMNC001]", ["PMNC002"]),
        ("# pmnc: ignore[PMNC002]", ["PMNC001"]),
        ("# pmnc: ignore[PMNC001,PMNC002]", []),
        ("# pmnc: ignore[PMNC001, PMNC002]", []),
        ("# pmnc: ignore", []),
        ("#pmnc:ignore[pmnc001]", ["PMNC002"]),
        ("# pmnc: ignore[PMNC003]", ["PMNC001", "PMNC002"]),
        ("# pmnc: ignore[]", ["PMNC001", "PMNC002"]),
        ("# pmnc: ignore [PMNC001]", ["PMNC002"]),
        ("# noqa", ["PMNC001", "PMNC002"]),
    ],
)
def test_ignore_comment_silences_codes_on_its_line(comment, left):
    src = f"import bar; f = pmnc.bar.f  {comment}\n"
    assert [c for c, _, _ in codes(src)] == left


def test_ignore_comment_applies_to_its_own_line_only():
    src = "CACHE = {}  # pmnc: ignore\ndef f(v):\n    CACHE[v] = v\n"
    assert only(src, "PMNC003") == [(3, 5)]
    src = "CACHE = {}\ndef f(v):\n    CACHE[v] = v  # pmnc: ignore[PMNC003]\n"
    assert only(src, "PMNC003") == []


def test_ignore_comment_silences_a_syntax_error():
    assert check_source(b"x = )  # pmnc: ignore[PMNC007]\n", "m.py") == []
