"""The library's errors: one base class, public names that print as what users import."""

from __future__ import annotations

import inspect

from conftest import run_python, write

import pmnc_hook
from pmnc_hook import _errors


def public_errors():
    found = {name: getattr(pmnc_hook, name) for name in pmnc_hook.__all__}
    return {n: o for n, o in found.items() if inspect.isclass(o) and issubclass(o, Exception)}


def test_public_error_classes_print_as_their_public_name():
    found = public_errors()
    assert {"PmncHookError", "ModuleLoadError", "DirectiveError"} <= set(found)
    for name, cls in found.items():
        assert cls.__module__ == "pmnc_hook", name
        assert repr(cls) == f"<class 'pmnc_hook.{name}'>"


def test_no_error_class_claims_a_public_name_it_does_not_have():
    for name, cls in vars(_errors).items():
        if inspect.isclass(cls) and issubclass(cls, Exception) and cls.__module__ == "pmnc_hook":
            assert getattr(pmnc_hook, name, None) is cls, name  # importable where it says


def test_every_error_class_is_a_pmnc_hook_error():
    for name, cls in vars(_errors).items():
        if inspect.isclass(cls) and issubclass(cls, Exception) and not issubclass(cls, Warning):
            assert issubclass(cls, pmnc_hook.PmncHookError), name


def test_an_uncaught_failed_first_load_prints_the_public_class_name(tmp_path):
    write(tmp_path / "mods" / "bar.py", "X = 1 / 0\n")
    r = run_python(
        f"""
        import pmnc_hook
        from pmnc_hook import pmnc
        pmnc_hook.install([{str(tmp_path / "mods")!r}], watch=False)
        pmnc.bar
        """,
        cwd=tmp_path,
        timeout=60,
    )
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("pmnc_hook.ModuleLoadError: cannot load pmnc.bar: "), r.stderr
    assert f"{tmp_path / 'mods' / 'bar.py'}:1: ZeroDivisionError" in last
