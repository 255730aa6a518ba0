"""Reading module files (once, safely) and change detection by content: stat keys, racy files."""

from __future__ import annotations

import errno
import os
import time

import pytest
from conftest import wait_for, write

from pmnc_hook import PmncHookError
from pmnc_hook._errors import ModuleFileError, UnsafeModuleError
from pmnc_hook.reload.source import RACY_NS, Fingerprint, read_source, stat_key


def test_read_source_returns_bytes_key_and_hash(tmp_path):
    p = tmp_path / "m.py"
    p.write_bytes(b"x = 1\n")
    src = read_source(str(p))
    assert src is not None and src.data == b"x = 1\n"
    assert src.fingerprint.key == stat_key(str(p))
    assert len(src.fingerprint.digest) == 16


def test_missing_file_reads_as_none(tmp_path):
    assert read_source(str(tmp_path / "nope.py")) is None
    assert stat_key(str(tmp_path / "nope.py")) is None


def test_a_directory_is_not_a_module_file(tmp_path):
    assert stat_key(str(tmp_path)) is None


def test_fresh_key_is_racy_and_old_key_is_trusted(tmp_path):
    p = tmp_path / "m.py"
    p.write_bytes(b"x = 1\n")
    src = read_source(str(p))
    assert src is not None
    fp = src.fingerprint
    assert fp.racy()  # just written: a same-tick write could hide
    assert not fp.matches(stat_key(str(p)))
    later = Fingerprint(fp.key, fp.key.ctime_ns + RACY_NS + 1, fp.digest)
    assert not later.racy()
    assert later.matches(stat_key(str(p)))


def test_restored_mtime_still_changes_the_key(tmp_path):
    p = tmp_path / "m.py"
    p.write_bytes(b"x = 1\n")
    before = stat_key(str(p))
    assert before is not None
    # ctime ticks coarsely: let the clock pass the first write's tick, so the second write's
    # ctime is a later one (this is the premise of trusting keys at all).
    wait_for(lambda: time.time_ns() > before.ctime_ns + 50_000_000)
    p.write_bytes(b"x = 2\n")
    os.utime(p, ns=(before.mtime_ns, before.mtime_ns))
    after = stat_key(str(p))
    assert after is not None
    assert after.mtime_ns == before.mtime_ns and after.size == before.size
    assert after.ctime_ns > before.ctime_ns
    trusted = Fingerprint(before, before.ctime_ns + RACY_NS + 1, b"")  # old enough to trust
    assert trusted.matches(before)
    assert not trusted.matches(after)  # the restored mtime does not hide the write


# -- what read_source accepts, refuses and says ----------------------------------------------


def test_a_symlink_to_a_sibling_reads_the_sibling(tmp_path):
    write(tmp_path / "real.py", "X = 1\n")
    (tmp_path / "m.py").symlink_to("real.py")
    src = read_source(str(tmp_path / "m.py"))
    assert src is not None and src.data == b"X = 1\n"
    assert src.path == str(tmp_path / "m.py")
    assert src.fingerprint.key == stat_key(str(tmp_path / "real.py"))


def test_a_symlink_leading_outside_is_refused_naming_both_ends(tmp_path):
    outside = write(tmp_path / "elsewhere" / "m.py", "X = 1\n")
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "m.py").symlink_to(outside)
    with pytest.raises(UnsafeModuleError) as info:
        read_source(str(tmp_path / "mods" / "m.py"))
    assert isinstance(info.value, PmncHookError)
    message = str(info.value)
    assert str(tmp_path / "mods" / "m.py") in message and str(outside) in message
    assert "outside its module directory" in message


@pytest.mark.parametrize("kind", ["fifo", "directory", "loop"])
def test_a_name_that_is_no_regular_file_is_a_clear_error(tmp_path, kind):
    p = tmp_path / "m.py"
    if kind == "fifo":
        os.mkfifo(p)
    elif kind == "directory":
        p.mkdir()
    else:
        (tmp_path / "other.py").symlink_to("m.py")
        p.symlink_to("other.py")
    with pytest.raises(ModuleFileError) as info:
        read_source(str(p))
    assert isinstance(info.value, PmncHookError) and isinstance(info.value, OSError)
    assert info.value.filename == str(p)
    expected = {"fifo": "named pipe", "directory": "a directory", "loop": "symlink loop"}[kind]
    assert str(p) in str(info.value) and expected in str(info.value)


def test_a_dangling_symlink_reads_as_missing(tmp_path):
    (tmp_path / "m.py").symlink_to("gone.py")
    assert read_source(str(tmp_path / "m.py")) is None


def test_an_unreadable_file_says_so(tmp_path, monkeypatch):
    p = write(tmp_path / "m.py", "X = 1\n")
    real_open = os.open

    def denied(path, *args, **kwargs):
        if os.path.basename(os.fspath(path)) == "m.py":
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)  # as the kernel answers a user without read access
    with pytest.raises(ModuleFileError) as info:
        read_source(str(p))
    assert "cannot be read by this process (permission denied)" in str(info.value)
    assert str(p) in str(info.value)


def test_names_with_control_characters_are_shown_escaped(tmp_path):
    d = tmp_path / "mods\nFAKE LOG LINE"
    d.mkdir()
    os.mkfifo(d / "m.py")
    with pytest.raises(ModuleFileError) as info:
        read_source(str(d / "m.py"))
    assert "\n" not in str(info.value)
    assert repr(str(d / "m.py")) in str(info.value)


def test_any_other_os_error_is_the_librarys_error_naming_the_file(tmp_path):
    p = tmp_path / ("x" * 300 + ".py")  # longer than a file name may be
    with pytest.raises(ModuleFileError) as info:
        read_source(str(p))
    assert isinstance(info.value, PmncHookError) and isinstance(info.value.__cause__, OSError)
    assert str(info.value).startswith(f"cannot read {p}: ")
