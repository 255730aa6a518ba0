"""Change-sets (issue 17): modules changed together are published whole, with dependents."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import pytest
from conftest import run_script, wait_for, write

import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook._testing import phase

pytestmark = pytest.mark.usefixtures("isolated")

COUNTED = """\
import builtins
builtins.RUNS = getattr(builtins, "RUNS", {{}})
builtins.RUNS[__name__.rsplit(".", 1)[-1]] = builtins.RUNS.get(__name__.rsplit(".", 1)[-1], 0) + 1
{body}
"""


def runs(name):
    import builtins

    return builtins.RUNS.get(name, 0)


@pytest.fixture(autouse=True)
def _reset_runs():
    import builtins

    builtins.RUNS = {}
    yield
    del builtins.RUNS


def install(moddir, **kw):
    kw.setdefault("watch", False)
    return pmnc_hook.install([str(moddir)], **kw)


def test_dependent_runs_again_with_the_new_value_and_a_call_time_reader_does_not(moddir):
    write(moddir / "config.py", "RATE = 1\n")
    write(moddir / "calc.py", COUNTED.format(body="RATE = pmnc.config.RATE\n"))
    write(moddir / "reader.py", COUNTED.format(body="def rate():\n    return pmnc.config.RATE\n"))
    install(moddir)
    assert pmnc.calc.RATE == 1 and pmnc.reader.rate() == 1
    st = pmnc_hook.status()
    assert st["calc"].depends_on == ("config",) and st["reader"].depends_on == ()
    assert pmnc_hook.generation() == 0  # first loads publish no new generation
    write(moddir / "config.py", "RATE = 2\n")
    assert pmnc_hook.refresh() == ["config"]
    assert pmnc.calc.RATE == 2  # run again, in the same change-set, with the new value
    assert pmnc.reader.rate() == 2
    assert (runs("calc"), runs("reader")) == (2, 1)
    st = pmnc_hook.status()
    assert (st["calc"].version, st["config"].version, st["reader"].version) == (2, 2, 1)
    assert st["calc"].generation == st["config"].generation == pmnc_hook.generation() == 1


def test_transitive_dependents_run_in_dependency_order(moddir):
    write(moddir / "base.py", "N = 1\n")
    write(moddir / "mid.py", "N = pmnc.base.N * 10\n")
    write(moddir / "top.py", "N = pmnc.mid.N + 1\n")
    install(moddir)
    assert pmnc.top.N == 11
    write(moddir / "base.py", "N = 2\n")
    pmnc_hook.refresh()
    assert pmnc.top.N == 21 and pmnc.mid.N == 20
    events = []
    pmnc_hook.on_reload(events.append)
    write(moddir / "base.py", "N = 3\n")
    pmnc_hook.refresh()
    assert pmnc.top.N == 31
    assert sorted(e.name for e in events) == ["base", "mid", "top"]
    assert {e.changeset for e in events} == {("base", "mid", "top")}
    assert {e.generation for e in events} == {pmnc_hook.generation()} == {2}


def test_frozen_dependent_is_not_run_again_and_logged_once(moddir, caplog):
    write(moddir / "config.py", "RATE = 1\n")
    write(moddir / "frozen.py", "__reloadable__ = False\nRATE = pmnc.config.RATE\n")
    install(moddir)
    assert pmnc.frozen.RATE == 1
    with caplog.at_level(logging.WARNING, logger="pmnc_hook"):
        for rate in (2, 3):
            write(moddir / "config.py", f"RATE = {rate}\n")
            pmnc_hook.refresh()
            assert pmnc.config.RATE == rate
    assert pmnc.frozen.RATE == 1
    said = [r for r in caplog.records if "frozen" in r.getMessage()]
    assert len(said) == 1 and "__reloadable__ = False" in said[0].getMessage()


def test_members_never_loaded_stay_unloaded(moddir):
    write(moddir / "a.py", "X = 1\n")
    write(moddir / "b.py", "X = 1\n")
    install(moddir)
    assert pmnc.a.X == 1
    write(moddir / "a.py", "X = 2\n")
    write(moddir / "b.py", "X = 2\n")
    assert pmnc_hook.refresh() == ["a"]
    assert pmnc.a.X == 2
    assert "b" not in pmnc_hook.status()


def test_broken_member_publishes_nothing_then_the_set_publishes_whole(moddir, caplog):
    write(moddir / "a.py", "def g():\n    return pmnc.b.f(1)\nV = 1\n")
    write(moddir / "b.py", "def f(x):\n    return x\nV = 1\n")
    install(moddir)
    assert pmnc.a.g() == 1
    events = []
    pmnc_hook.on_reload(events.append)
    write(moddir / "a.py", "def g():\n    return pmnc.b.f(1, 2)\nV = 2\n")
    write(moddir / "b.py", "def f(x, y):\n    return x + y\nV = 2\nBROKEN = (\n")
    with caplog.at_level(logging.ERROR, logger="pmnc_hook"):
        assert pmnc_hook.refresh() == ["a", "b"]
        assert pmnc.a.g() == 1 and (pmnc.a.V, pmnc.b.V) == (1, 1)  # nothing published
        assert pmnc.a.g() == 1  # and not retried on every access
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    message = errors[0].getMessage()
    assert "pmnc.b" in message and f"{moddir / 'b.py'}:4" in message and "a, b" in message
    st = pmnc_hook.status()
    assert isinstance(st["b"].last_error, SyntaxError) and st["a"].last_error is None
    assert pmnc_hook.generation() == 0
    assert sorted((e.name, e.ok) for e in events) == [("a", False), ("b", False)]
    assert {e.changeset for e in events} == {("a", "b")}
    write(moddir / "b.py", "def f(x, y):\n    return x + y\nV = 2\n")  # fixed: the set retries
    assert pmnc_hook.refresh() == ["a", "b"]
    assert pmnc.a.g() == 3 and (pmnc.a.V, pmnc.b.V) == (2, 2)
    assert pmnc_hook.generation() == 1
    assert pmnc_hook.status()["b"].last_error is None


@pytest.mark.parametrize("where", ["body", "pmnc_init", "directive"])
def test_any_failing_member_keeps_the_whole_old_generation(moddir, where):
    write(moddir / "a.py", "V = 1\n")
    init = "def pmnc_init(old_module, new_module, new_module_filename):\n    pass\n"
    write(moddir / "b.py", "V = 1\n" + init)
    install(moddir)
    assert pmnc.a.V == pmnc.b.V == 1
    broken = {
        "body": "V = 2\nraise RuntimeError('no')\n",
        "pmnc_init": "V = 2\ndef pmnc_init(old_module, new_module, new_module_filename):\n"
        "    raise RuntimeError('no')\n",
        "directive": "V = 2\n__reloadable__ = 'maybe'\n",
    }[where]
    write(moddir / "a.py", "V = 2\n")
    write(moddir / "b.py", broken)
    pmnc_hook.refresh()
    assert (pmnc.a.V, pmnc.b.V) == (1, 1)
    assert pmnc_hook.status()["b"].last_error is not None


def test_unit_in_flight_finishes_on_the_old_generation_and_a_waiting_unit_sees_the_new(moddir):
    write(moddir / "a.py", "V = 1\n")
    write(moddir / "b.py", "V = 1\n")
    install(moddir, drain_timeout=30)
    inside, release = threading.Event(), threading.Event()
    seen = {}

    def long_unit():
        with pmnc_hook.request():
            first = (pmnc.a.V, pmnc.b.V)
            inside.set()
            release.wait(20)
            seen["long"] = (first, (pmnc.a.V, pmnc.b.V), pmnc_hook.generation())

    def later_unit():
        with pmnc_hook.request():
            seen["later"] = ((pmnc.a.V, pmnc.b.V), pmnc_hook.generation())

    t = threading.Thread(target=long_unit)
    t.start()
    assert inside.wait(10)
    write(moddir / "a.py", "V = 2\n")
    write(moddir / "b.py", "V = 2\n")
    assert pmnc_hook.refresh() == ["a", "b"]
    builder = threading.Thread(target=lambda: pmnc.a)  # builds the set; cannot publish yet
    builder.start()
    wait_for(lambda: phase("a") == "draining")
    waiting = threading.Thread(target=later_unit)
    waiting.start()
    wait_for(lambda: waiting.is_alive() and phase("a") == "draining")
    assert "later" not in seen
    release.set()
    for thread in (t, waiting, builder):
        thread.join(10)
    assert seen["long"] == ((1, 1), (1, 1), 0)
    assert seen["later"] == ((2, 2), 1)


def test_units_past_the_drain_timeout_postpone_the_set_and_no_unit_fails(moddir, caplog):
    write(moddir / "a.py", "V = 1\n")
    install(moddir, drain_timeout=0.5)
    inside, release = threading.Event(), threading.Event()
    results = []

    def long_unit():
        with pmnc_hook.request():
            first = pmnc.a.V
            inside.set()
            release.wait(20)
            results.append((first, pmnc.a.V))

    t = threading.Thread(target=long_unit)
    t.start()
    assert inside.wait(10)
    write(moddir / "a.py", "V = 2\n")
    pmnc_hook.refresh()
    with caplog.at_level(logging.WARNING, logger="pmnc_hook"):
        builder = threading.Thread(target=lambda: pmnc.a)  # waits for the drain, in vain
        builder.start()
        wait_for(lambda: phase("a") == "draining")
        with pmnc_hook.request():  # waits at most until the deadline, then goes on
            assert pmnc.a.V == 1
        builder.join(10)
        assert not builder.is_alive()
    assert phase("a") == "postponed"
    assert [r.getMessage() for r in caplog.records if "drain timeout" in r.getMessage()]
    with pmnc_hook.request():  # postponed: the gate is open, nobody waits
        assert pmnc.a.V == 1
    release.set()
    t.join(10)
    assert results == [(1, 1)]
    wait_for(lambda: pmnc.a.V == 2)  # the last unit out published it


def test_unit_whose_own_access_builds_the_set_never_waits_for_itself(moddir):
    write(moddir / "a.py", "V = 1\n")
    install(moddir, drain_timeout=30)
    assert pmnc.a.V == 1
    write(moddir / "a.py", "V = 2\n")
    pmnc_hook.refresh()
    with pmnc_hook.request():
        assert pmnc.a.V == 1  # built here, published when this unit ends
        assert pmnc.a.V == 1
        with pmnc_hook.request():  # nested: the same unit
            assert pmnc.a.V == 1
    assert pmnc.a.V == 2


def test_request_decorates_sync_and_async_functions(moddir):
    write(moddir / "a.py", "V = 1\n")
    install(moddir)

    @pmnc_hook.request()
    def sync_unit():
        from pmnc_hook._testing import units_in_flight

        return units_in_flight()

    @pmnc_hook.request
    async def async_unit():
        from pmnc_hook._testing import units_in_flight

        return units_in_flight()

    assert sync_unit() == 1 and asyncio.run(async_unit()) == 1
    assert sync_unit.__name__ == "sync_unit"


def test_async_units_on_the_publishing_loop_never_deadlock(moddir):
    write(moddir / "a.py", "V = 1\nasync def get():\n    return V\n")
    write(moddir / "b.py", "V = 1\n")
    install(moddir, drain_timeout=30)

    async def unit(n, results):
        async with pmnc_hook.request():
            first = (pmnc.a.V, pmnc.b.V)
            await asyncio.sleep(0.001 * (n % 5))
            results.append((first, (pmnc.a.V, pmnc.b.V), await pmnc.a.get()))

    async def main():
        results = []
        tasks = [asyncio.ensure_future(unit(n, results)) for n in range(20)]
        await asyncio.sleep(0)
        write(moddir / "a.py", "V = 2\nasync def get():\n    return V\n")
        write(moddir / "b.py", "V = 2\n")
        pmnc_hook.refresh()
        tasks += [asyncio.ensure_future(unit(n, results)) for n in range(20)]
        await asyncio.wait_for(asyncio.gather(*tasks), 20)
        return results

    results = asyncio.run(main())
    assert len(results) == 40
    assert all(
        first == later == (v, v) and got == v for first, later, got in results for v in [first[0]]
    )
    assert (pmnc.a.V, pmnc.b.V) == (2, 2)


SIGNATURES = """\
import os, threading, time, traceback
import pmnc_hook
from pmnc_hook import pmnc
from pmnc_hook._testing import phase

