"""Compiling and creating modules: where failures are reported, and what a module carries."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import sys

import pytest
from conftest import write

import pmnc_hook
from pmnc_hook import ModuleLoadError, pmnc

pytestmark = pytest.mark.usefixtures("isolated")


def install(moddir):
    return pmnc_hook.install([str(moddir)], poll=3600)


def first_load_error(moddir, data: bytes):
    p = moddir / "bar.py"
    p.write_bytes(data)
    install(moddir)
    with pytest.raises(ModuleLoadError) as info:
        pmnc.bar
    return p, info.value


@pytest.mark.parametrize(
    "call",
    ["eval('1 +')", "ast.literal_eval('1 +')", "compile('1 +', '<cfg>', 'eval')"],
    ids=["eval", "literal_eval", "compile"],
)
def test_a_syntax_error_raised_inside_the_body_is_placed_at_the_body_line(moddir, call):
    data = f"import ast\nX = 1\nY = {call}\n".encode()
    p, error = first_load_error(moddir, data)
    assert isinstance(error.__cause__, SyntaxError)
    assert f"cannot load pmnc.bar: {p}:3: SyntaxError" in str(error)


def test_a_reload_failing_in_literal_eval_logs_the_body_line(moddir, caplog):
    p = write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    assert pmnc.bar.X == 1
    caplog.set_level(logging.ERROR, logger="pmnc_hook")
    write(p, "import ast\n\nX = ast.literal_eval('{')\n")
    assert pmnc_hook.refresh() == ["bar"]
    assert pmnc.bar.X == 1
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert f"failed at {p}:3: SyntaxError" in record.getMessage()


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"# -*- coding: bogus -*-\nX = 1\n", 1),
        (b"#!/usr/bin/env python\n# coding: bogus\nX = 1\n", 2),
        (b"\xef\xbb\xbf# coding: latin-1\nX = 1\n", 1),  # a BOM says UTF-8, the cookie not
        (b"# coding: ascii\nX = 1\nY = '\xe9'\n", 3),  # a byte ASCII cannot decode
        (b"X = 1\nY = 2\x00\n", 2),  # a NUL byte
    ],
    ids=["cookie-line-1", "cookie-line-2", "bom-and-cookie", "undecodable", "nul"],
)
def test_an_encoding_failure_is_placed_at_its_line(moddir, data, line):
    p, error = first_load_error(moddir, data)
    cause = error.__cause__
    assert isinstance(cause, SyntaxError)
    assert cause.filename == str(p) and cause.lineno == line
    assert f"cannot load pmnc.bar: {p}:{line}: SyntaxError" in str(error)


# -- what a module object carries, compared with Python's own import of the same file -------

IMPORT_ATTRIBUTES = (
    "__name__",
    "__doc__",
    "__package__",
    "__loader__",
    "__spec__",
    "__file__",
    "__cached__",
    "__builtins__",
    "__path__",
)


def plain_import(fullname, path):
    """Import ``path`` the way Python's own import system does, as module ``fullname``."""
    spec = importlib.util.spec_from_file_location(fullname, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_module_carries_what_pythons_own_import_gives_and_nothing_it_dropped(
    moddir, tmp_path, monkeypatch
):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    text = '"""The doc."""\nX = 1\n'
    write(moddir / "bar.py", text)
    install(moddir)
    ours = pmnc.bar
    plain_dir = tmp_path / "plain"
    plain_dir.mkdir()
    shutil.copy(moddir / "bar.py", plain_dir / "bar.py")
    plain = plain_import(ours.__name__, str(plain_dir / "bar.py"))

    def dunders(module):
        return {k for k in vars(module) if k.startswith("__") and not k.startswith("__pmnc")}

    assert dunders(ours) == dunders(plain), sys.version_info
    for name in IMPORT_ATTRIBUTES:
        assert hasattr(ours, name) == hasattr(plain, name), name
    assert ours.__name__ == plain.__name__ and ours.__doc__ == plain.__doc__ == "The doc."
    assert ours.__file__ == str(moddir / "bar.py")
    if hasattr(plain, "__package__"):
        assert ours.__package__ == plain.__package__ == ours.__spec__.parent
    if hasattr(plain, "__cached__"):  # before 3.15: a bytecode path; ours reads none, writes none
        assert ours.__cached__ is None
    spec, plain_spec = ours.__spec__, plain.__spec__
    assert spec.name == plain_spec.name and spec.parent == plain_spec.parent
    assert spec.origin == ours.__file__ and spec.has_location == plain_spec.has_location
    assert spec.submodule_search_locations is plain_spec.submodule_search_locations is None
    assert ours.__loader__ is spec.loader and ours.__spec__.loader.get_filename() == ours.__file__
    assert ours.__builtins__ is plain.__builtins__ or ours.__builtins__ == vars(__builtins__)
