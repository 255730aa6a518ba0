"""The static checker: each finding (and its absence), suppression, output, exit codes, paths."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import REPO, write

from pmnc_hook.check.files import CODES, check_paths, check_source, main

MODULES = ("bar", "baz")


def codes(src: str, *, as_module: bool = True, modules=MODULES, data: bytes | None = None):
    """Return (code, line, col) of each finding in ``src`` (dedented)."""
    raw = data if data is not None else textwrap.dedent(src).encode()
    found = check_source(raw, "m.py", modules=modules, as_module=as_module)
    return [(f.code, f.line, f.col) for f in found]


def only(src: str, code: str, **kw):
    return [(line, col) for c, line, col in codes(src, **kw) if c == code]


def run_check(*args: str, cwd: Path, env: dict[str, str] | None = None, via: str = "_check"):
    full_env = dict(os.environ)
    full_env.pop("PMNC_HOOK_PATH", None)
    full_env["PYTHONDONTWRITEBYTECODE"] = "1"
    full_env.update(env or {})
    command = ["-m", "pmnc_hook.check"] if via == "_check" else ["-m", "pmnc_hook", "--check"]
    return subprocess.run(
        [sys.executable, *command, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


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


def test_import_resolving_to_a_neighbour_file_is_not_pmnc001(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "def f(): return 1\n")
    write(tmp_path / "app" / "bar.py", "def f(): return 2\n")
    write(tmp_path / "app" / "main.py", "import bar\n")
    write(tmp_path / "tool" / "main.py", "import bar\n")
    found = check_paths([str(mods), str(tmp_path / "app" / "main.py"), str(tmp_path / "tool")])
    assert [(Path(f.path).parent.name, f.code) for f in found] == [("tool", "PMNC001")]


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
    "src",
    [
        "x = foo(" + " + ".join(["pmnc.bar.f"] * 1500) + ")\n",
        "C = {}\nx = " + "lambda: " * 1500 + "C.clear()\n",
        "x = " + ".".join(["pmnc"] * 1500) + "\n",
    ],
)
def test_deeply_nested_source_does_not_crash_the_checker(src):
    found = check_source(src.encode(), "m.py", modules=["bar", "pmnc"])
    assert all(f.code in CODES for f in found)


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


# -- files and directories ------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    """A module directory with one finding of each kind, a program, and skipped directories."""
    mods = tmp_path / "mods"
    write(mods / "bar.py", "def f():\n    return 1\n")
    write(mods / "baz.py", "import bar\n")
    write(mods / "state.py", "CACHE = {}\n\ndef put(k, v):\n    CACHE[k] = v\n")
    write(mods / "broken.py", "def f(:\n")
    write(
        mods / "main.py",
        """\
        from pmnc_hook import pmnc
        f = pmnc.bar.f

        if __name__ == "__main__":
            print(pmnc.nosuch.g())
        """,
    )
    write(mods / "tools" / "report.py", "from pmnc_hook import pmnc\nh = pmnc.bar.f\n")
    for skipped in (".hidden", "__pycache__", "build", "dist", "venv", "env2", ".tox"):
        write(mods / skipped / "x.py", "import bar\n")
    (mods / "env2" / "pyvenv.cfg").write_text("home = /usr\n")
    return tmp_path


EXPECTED = [
    ("mods/baz.py", 1, 1, "PMNC001"),
    ("mods/broken.py", 1, 7, "PMNC007"),
    ("mods/main.py", 2, 5, "PMNC002"),
    ("mods/main.py", 5, 11, "PMNC006"),
    ("mods/state.py", 4, 5, "PMNC003"),
    ("mods/tools/report.py", 2, 5, "PMNC002"),
]


def rows(findings):
    return [(f.path.replace(os.sep, "/"), f.line, f.col, f.code) for f in findings]


def test_check_paths_over_a_tree(tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert rows(check_paths(["mods"])) == EXPECTED


def test_check_executes_nothing(tmp_path, monkeypatch):
    write(tmp_path / "boom.py", "open('ran', 'w').close()\nraise SystemExit(3)\n")
    monkeypatch.chdir(tmp_path)
    assert check_paths(["."]) == []
    assert not (tmp_path / "ran").exists()


def test_default_is_pmnc_hook_path_then_cwd(tree, monkeypatch):
    monkeypatch.chdir(tree / "mods")
    environ = {"PMNC_HOOK_PATH": os.pathsep.join([str(tree / "mods"), ""])}
    assert rows(check_paths(environ=environ)) == [
        (p.replace("mods/", "", 1), line, col, code) for p, line, col, code in EXPECTED
    ]
    assert rows(check_paths(environ={})) == rows(check_paths(environ=environ))
    with pytest.raises(OSError):
        check_paths(environ={"PMNC_HOOK_PATH": str(tree / "missing")})


def test_file_paths_are_checked_against_their_module_directories(tree, monkeypatch):
    monkeypatch.chdir(tree)
    program = write(tree / "app.py", "import bar\nimport pmnc_hook\nf = pmnc_hook.pmnc.nosuch\n")
    # only files given: the module directories are PMNC_HOOK_PATH's ...
    env = {"PMNC_HOOK_PATH": str(tree / "mods")}
    assert rows(check_paths([str(program)], environ=env)) == [
        ("app.py", 1, 1, "PMNC001"),
        ("app.py", 3, 5, "PMNC002"),
        ("app.py", 3, 5, "PMNC006"),
    ]
    # ... else the files' own directories (where bar.py is not)
    assert rows(check_paths(["app.py"], environ={})) == [
        ("app.py", 3, 5, "PMNC002"),
        ("app.py", 3, 5, "PMNC006"),
    ]
    # a file of a module directory is checked as the module it is, and alone
    assert rows(check_paths(["mods/state.py"], environ={})) == [("mods/state.py", 4, 5, "PMNC003")]
    both = check_paths(["mods", "app.py"], environ=env)
    assert {f.path for f in both} >= {"app.py", os.path.join("mods", "baz.py")}


def test_paths_outside_cwd_are_absolute(tree, monkeypatch, tmp_path_factory):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    found = check_paths([str(tree / "mods")])
    assert found and all(os.path.isabs(f.path) for f in found)
    assert found[0].path == str(tree / "mods" / "baz.py")


def test_missing_path_raises(tmp_path):
    with pytest.raises(OSError):
        check_paths([str(tmp_path / "nope")])


def test_module_names_follow_the_loader(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "mods" / "class.py", "x = 1\n")  # a keyword: never a module
    write(tmp_path / "mods" / "__init__.py", "x = 1\n")
    write(tmp_path / "mods" / "user.py", "def f():\n    return pmnc.__init__, pmnc.klass\n")
    write(tmp_path / "mods" / "klass.py", "import klass\n")
    assert rows(check_paths(["mods"])) == [("mods/klass.py", 1, 1, "PMNC001")]
    write(tmp_path / "mods" / "other.py", "def f():\n    return pmnc.class_\n")
    assert [f.code for f in check_paths(["mods"])] == ["PMNC001", "PMNC006"]


# -- the command line --------------------------------------------------------------------------

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>PMNC\d{3}) \S.*$")


def test_cli_text_output_and_exit_1(tree):
    result = run_check("mods", cwd=tree)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    found = [LINE.match(line) for line in lines]
    assert [
        (m["path"].replace(os.sep, "/"), int(m["line"]), int(m["col"]), m["code"])
        for m in found
        if m
    ] == EXPECTED
    assert result.stderr == ""


def test_cli_json_output(tree):
    result = run_check("--format", "json", "mods", cwd=tree)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert [list(item) for item in data] == [["path", "line", "col", "code", "message"]] * 6
    assert [(d["path"].replace(os.sep, "/"), d["line"], d["col"], d["code"]) for d in data] == (
        EXPECTED
    )
    assert all(isinstance(d["message"], str) and d["message"] for d in data)


def test_cli_clean_exit_0(tmp_path):
    write(tmp_path / "mods" / "bar.py", "def f():\n    return pmnc.baz.g()\n")
    write(tmp_path / "mods" / "baz.py", "def g():\n    return 1\n")
    result = run_check("mods", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    result = run_check("--format=json", "mods", cwd=tmp_path)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_cli_select_and_ignore(tree):
    def found(*args):
        result = run_check(*args, "mods", cwd=tree)
        return result.returncode, [LINE.match(x)["code"] for x in result.stdout.splitlines()]

    assert found("--select", "PMNC001") == (1, ["PMNC001"])
    assert found("--select", "PMNC001,PMNC003") == (1, ["PMNC001", "PMNC003"])
    assert found("--select", "PMNC001", "--select", "pmnc003") == (1, ["PMNC001", "PMNC003"])
    assert found("--select", "PMNC004") == (0, [])
    assert found("--ignore", "PMNC002,PMNC006", "--ignore", "PMNC007") == (
        1,
        ["PMNC001", "PMNC003"],
    )
    assert found("--select", "PMNC001,PMNC002", "--ignore", "PMNC002") == (1, ["PMNC001"])


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus", "mods"],
        ["--select", "PMNC999", "mods"],
        ["--ignore", "E501", "mods"],
        ["--format", "xml", "mods"],
        ["no-such-dir"],
        ["--sel", "PMNC001", "mods"],
    ],
)
def test_cli_bad_usage_exit_2(tree, args):
    result = run_check(*args, cwd=tree)
    assert result.returncode == 2 and result.stdout == ""
    assert "error" in result.stderr


def test_cli_bad_pmnc_hook_path_exit_2(tmp_path):
    result = run_check(cwd=tmp_path, env={"PMNC_HOOK_PATH": str(tmp_path / "missing")})
    assert result.returncode == 2 and "PMNC_HOOK_PATH" in result.stderr


def test_cli_help(tmp_path):
    result = run_check("--help", cwd=tmp_path)
    assert result.returncode == 0 and "usage:" in result.stdout
    assert all(code in result.stdout for code in CODES)


def test_cli_defaults_to_pmnc_hook_path_then_cwd(tree):
    env = {"PMNC_HOOK_PATH": str(tree / "mods")}
    from_env = run_check(cwd=tree, env=env)
    assert from_env.returncode == 1
    assert from_env.stdout.splitlines()[0].startswith(os.path.join("mods", "baz.py") + ":1:1:")
    from_cwd = run_check(cwd=tree / "mods")
    assert from_cwd.returncode == 1
    assert from_cwd.stdout.splitlines()[0].startswith("baz.py:1:1: PMNC001")
    empty = tree / "empty"
    empty.mkdir()
    assert run_check(cwd=empty).returncode == 0


def test_main_in_process(tree, monkeypatch, capsys):
    monkeypatch.chdir(tree)
    monkeypatch.delenv("PMNC_HOOK_PATH", raising=False)
    assert main(["--select", "PMNC003", "mods"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(os.path.join("mods", "state.py") + ":4:5: PMNC003 module-level")
    assert out.count("\n") == 1
    assert main(["--select", "PMNC004", "mods"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["--select", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


@pytest.mark.skipif(
    not (REPO / "pmnc_hook" / "__main__.py").exists(), reason="no pmnc_hook/__main__.py yet"
)
def test_python_m_pmnc_hook_check(tree):
    result = run_check("mods", cwd=tree, via="__main__")
    assert result.returncode == 1, result.stderr
    assert result.stdout == run_check("mods", cwd=tree).stdout
    assert run_check("--select", "BAD", "mods", cwd=tree, via="__main__").returncode == 2


# -- the repository's own examples -------------------------------------------------------------


def examples() -> list[list[Path]]:
    """Group the directories holding .py files by example (first level under examples/).

    An example's program and its module directories are checked together, as a user would
    run the checker on them (``--check examples/env_var examples/env_var/modules``).
    """
    root = REPO / "examples"
    groups: dict[Path, set[Path]] = {}
    for path in root.rglob("*.py") if root.is_dir() else ():
        relative = path.relative_to(root).parts
        if "__pycache__" in relative or any(p.startswith(".") for p in relative):
            continue
        top = root / relative[0] if len(relative) > 1 else path
        groups.setdefault(top, set()).add(path.parent if len(relative) > 1 else path)
    return [sorted(dirs) for _, dirs in sorted(groups.items())]


@pytest.mark.parametrize(
    "paths",
    examples() or [None],
    ids=lambda g: str(g[0].relative_to(REPO)) if g else "none",
)
def test_examples_are_clean(paths, monkeypatch):
    if paths is None:
        pytest.skip("no examples with .py files yet")
    monkeypatch.chdir(REPO)
    found = check_paths([str(p) for p in paths], environ={})
    assert [f.format() for f in found] == []


def test_files_that_cannot_be_modules_are_program_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = "CACHE = {}\ndef put(k, v):\n    CACHE[k] = v\nimport bar\n"
    write(tmp_path / "mods" / "bar.py", "x = 1\n")
    write(tmp_path / "mods" / "__init__.py", state)
    write(tmp_path / "mods" / "my-tool.py", state)
    write(tmp_path / "mods" / "ok.py", state)
    assert [(f.path.replace(os.sep, "/"), f.code) for f in check_paths(["mods"])] == [
        ("mods/__init__.py", "PMNC001"),
        ("mods/my-tool.py", "PMNC001"),
        ("mods/ok.py", "PMNC003"),
        ("mods/ok.py", "PMNC001"),
    ]


def test_unreadable_file_is_pmnc007(tmp_path, monkeypatch):
    import builtins

    from pmnc_hook.check import files as _check

    monkeypatch.chdir(tmp_path)
    locked = write(tmp_path / "mods" / "locked.py", "x = 1\n")

    def fake_open(path, *args, **kwargs):
        if os.path.samefile(path, locked):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(_check, "open", fake_open, raising=False)
    (finding,) = check_paths(["mods"])
    assert (finding.code, finding.line, finding.col) == ("PMNC007", 1, 1)
    assert "Permission denied" in finding.message