MODS = {mods!r}

def write(name, text):
    tmp = os.path.join(MODS, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, os.path.join(MODS, name + ".py"))

def a_src(n):
    call = "pmnc.b.f(x)" if n % 2 == 0 else "pmnc.b.f(x, {{n}})".replace("{{n}}", str(n))
    return f"VERSION = {{n}}\\ndef g(x):\\n    return VERSION, {{call}}\\n"

def b_src(n):
    if n % 2 == 0:
        return f"VERSION = {{n}}\\ndef f(x):\\n    return VERSION\\n"
    return f"VERSION = {{n}}\\ndef f(x, y):\\n    assert y == VERSION\\n    return VERSION\\n"

write("a", a_src(0)); write("b", b_src(0))
pmnc_hook.install([MODS], watch=False, drain_timeout=10)
assert pmnc.a.g(1) == (0, 0)  # both loaded: a module first loaded later reads its file as is
stop = threading.Event()
stats = {{"units": 0, "errors": 0, "mixed": 0, "two_generations": 0, "during_pending": 0}}
lock = threading.Lock()

def worker():
    while not stop.is_set():
        pending = phase() is not None
        try:
            with pmnc_hook.request():
                gen = pmnc_hook.generation()
                va, vb = pmnc.a.g(1)
                vb2 = pmnc.b.VERSION
                time.sleep(0.0005)
                va2 = pmnc.a.VERSION
                gen2 = pmnc_hook.generation()
        except Exception:
            traceback.print_exc()
            with lock:
                stats["errors"] += 1
            continue
        with lock:
            stats["units"] += 1
            stats["mixed"] += not (va == vb == vb2 == va2)
            stats["two_generations"] += gen != gen2
            stats["during_pending"] += pending

