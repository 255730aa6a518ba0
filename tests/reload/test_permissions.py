"""Directories above a module directory that let others rename it away (like StrictModes).

tmp_path's own ancestors may be anything (``/tmp`` is o+w+t, and a machine may have odder
ones): every assertion looks only at the paths this test made.
"""

from __future__ import annotations

import os
import stat

import pytest
from conftest import run_python, write

SCRIPT = """
import warnings
import pmnc_hook
from pmnc_hook import pmnc
hook = pmnc_hook.install([{mods!r}], poll=3600, strict={strict})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        pmnc.a.V; pmnc.b.V; pmnc.a.V
        print("loaded")
    except ImportError as exc:
        cause = type(exc.__cause__ or exc)
        print("refused:", type(exc).__name__, cause.__name__, exc)
for w in caught:
    if issubclass(w.category, pmnc_hook.PmncHookWarning):
        print("warning:", w.message)
"""


def chmod_add(path, bits):
    path.chmod(stat.S_IMODE(path.stat().st_mode) | bits)


def ours(lines, tmp_path):
    return [line for line in lines if str(tmp_path) in line]


def run(tmp_path, mods, strict):
    r = run_python(SCRIPT.format(mods=str(mods), strict=strict), cwd=tmp_path, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_a_directory_above_writable_by_others_warns_once_and_strict_refuses(tmp_path):
    exposed = tmp_path / "exposed"
    mods = exposed / "inner" / "mods"
    write(mods / "a.py", "V = 1\n")
    write(mods / "b.py", "V = 1\n")
    chmod_add(exposed, stat.S_IWOTH)
    out = run(tmp_path, mods, strict=False)
    assert "loaded" in out
    warnings = ours([line for line in out if line.startswith("warning:")], tmp_path)
    assert len(warnings) == 1, out  # once per path, though two modules loaded three times
    assert f"{exposed}, a directory above the module directory {mods}" in warnings[0]
    assert "without the sticky bit" in warnings[0] and f"chmod o-w {exposed}" in warnings[0]
    out = run(tmp_path, mods, strict=True)
    (refused,) = [line for line in out if line.startswith("refused:")]
    assert refused.startswith("refused: ModuleLoadError UnsafeModuleError cannot load pmnc.a:")
    assert str(exposed) in refused and "(refused in strict mode)" in refused


@pytest.mark.parametrize("what", ["directory", "file"])
def test_a_module_directory_or_file_writable_by_others_warns_once_and_strict_refuses(
    tmp_path, what
):
    mods = tmp_path / "mods"
    write(mods / "a.py", "V = 1\n")
    write(mods / "b.py", "V = 1\n")
    target = mods if what == "directory" else mods / "a.py"
    chmod_add(target, stat.S_IWOTH)
    out = run(tmp_path, mods, strict=False)
    assert "loaded" in out
    warnings = ours([line for line in out if line.startswith("warning:")], tmp_path)
    assert len(warnings) == 1, out  # once per path, though loaded twice
    assert str(target) in warnings[0] and "writable by other users" in warnings[0]
    out = run(tmp_path, mods, strict=True)
    (refused,) = [line for line in out if line.startswith("refused:")]
    assert str(target) in refused and "writable by other users" in refused


def test_a_sticky_directory_above_like_tmp_is_fine(tmp_path):
    sticky = tmp_path / "sticky"
    mods = sticky / "mods"
    write(mods / "a.py", "V = 1\n")
    write(mods / "b.py", "V = 1\n")
    chmod_add(sticky, stat.S_IWOTH | stat.S_ISVTX)
    for strict in (False, True):
        out = run(tmp_path, mods, strict=strict)
        assert "loaded" in out
        assert ours(out, tmp_path) == [], out


def test_ancestors_are_walked_along_the_given_path_and_the_real_one(tmp_path):
    from pmnc_hook.reload.permissions import exposed_ancestors

    exposed_real = tmp_path / "exposed_real"
    real_mods = exposed_real / "mods"
    real_mods.mkdir(parents=True)
    exposed_link_dir = tmp_path / "exposed_links"
    exposed_link_dir.mkdir()
    (exposed_link_dir / "mods").symlink_to(real_mods)
    for d in (exposed_real, exposed_link_dir):
        chmod_add(d, stat.S_IWOTH)
    found = [d for d in exposed_ancestors(str(exposed_link_dir / "mods")) if str(tmp_path) in d]
    # The symlink lives in exposed_links (it can be replaced); the directory in exposed_real.
    assert found == [str(exposed_link_dir), str(exposed_real)]
    chmod_add(exposed_link_dir, stat.S_ISVTX)
    found = [d for d in exposed_ancestors(str(exposed_link_dir / "mods")) if str(tmp_path) in d]
    assert found == [str(exposed_real)]


@pytest.mark.parametrize("what", ["directory", "file"])
def test_paths_with_control_characters_are_shown_escaped(tmp_path, what):
    mods = tmp_path / "mods\x1b[1A"
    write(mods / "a.py", "V = 1\n")
    write(mods / "b.py", "V = 1\n")
    chmod_add(mods if what == "directory" else mods / "a.py", stat.S_IWOTH)
    out = run(tmp_path, mods, strict=False)
    warnings = [line for line in out if line.startswith("warning:")]
    assert warnings and all("\x1b" not in line for line in warnings)
    assert any(repr(str(mods)) in line or repr(str(mods / "a.py")) in line for line in warnings)


def test_nothing_above_the_root_is_walked():
    from pmnc_hook.reload.permissions import exposed_ancestors

    assert exposed_ancestors(os.sep) == []
