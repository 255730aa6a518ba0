"""Lossless state migration: quiescent swaps of stateful modules under concurrent calls."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import types

import pytest
from conftest import run_python, wait_for, write

import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook._testing import in_flight, phase

pytestmark = pytest.mark.usefixtures("isolated")

ACC = """\
import threading

def accumulate(x):
    global sum
    with lock:  # 3.9 loses `sum += x` updates across threads even without reloads
        sum += x

def total():
    return sum

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module:
        new_module.sum = old_module.sum
        new_module.lock = old_module.lock
    else:
        new_module.sum = 0
        new_module.lock = threading.Lock()
# version {n}
"""




def test_stateless_modules_are_plain_modules_and_stateful_ones_tracked(moddir):
    write(moddir / "plain.py", "def f():\n    return 1\n")
    write(moddir / "acc.py", ACC.format(n=0))
    pmnc_hook.install([str(moddir)], poll=3600)
    assert type(pmnc.plain) is types.ModuleType
    assert type(pmnc.acc) is not types.ModuleType
    assert pmnc.acc.__name__ == "pmnc_hook.modules.acc"
    pmnc.acc.accumulate(2)
    assert pmnc.acc.sum == 2 and pmnc.acc.total() == 2
    assert pmnc.acc.accumulate.__name__ == "accumulate"
    assert "accumulate" in dir(pmnc.acc)


def test_no_update_is_lost_with_8_threads_and_50_reloads(moddir):
    p = write(moddir / "acc.py", ACC.format(n=0))
    pmnc_hook.install([str(moddir)], poll=3600)
    pmnc.acc.total()
    per_thread = 3000
    errors = []
    start = threading.Barrier(9)

    def caller():
        start.wait()
        try:
            for _ in range(per_thread):
                pmnc.acc.accumulate(1)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    start.wait()
    reloads = 0
    for n in range(1, 51):
        p.write_text(ACC.format(n=n))
        assert pmnc_hook.refresh() == ["acc"]
        pmnc.acc.total()  # the swap happens here, while the callers keep calling
        reloads += 1
    for t in threads:
        t.join(60)
    assert not errors, errors[:3]
    assert pmnc.acc.total() == 8 * per_thread
    st = pmnc_hook.status()["acc"]
    assert st.version == 51 and st.stateful and st.last_error is None


def test_drain_timeout_postpones_and_old_version_keeps_serving(moddir, tmp_path, caplog):
    runs = tmp_path / "runs"
    source = f"""\
with open({str(runs)!r}, "a") as f:
    f.write("body v{{v}}\\n")

def hold(event):
    event.wait(30)
    return "v{{v}}"

def version():
    return "v{{v}}"

def pmnc_init(old_module, new_module, new_module_filename):
    pass
"""
    p = write(moddir / "slow.py", source.format(v=1))
    pmnc_hook.install([str(moddir)], poll=3600, drain_timeout=0.2)
    release = threading.Event()
    held = []
    t = threading.Thread(target=lambda: held.append(pmnc.slow.hold(release)))
    t.start()
    wait_for(lambda: in_flight("slow"))
    p.write_text(source.format(v=2))
    assert pmnc_hook.refresh() == ["slow"]
    with caplog.at_level(logging.WARNING, logger="pmnc_hook"):
        assert pmnc.slow.version() == "v1"  # drain timed out: old version serves
    assert any("drain timeout" in r.getMessage() for r in caplog.records)
    assert pmnc_hook.status()["slow"].version == 1
    for _ in range(5):  # no caller is failed, none stalls a drain timeout again
        assert pmnc.slow.version() == "v1"
    release.set()
    t.join(10)
    assert held == ["v1"]
    assert wait_for(lambda: pmnc.slow.version() == "v2")
    assert pmnc_hook.status()["slow"].version == 2
    assert runs.read_text() == "body v1\nbody v2\n"  # the new body ran once


def test_async_call_in_flight_delays_the_swap(moddir):
    p = write(
        moddir / "aio.py",
        """\
