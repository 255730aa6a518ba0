"""Many threads calling through pmnc while the module is rewritten hundreds of times."""

from __future__ import annotations

import sys
import threading

import pytest
from conftest import wait_for, write

import pmnc_hook
from pmnc_hook import pmnc

pytestmark = pytest.mark.usefixtures("isolated")

TEMPLATE = """\
A = {n}
def get():
    return A, B, C
{padding}
B = {n}
C = {n}
"""


def source(n: int) -> str:
    # Vary the size so half-written files would be detectable as torn versions.
    return TEMPLATE.format(n=n, padding="# pad\n" * (n % 7))


@pytest.mark.parametrize("mode", ["watch", "refresh"])
def test_readers_see_only_complete_versions_while_file_is_rewritten(moddir, mode):
    p = write(moddir / "bar.py", source(0))
    pmnc_hook.install([str(moddir)], poll=None if mode == "watch" else 3600)
    assert pmnc.bar.get() == (0, 0, 0)
    stop = threading.Event()
    errors: list[BaseException] = []
    torn: list[tuple[int, int, int]] = []
    calls = [0] * 8

    def reader(i: int) -> None:
        last = 0
        while not stop.is_set():
            try:
                a, b, c = pmnc.bar.get()
            except BaseException as exc:  # noqa: BLE001 - every error counts
                errors.append(exc)
                return
            if not a == b == c or a < last:
                torn.append((a, b, c))
            last = a
            calls[i] += 1

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)  # let the writer get the GIL back promptly after its I/O
    for t in threads:
        t.start()
    try:
        for n in range(1, 301):
            p.write_text(source(n))
            if mode == "refresh":
                assert pmnc_hook.refresh() == ["bar"]
                # Served here, unless a reader's access is building it: then as soon as it is
                # published (bodies never block callers).
                wait_for(lambda: pmnc.bar.A == n)
    finally:
        pmnc_hook.refresh()
        stop.set()
        for t in threads:
            t.join(30)
        sys.setswitchinterval(interval)
    assert not errors, errors[:3]
    assert not torn, torn[:3]
    assert all(calls), calls
    assert pmnc.bar.get() == (300, 300, 300)
    st = pmnc_hook.status()["bar"]
    assert st.last_error is None
    if mode == "refresh":
        assert st.version == 301