threads = [threading.Thread(target=worker) for _ in range(6)]
for t in threads:
    t.start()
deadline = time.monotonic() + 60
for n in range(1, 31):
    write("a", a_src(n)); write("b", b_src(n))
    assert pmnc_hook.refresh() == ["a", "b"]
    while pmnc_hook.generation() < n:
        assert time.monotonic() < deadline, "not published"
        time.sleep(0.001)
stop.set()
for t in threads:
    t.join(20)
assert not any(t.is_alive() for t in threads)
print(stats)
assert stats["errors"] == 0 and stats["mixed"] == 0 and stats["two_generations"] == 0, stats
assert stats["units"] > 300 and stats["during_pending"] > 0, stats
print("ok")
"""


def test_signature_change_deployed_30_times_under_6_threads_of_units(tmp_path):
    mods = tmp_path / "mods"
    mods.mkdir()
    r = run_script(tmp_path, SIGNATURES.format(mods=str(mods)), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert r.stdout.strip().endswith("ok"), r.stdout


RELEASE = """\
import os, time
import pmnc_hook
from pmnc_hook import pmnc

ROOT = {root!r}
CURRENT = os.path.join(ROOT, "current")

def release(n):
    d = os.path.join(ROOT, f"r{{n}}")
    os.mkdir(d)
    for name in ("a", "b", "c"):
        with open(os.path.join(d, name + ".py"), "w") as f:
            f.write(f"V = {{n}}\\n")
    tmp = CURRENT + ".tmp"
    os.symlink(d, tmp)
    os.replace(tmp, CURRENT)

