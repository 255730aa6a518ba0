"""Issue 16: swaps that never deadlock, and bodies that never block callers.

Black-box scenarios in fresh interpreters (``swapkit``): each has a deadline and fails,
with every thread's stack, instead of hanging. Module code reaches the scenario's events as
``__import__("builtins").SC``.
"""

from __future__ import annotations

import pytest
from swapkit import run_scenario, write

MUTUAL = """\
VERSION = {v}

def f():
    return VERSION

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is None:
        return
    SC = __import__("builtins").SC
    # Both swaps reach pmnc_init at once, then each calls the other module.
    SC["init_{name}"].set()
    SC["init_{other}"].wait(2)
    SC["saw_{name}"] = pmnc.{other}.f()
"""

BODY_WAITS = """
SC = __import__("builtins").SC
SC["body_{name}"].set()
SC["go_{name}"].wait(10)
"""


def mutual(mods, name, other, v, body=""):
    write(mods / f"{name}.py", MUTUAL.format(name=name, other=other, v=v) + body)


@pytest.mark.parametrize("together", [True, False], ids=["one-changeset", "two-changesets"])
def test_mutual_pmnc_inits_reloaded_at_once_from_two_threads(tmp_path, together):
    mods = tmp_path / "mods"
    mutual(mods, "a", "b", 1)
    mutual(mods, "b", "a", 1)
    run_scenario(
        tmp_path,
        f"""
        TOGETHER = {together}
        A2 = {(MUTUAL.format(name="a", other="b", v=2) + BODY_WAITS.format(name="a"))!r}
        B2 = {MUTUAL.format(name="b", other="a", v=2)!r}

        def main():
            for e in ("init_a", "init_b", "body_a", "go_a"):
                event(e)
            pmnc_hook.install([MODS], poll=3600, drain_timeout=5)
            assert pmnc.a.f() == 1 and pmnc.b.f() == 1
            if TOGETHER:  # a `git pull` changing both: one refresh, two threads at once
                event("go_a").set()
                edit("a", A2)
                edit("b", B2)
                assert pmnc_hook.refresh() == ["a", "b"]
                barrier = threading.Barrier(2)
                def call(name):
                    barrier.wait(5)
                    getattr(pmnc, name).f()
                threads = [started(call, "call a", "a"), started(call, "call b", "b")]
            else:  # two change-sets whose pmnc_inits run at once on two threads
                edit("a", A2)
                assert pmnc_hook.refresh() == ["a"]
                threads = [started(lambda: pmnc.a.f(), "build a")]
                assert event("body_a").wait(10)
                edit("b", B2)
                assert "b" in pmnc_hook.refresh()
                threads.append(started(lambda: pmnc.b.f(), "build b"))
                event("go_a").set()
            joined(threads, 20, "the two callers")
            wait_for(lambda: pmnc.a.f() == 2 and pmnc.b.f() == 2, 20, "both published")
            print("versions", settled(["a", "b"]))  # dependents may run again, then stop
            st = pmnc_hook.status()
            assert st["a"].last_error is None and st["b"].last_error is None, st
            assert SC["saw_a"] in (1, 2) and SC["saw_b"] in (1, 2), SC
            bounded(lambda: (pmnc.a.f(), pmnc.b.f()), 2, "a later caller")
        """,
    )


READER = """\
VERSION = {v}
SC = __import__("builtins").SC
SC["a_body"].set()

def f():
    return VERSION

def hold():
    SC["holding"].set()
    SC["release"].wait(10)

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is None:
        return
    SC["in_init"].set()
    SC["go"].wait(10)
    new_module.READ = pmnc.b.VALUE
"""

CALLS_BACK = """\
VALUE = 2
SC = __import__("builtins").SC
SC["b_body"].set()
# A function obtained through pmnc earlier (f = pmnc.a.f), or pmnc.a.f itself.
CALLED_BACK = SC["a_f"]() if "a_f" in SC else pmnc.a.f()
"""


