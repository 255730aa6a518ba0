"""``pmnc.<name>`` with no loadable module: an AttributeError that says what is there instead."""

from __future__ import annotations

import errno
import os

import pytest
from conftest import write

import pmnc_hook
from pmnc_hook import PmncHookError, pmnc

pytestmark = pytest.mark.usefixtures("isolated")


def install(*dirs):
    return pmnc_hook.install([str(d) for d in dirs], poll=3600)


def unknown(name):
    """Return the message of the error ``pmnc.<name>`` raises (checking its classes)."""
    with pytest.raises(AttributeError) as info:
        getattr(pmnc, name)
    assert isinstance(info.value, PmncHookError)
    assert not hasattr(pmnc, name)
    return str(info.value)


def test_a_missing_name_lists_the_directories_searched(moddir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    install(moddir, other)
    message = unknown("nothing_here")
    assert message == (
        f"pmnc has no module 'nothing_here': no file nothing_here.py in the module directories "
        f"searched: {moddir}, {other}"
    )


@pytest.mark.parametrize(
    ("name", "make", "says"),
    [
        ("bar", lambda p: p.mkdir(), "is a directory, not a module file"),
        ("bar", os.mkfifo, "is a named pipe (FIFO), not a module file"),
        ("bar", lambda p: p.symlink_to("gone.py"), "is a dangling symlink (to gone.py,"),
        ("class", lambda p: write(p, "X = 1\n"), "'class' is a Python keyword"),
        ("a-b", lambda p: write(p, "X = 1\n"), "'a-b' is not a Python identifier"),
    ],
    ids=["directory", "fifo", "dangling", "keyword", "not-identifier"],
)
def test_a_name_that_is_there_but_no_module_file_says_what_it_is(moddir, name, make, says):
    make(moddir / f"{name}.py")
    install(moddir)
    message = unknown(name)
    assert says in message and str(moddir / f"{name}.py") in message, message
    assert f"module directories searched: {moddir}" in message
    assert "no file" not in message


def test_a_symlink_loop_says_so(moddir):
    (moddir / "bar.py").symlink_to("baz.py")
    (moddir / "baz.py").symlink_to("bar.py")
    install(moddir)
    message = unknown("bar")
    assert f"{moddir / 'bar.py'} is a symlink loop" in message


def test_a_directory_the_process_cannot_search_says_so(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    write(locked / "bar.py", "X = 1\n")
    install(locked)
    inside = str(locked) + os.sep

    def wrap(real):
        def denied(path, *args, **kwargs):  # as the kernel answers a user without x access
            if os.fspath(path).startswith(inside):
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return real(path, *args, **kwargs)

        return denied

    monkeypatch.setattr(os, "stat", wrap(os.stat))
    monkeypatch.setattr(os, "lstat", wrap(os.lstat))
    message = unknown("bar")
    assert f"{locked} cannot be searched by this process (permission denied)" in message


def test_an_unreadable_module_file_fails_its_load_saying_so(moddir, monkeypatch):
    import builtins

    p = write(moddir / "bar.py", "X = 1\n")
    install(moddir)
    real_open, real_builtin_open = os.open, builtins.open

    def denied(path):
        if os.path.basename(os.fspath(path)) == "bar.py":
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))

    def os_open(path, *args, **kwargs):
        denied(path)
        return real_open(path, *args, **kwargs)

    def builtin_open(path, *args, **kwargs):
        denied(path)
        return real_builtin_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(builtins, "open", builtin_open)
    with pytest.raises(pmnc_hook.ModuleLoadError) as info:
        pmnc.bar
    assert f"{p} cannot be read by this process (permission denied)" in str(info.value)


def test_names_with_control_characters_are_shown_escaped(tmp_path):
    mods = tmp_path / "mods\x1b[2K\rFAKE"
    mods.mkdir()
    install(mods)
    message = unknown("bar\nINFO forged log line")
    assert "\n" not in message and "\x1b" not in message and "\r" not in message
    assert repr(str(mods)) in message
    os.mkfifo(mods / "fifo.py")
    message = unknown("fifo")
    assert "\x1b" not in message and repr(str(mods / "fifo.py")) in message


def test_the_programs_own_script_says_it_is_the_script(moddir):
    app = write(moddir / "app.py", "X = 1\n")
    pmnc_hook.install([str(moddir)], poll=3600, _exclude=[str(app)])  # as the runner does
    message = unknown("app")
    assert f"{app} is the script being run (__main__), not a reloadable module" in message