order = []
async def work(event):
    await event.wait()
    order.append("work done")

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module:
        old_module.order.append("init")
        new_module.order = old_module.order
# v1
""",
    )
    pmnc_hook.install([str(moddir)], poll=3600, drain_timeout=30)
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever)
    loop_thread.start()
    try:
        event = asyncio.Event() if hasattr(asyncio, "Runner") else None
        holder = {}

        async def start():
            holder["event"] = asyncio.Event()
            holder["task"] = asyncio.ensure_future(pmnc.aio.work(holder["event"]))

        asyncio.run_coroutine_threadsafe(start(), loop).result(10)
        wait_for(lambda: in_flight("aio"))
        p.write_text(p.read_text() + "# v2\n")
        pmnc_hook.refresh()
        swapper = threading.Thread(target=lambda: pmnc.aio)
        swapper.start()
        wait_for(lambda: phase("aio") == "draining")
        assert pmnc_hook.status()["aio"].version == 1
        loop.call_soon_threadsafe(holder["event"].set)
        swapper.join(30)
        assert not swapper.is_alive()
        assert pmnc.aio.order == ["work done", "init"]
        assert pmnc_hook.status()["aio"].version == 2
        del event
    finally:
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join(10)
        loop.close()


def test_single_threaded_event_loop_never_waits_for_its_own_coroutines(moddir):
    p = write(
        moddir / "aio.py",
        """\
async def work(event):
    await event.wait()
    return VERSION

VERSION = 1

def pmnc_init(old_module, new_module, new_module_filename):
    pass
""",
    )
    pmnc_hook.install([str(moddir)], poll=3600, drain_timeout=30)

    async def main():
        event = asyncio.Event()
        task = asyncio.ensure_future(pmnc.aio.work(event))
        await asyncio.sleep(0)  # let it start and count itself in
        p.write_text(p.read_text().replace("VERSION = 1", "VERSION = 2"))
        assert pmnc_hook.refresh() == ["aio"]
        started = time.monotonic()
        assert pmnc.aio.VERSION == 1  # postponed: its own coroutine is in flight
        waited = time.monotonic() - started
        event.set()
        result = await task
        return waited, result, pmnc.aio.VERSION

    waited, result, after = asyncio.run(main())
    assert waited < 5  # far below the 30 s drain timeout
    assert result == 1 and after == 2


REENTRANT = """\
import threading, os

def accumulate(x):
    global sum
    with lock:
        sum += x
    return pmnc.{name}.total()  # re-entrant call through pmnc

def total():
    return sum

def reload_myself():
    path = __file__
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text + "# self edit\\n")
    import pmnc_hook
    pmnc_hook.refresh()
    return pmnc.{name}.total()  # triggers its own reload while in flight

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module:
        new_module.sum = old_module.sum
        new_module.lock = old_module.lock
    else:
        new_module.sum = 0
        new_module.lock = threading.RLock()