@pytest.mark.parametrize("how", ["one-changeset", "same-thread", "two-threads"])
def test_pmnc_init_reads_a_module_whose_new_body_calls_back(tmp_path, how):
    """a's pmnc_init reads pmnc.b; b's new body calls pmnc.a: in one change-set; b changed
    while a's pmnc_init runs (its read builds nothing); b built by a second thread while a
    drains (b's body calls a, then a's pmnc_init reads b while b's body still runs)."""
    mods = tmp_path / "mods"
    write(mods / "a.py", READER.format(v=1))
    write(mods / "b.py", "VALUE = 1\n")
    run_scenario(
        tmp_path,
        f"""
        HOW = {how!r}
        A2 = {READER.format(v=2)!r}
        B2 = {CALLS_BACK!r}

        def main():
            for e in ("in_init", "go", "b_body", "a_body", "holding", "release"):
                event(e)
            pmnc_hook.install([MODS], poll=3600, drain_timeout=5)
            assert pmnc.a.f() == 1 and pmnc.b.VALUE == 1
            event("a_body").clear()
            edit("a", A2)
            threads = []
            if HOW == "one-changeset":
                edit("b", B2)
                event("go").set()
                assert pmnc_hook.refresh() == ["a", "b"]
                threads.append(started(lambda: pmnc.a.f(), "reloading a"))
            elif HOW == "same-thread":
                assert pmnc_hook.refresh() == ["a"]
                threads.append(started(lambda: pmnc.a.f(), "reloading a"))
                assert event("in_init").wait(10)
                edit("b", B2)
                assert "b" in pmnc_hook.refresh()
                event("go").set()
            else:
                event("go").set()
                SC["a_f"] = pmnc.a.f
                threads.append(started(lambda: pmnc.a.hold(), "a call in flight"))
                assert event("holding").wait(10)
                assert pmnc_hook.refresh() == ["a"]
                threads.append(started(lambda: pmnc.a.f(), "reloading a"))  # drains
                assert event("a_body").wait(10)
                try:
                    from pmnc_hook._testing import phase
                    wait_for(lambda: phase("a") == "draining", 10, "a draining")
                except ImportError:  # only for code without the seam (the old engine)
                    time.sleep(0.3)
                edit("b", B2)
                assert "b" in pmnc_hook.refresh()
                threads.append(started(lambda: pmnc.b.VALUE, "reloading b"))
                assert event("b_body").wait(10)
                event("release").set()
            joined(threads, 20, "the reloading threads")
            wait_for(lambda: pmnc.b.VALUE == 2 and pmnc.a.f() == 2, 20, "both published")
            assert pmnc.b.CALLED_BACK in (1, 2)
            assert pmnc.a.READ in (1, 2)
            st = pmnc_hook.status()
            assert st["a"].last_error is None and st["b"].last_error is None, st
        """,
    )


POOL = """\
from concurrent.futures import ThreadPoolExecutor
VERSION = {v}

def f(i):
    return VERSION

if VERSION > 1:  # a thread pool at import, its threads using this very module through pmnc
    with ThreadPoolExecutor(4) as pool:
        SEEN = list(pool.map(lambda i: (pmnc.m.f(i), pmnc.m.VERSION), range(8)))
"""
INIT = """
def pmnc_init(old_module, new_module, new_module_filename):
    pass
"""


@pytest.mark.parametrize("stateful", [True, False], ids=["stateful", "stateless"])
def test_body_joining_threads_that_use_its_own_module(tmp_path, stateful):
    extra = INIT if stateful else ""
    write(tmp_path / "mods" / "m.py", POOL.format(v=1) + extra)
    run_scenario(
        tmp_path,
        f"""
        def main():
            pmnc_hook.install([MODS], poll=3600, drain_timeout=5)
            assert pmnc.m.f(0) == 1
            edit("m", {(POOL.format(v=2) + extra)!r})
            assert pmnc_hook.refresh() == ["m"]
            bounded(lambda: pmnc.m.f(0), 20, "reloading m")
            wait_for(lambda: pmnc.m.VERSION == 2, 10, "m published")
            assert pmnc.m.SEEN == [(1, 1)] * 8, pmnc.m.SEEN  # the old version served the pool
        """,
    )


SLOW_BODY = """\
VERSION = {v}

def f():
    return VERSION
if VERSION > 1:
    SC = __import__("builtins").SC
    SC["body"].set()
    __import__("time").sleep(3)
    SC["body_done"].set()
"""


def test_callers_are_served_the_old_version_while_a_body_runs(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "slow.py", SLOW_BODY.format(v=1) + INIT)
    write(mods / "plain.py", "VERSION = 1\ndef f():\n    return VERSION\n")
    run_scenario(
        tmp_path,
        f"""
        def main():
            event("body"); event("body_done")
            pmnc_hook.install([MODS], poll=3600, drain_timeout=5)
            stop = threading.Event()
            go = threading.Event()
            worst = {{}}
            during = {{"slow": 0, "plain": 0}}
            def caller(i, name):
                while not stop.is_set():
                    go.wait(10)
                    t0 = time.perf_counter()
                    getattr(pmnc, name).f()
                    took = time.perf_counter() - t0
                    if SC["body"].is_set() and not SC["body_done"].is_set():
                        worst[i] = max(worst.get(i, 0.0), took)
                        during[name] += 1
                    time.sleep(0.001)  # busy loops alone starve threads of the GIL for 1 s+
            threads = [started(caller, f"caller {{i}}", i, ("slow", "plain")[i % 2])
                       for i in range(6)]
            go.set()
            wait_for(lambda: pmnc.slow.f() and pmnc.plain.f(), 5)
            go.clear()  # the builder below, not a caller, runs the 3 s body
            edit("slow", {(SLOW_BODY.format(v=2) + INIT)!r})
            edit("plain", "VERSION = 2\\ndef f():\\n    return VERSION\\n")
            assert pmnc_hook.refresh() == ["plain", "slow"]
            builder = started(lambda: pmnc.slow, "builder")
            assert event("body").wait(10)
            go.set()
            joined([builder], 20, "the builder")
            wait_for(lambda: pmnc.slow.f() == 2 and pmnc.plain.f() == 2, 10, "published")
            stop.set()
            joined(threads, 10, "callers")
            print("max latency during the body", max(worst.values()), during)
            assert during["slow"] > 10 and during["plain"] > 10, during
            assert max(worst.values()) < 1.0, worst  # the body runs 3 s
        """,
    )
