"""Change detection by content: stat keys, racy files, hashing."""

from __future__ import annotations

import os

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
    p.write_bytes(b"x = 2\n")
    os.utime(p, ns=(before.mtime_ns, before.mtime_ns))
    after = stat_key(str(p))
    assert after is not None
    assert after.mtime_ns == before.mtime_ns and after.size == before.size
    assert after != before or after.ctime_ns == before.ctime_ns  # ctime moved, or same tick
    # Either way a fingerprint taken at the first write cannot vouch for the new content:
    fp = Fingerprint(before, before.ctime_ns, b"")
    assert not fp.matches(after) or fp.racy()