"""


def test_reentrant_cases_never_deadlock(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "acc.py", REENTRANT.format(name="acc"))
    write(
        mods / "ping.py",
        "def ping(n):\n    return n if n <= 0 else pmnc.pong.pong(n - 1)\n"
        "def pmnc_init(old_module, new_module, new_module_filename):\n    pass\n",
    )
    write(
        mods / "pong.py",
        "def pong(n):\n    return n if n <= 0 else pmnc.ping.ping(n - 1)\n"
        "def pmnc_init(old_module, new_module, new_module_filename):\n    pass\n",
    )
    r = run_python(
        f"""
        import threading, time
        import pmnc_hook
        from pmnc_hook import pmnc
        pmnc_hook.install([{str(mods)!r}], poll=3600, drain_timeout=2)
        # 1. a module calling itself through pmnc while reloads happen
        stop = threading.Event()
        def call_acc():
            while not stop.is_set():
                pmnc.acc.accumulate(1)
        def call_ping():
            while not stop.is_set():
                pmnc.ping.ping(6)
        def call_pong():
            while not stop.is_set():
                pmnc.pong.pong(6)
        threads = [threading.Thread(target=f) for f in (call_acc, call_acc, call_ping, call_pong)]
        for t in threads: t.start()
        for i in range(15):
            for name in ("acc", "ping", "pong"):
                path = {str(mods)!r} + "/" + name + ".py"
                with open(path, "a") as f:
                    f.write(f"# edit {{i}}\\n")
            pmnc_hook.refresh()
            pmnc.acc.total(); pmnc.ping; pmnc.pong
        stop.set()
        for t in threads: t.join(30)
        assert not any(t.is_alive() for t in threads)
        st = pmnc_hook.status()
        print("versions", st["acc"].version, st["ping"].version, st["pong"].version)
        # 2. a module triggering its own reload from inside a call
        before = st["acc"].version
        pmnc.acc.reload_myself()
        pmnc.acc.total()
        assert pmnc_hook.status()["acc"].version == before + 1
        print("ok")
        """,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().endswith("ok")
    versions = [int(v) for v in r.stdout.split()[1:4]]
    assert all(v >= 2 for v in versions), r.stdout


THING = "\nclass Thing:\n    def get(self):\n        return sum\n"


def test_lingering_versions_are_reported_until_released(moddir):
    p = write(moddir / "acc.py", ACC.format(n=0) + THING)
    q = write(moddir / "plain.py", "def f():\n    return 1\n")
    pmnc_hook.install([str(moddir)], poll=3600)
    thing = pmnc.acc.Thing()
    raw_f = pmnc.plain.f
    p.write_text(ACC.format(n=1) + THING)
    q.write_text("def f():\n    return 2\n")
    assert pmnc_hook.refresh() == ["acc", "plain"]
    pmnc.acc.total()
    pmnc.plain.f()
    st = pmnc_hook.status()
    assert st["acc"].lingering == (1,)
    assert st["plain"].lingering == (1,)
    assert raw_f() == 1  # a captured reference keeps running the version it came from
    del thing, raw_f
    gc.collect()
    st = pmnc_hook.status()
    assert st["acc"].lingering == () and st["plain"].lingering == ()


def test_wrapper_captured_through_pmnc_follows_the_current_version(moddir):
    p = write(moddir / "acc.py", ACC.format(n=0))
    pmnc_hook.install([str(moddir)], poll=3600)
    acc = pmnc.acc.accumulate
    acc(3)
    p.write_text(ACC.format(n=1))
    pmnc_hook.refresh()
    pmnc.acc.total()
    acc(4)
    assert pmnc.acc.total() == 7
    assert pmnc_hook.status()["acc"].lingering == ()


def test_failing_pmnc_init_keeps_old_version_and_state(moddir):
    p = write(moddir / "acc.py", ACC.format(n=0))
    pmnc_hook.install([str(moddir)], poll=3600)
    pmnc.acc.accumulate(5)
    p.write_text(ACC.format(n=1).replace("new_module.sum = old_module.sum", "1 / 0"))
    pmnc_hook.refresh()
    pmnc.acc.accumulate(1)
    assert pmnc.acc.total() == 6
    st = pmnc_hook.status()["acc"]
    assert st.version == 1 and isinstance(st.last_error, ZeroDivisionError)


def test_function_dropped_by_a_new_version_is_a_clear_error(moddir):
    p = write(moddir / "acc.py", ACC.format(n=0) + "\ndef extra():\n    return 1\n")
    pmnc_hook.install([str(moddir)], poll=3600)
    extra = pmnc.acc.extra
    assert extra() == 1
    p.write_text(ACC.format(n=1))
    pmnc_hook.refresh()
    pmnc.acc.total()
    with pytest.raises(AttributeError, match=r"pmnc\.acc\.extra no longer exists"):
        extra()