release(1)
pmnc_hook.install([CURRENT], drain_timeout=5)
assert (pmnc.a.V, pmnc.b.V, pmnc.c.V) == (1, 1, 1)
events = []
pmnc_hook.on_reload(events.append)
release(2)
deadline = time.monotonic() + 20
while not events:
    assert time.monotonic() < deadline, "release switch not seen"
    pmnc.a; pmnc.b; pmnc.c
    time.sleep(0.01)
assert (pmnc.a.V, pmnc.b.V, pmnc.c.V) == (2, 2, 2)
assert pmnc_hook.generation() == 1, pmnc_hook.generation()
assert {{e.changeset for e in events}} == {{("a", "b", "c")}}, events
assert {{e.generation for e in events}} == {{1}}
print("ok")
"""


def test_release_switch_is_published_as_one_generation(tmp_path):
    r = run_script(tmp_path, RELEASE.format(root=str(tmp_path)), timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "ok" in r.stdout


def test_module_opening_a_unit_inside_a_unit_and_a_stateful_call(moddir):
    write(
        moddir / "acc.py",
        "import pmnc_hook\nn = 0\ndef add():\n    global n\n    with pmnc_hook.request():\n"
        "        n += 1\n        return pmnc.other.V\n"
        "def pmnc_init(old_module, new_module, new_module_filename):\n"
        "    if old_module:\n        new_module.n = old_module.n\n",
    )
    write(moddir / "other.py", "V = 1\n")
    install(moddir, drain_timeout=30)
    with pmnc_hook.request():
        assert pmnc.acc.add() == 1
    write(moddir / "other.py", "V = 2\n")
    write(moddir / "acc.py", (moddir / "acc.py").read_text() + "# 2\n")
    pmnc_hook.refresh()
    with pmnc_hook.request():
        assert pmnc.acc.add() == 1  # built inside the unit: old generation until it ends
    assert pmnc.acc.add() == 2 and pmnc.acc.n == 3


def test_stale_dependent_loaded_while_the_set_was_built_runs_again(moddir):
    write(moddir / "config.py", "RATE = 1\n")
    write(
        moddir / "slow.py",
        "import builtins\nRATE = pmnc.config.RATE\n"
        "builtins.SLOW_IN.set()\nbuiltins.SLOW_GO.wait(20)\n",
    )
    write(moddir / "late.py", "RATE = pmnc.config.RATE\n")
    import builtins

    builtins.SLOW_IN, builtins.SLOW_GO = threading.Event(), threading.Event()
    builtins.SLOW_GO.set()
    install(moddir)
    assert pmnc.slow.RATE == 1
    builtins.SLOW_IN.clear()
    builtins.SLOW_GO.clear()
    write(moddir / "config.py", "RATE = 2\n")
    pmnc_hook.refresh()
    t = threading.Thread(target=lambda: pmnc.config)
    t.start()  # builds {config, slow}; slow's body waits
    assert builtins.SLOW_IN.wait(10)
    assert pmnc.late.RATE == 1  # first loaded now, against the published config
    builtins.SLOW_GO.set()
    t.join(10)
    wait_for(lambda: pmnc.late.RATE == 2)  # ran again once config 2 was published
    del builtins.SLOW_IN, builtins.SLOW_GO


def test_first_load_event_is_its_own_changeset(moddir):
    write(moddir / "a.py", "V = 1\n")
    install(moddir)
    events = []
    pmnc_hook.on_reload(events.append)
    assert pmnc.a.V == 1
    assert [(e.name, e.changeset, e.generation, e.ok) for e in events] == [("a", ("a",), 0, True)]
    assert os.path.basename(events[0].filename) == "a.py"
