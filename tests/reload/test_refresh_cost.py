"""The file system as modules meet it: encodings, permissions, scale. Black-box in fresh
interpreters where start-up matters. (Deployments as the watcher meets them: detect/.)"""

from __future__ import annotations

import os

import pytest
from conftest import write

import pmnc_hook
from pmnc_hook import ModuleLoadError, pmnc


@pytest.mark.usefixtures("isolated")
class TestEncodings:
    def test_coding_cookie_is_honoured(self, moddir):
        (moddir / "latin.py").write_bytes(b"# -*- coding: latin-1 -*-\nWORD = '\xe9t\xe9'\n")
        pmnc_hook.install([str(moddir)], poll=3600)
        assert pmnc.latin.WORD == "\u00e9t\u00e9"

    def test_utf8_bom_is_honoured(self, moddir):
        (moddir / "bom.py").write_bytes(b"\xef\xbb\xbfWORD = '\xc3\xa9'\n")
        pmnc_hook.install([str(moddir)], poll=3600)
        assert pmnc.bom.WORD == "\u00e9"

    def test_invalid_bytes_on_first_load_name_the_file(self, moddir):
        (moddir / "broken.py").write_bytes(b"WORD = '\xff\xfe'\n")
        pmnc_hook.install([str(moddir)], poll=3600)
        with pytest.raises(ModuleLoadError) as info:
            pmnc.broken
        assert str(moddir / "broken.py") in str(info.value)

    def test_invalid_bytes_on_reload_keep_the_old_version(self, moddir):
        p = moddir / "enc.py"
        p.write_bytes(b"# coding: ascii\nWORD = 'ok'\n")
        pmnc_hook.install([str(moddir)], poll=3600)
        assert pmnc.enc.WORD == "ok"
        p.write_bytes(b"# coding: ascii\nWORD = '\xe9'\n")
        assert pmnc_hook.refresh() == ["enc"]
        assert pmnc.enc.WORD == "ok"
        st = pmnc_hook.status()["enc"]
        assert st.version == 1 and isinstance(st.last_error, SyntaxError)


@pytest.mark.usefixtures("isolated")
def test_refresh_of_unchanged_modules_stats_and_does_not_read(moddir, monkeypatch):
    import pmnc_hook.reload.judge as registry
    import pmnc_hook.reload.source as source

    for i in range(300):
        write(moddir / f"m{i}.py", f"V = {i}\n")
    for i in range(300, 600):  # present but never loaded
        write(moddir / f"m{i}.py", f"V = {i}\n")
    pmnc_hook.install([str(moddir)], poll=3600)
    for i in range(300):
        assert getattr(pmnc, f"m{i}").V == i
    monkeypatch.setattr(source, "RACY_NS", 0)  # files just written are not "racy" here
    reads = []
    real = registry.read_source
    monkeypatch.setattr(registry, "read_source", lambda *a, **k: reads.append(a) or real(*a, **k))
    assert pmnc_hook.refresh() == []
    assert reads == []
    os.utime(moddir / "m7.py", (1, 1))  # stat differs: hashed, same content, not changed
    assert pmnc_hook.refresh() == []
    assert len(reads) == 1
    (moddir / "m8.py").write_text("V = 'eight'\n")
    assert pmnc_hook.refresh() == ["m8"]
    assert pmnc.m8.V == "eight"
