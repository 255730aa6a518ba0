"""Issue 16: everything callable that ``pmnc.<stateful>`` hands out is tracked, so no update
made through it is lost during swaps; becoming stateful (or stateless) drains like any swap."""

from __future__ import annotations

from swapkit import run_scenario, write

KINDS = """\
import asyncio, functools, threading
VERSION = {v}

def _bump(kind, n=1):
    with LOCK:
        STATE[kind] = STATE.get(kind, 0) + n
    return VERSION

def add(n):
    return _bump("function", n)

add_partial = functools.partial(_bump, "partial")

@functools.lru_cache(maxsize=None)
def add_cached(i):
    return _bump("lru_cache")

class Adder:
    def __call__(self, n):
        return _bump("instance", n)

adder = Adder()

class Counted:
    def __init__(self):
        _bump("class")

    @classmethod
    def cm(cls):
        return _bump("classmethod")

    @staticmethod
    def sm():
        return _bump("staticmethod")

    def bump(self):
        return _bump("bound")

bound = Counted.__new__(Counted).bump

def gen(n):
    for i in range(n):
        _bump("generator")
        yield i

async def co():
    await asyncio.sleep(0)
    return _bump("coroutine")

async def agen():
    try:
        while True:
            try:
                value = yield VERSION
                if value:
                    _bump("asend", value)
            except ValueError:
                _bump("athrow")
    finally:
        _bump("aclose")

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is None:
        new_module.STATE, new_module.LOCK = {{}}, threading.Lock()
        return
    new_module.LOCK = old_module.LOCK
    with old_module.LOCK:  # a copy: an update landing in the old state after this is lost
        new_module.STATE = dict(old_module.STATE)
"""

DRIVE = """
import asyncio, itertools
unique = itertools.count()

def sync_round(acc, made, seen):
    # One call through each kind; returns after counting what it made.
    seen["function"].add(acc.add(1))
    seen["partial"].add(acc.add_partial(2))
    seen["lru_cache"].add(acc.add_cached(next(unique)))
    seen["instance"].add(acc.adder(3))
    acc.Counted()
    seen["classmethod"].add(acc.Counted.cm())
    seen["staticmethod"].add(acc.Counted.sm())
    seen["bound"].add(acc.bound())
    assert list(acc.gen(3)) == [0, 1, 2]
    for kind, n in (("function", 1), ("partial", 2), ("lru_cache", 1), ("instance", 3),
                    ("class", 1), ("classmethod", 1), ("staticmethod", 1), ("bound", 1),
                    ("generator", 3)):
        made[kind] += n

async def async_round(acc, made, seen):
    seen["coroutine"].add(await acc.co())
    g = acc.agen()
    seen["asend"].add(await g.asend(None))
    await g.asend(2)
    await g.athrow(ValueError)
    await g.aclose()
    for kind, n in (("coroutine", 1), ("asend", 2), ("athrow", 1), ("aclose", 1)):
        made[kind] += n
"""


def test_no_update_through_any_kind_of_callable_is_lost(tmp_path):
    write(tmp_path / "mods" / "acc.py", KINDS.format(v=1))
    run_scenario(
        tmp_path,
        helpers=DRIVE,
        code=f"""
        import collections
        KINDS = {KINDS!r}
        SYNC = ["function", "partial", "lru_cache", "instance", "class", "classmethod",
                "staticmethod", "bound", "generator"]

        def main():
            pmnc_hook.install([MODS], poll=3600, drain_timeout=10)
            stop = threading.Event()
            made = [collections.Counter() for _ in range(5)]
            seen = [collections.defaultdict(set) for _ in range(5)]
            def sync_worker(i):
                while not stop.is_set():
                    sync_round(pmnc.acc, made[i], seen[i])
            async def async_worker(i):
                while not stop.is_set():
                    await async_round(pmnc.acc, made[i], seen[i])
            async def loop_main():
                await asyncio.gather(*(async_worker(4) for _ in range(3)))
            threads = [started(sync_worker, f"sync {{i}}", i) for i in range(4)]
            threads.append(started(lambda: asyncio.run(loop_main()), "event loop"))
            wait_for(lambda: all(m for m in made), 10, "every worker calling")
            for n in range(2, 22):
                edit("acc", KINDS.format(v=n))
                assert pmnc_hook.refresh() == ["acc"]
                wait_for(lambda: pmnc.acc.VERSION == n, 20, f"version {{n}}")
            stop.set()
            joined(threads, 20, "workers")
            total = sum(made, collections.Counter())
            state = dict(pmnc.acc.STATE)
            lost = {{k: total[k] - state.get(k, 0) for k in total if total[k] != state.get(k, 0)}}
            print("made", dict(total))
            assert not lost, f"updates lost (made - counted) per kind: {{lost}}"
            for kind in set(SYNC) - {{"class", "generator"}} | {{"coroutine", "asend"}}:
                versions = set().union(*(s[kind] for s in seen))
                assert len(versions) >= 3, (kind, versions)
            assert version("acc") == 21
        """,
        timeout=90,
    )


GAINS_INIT = """\
import time
STATE = {{"n": 0}}
SC = __import__("builtins").SC

def add_slowly(times):
    SC["in_v1"].set()
    SC["release"].wait(10)  # in flight here until the new version's body runs
    for _ in range(times):  # still running old code while the swap would copy the state
        STATE["n"] += 1
        time.sleep(0.002)
"""
INIT_COPIES = """
SC["release"].set()  # the new body lets the call in flight go on, then the swap drains it

def pmnc_init(old_module, new_module, new_module_filename):
    new_module.STATE = dict(old_module.STATE) if old_module else {"n": 0}
"""


def test_first_swap_of_a_module_gaining_pmnc_init_drains_its_stateless_calls(tmp_path):
    write(tmp_path / "mods" / "m.py", GAINS_INIT.format())
    run_scenario(
        tmp_path,
        f"""
        V2 = {GAINS_INIT.format() + INIT_COPIES!r}

        def main():
            event("in_v1"); event("release")
            pmnc_hook.install([MODS], poll=3600, drain_timeout=10)
            t = started(lambda: pmnc.m.add_slowly(50), "a call into version 1")
            assert event("in_v1").wait(10)
            edit("m", V2)
            assert pmnc_hook.refresh() == ["m"]
            bounded(lambda: pmnc.m, 20, "the swap")
            joined([t], 10, "the call into version 1")
            assert pmnc_hook.status()["m"].stateful
            assert pmnc.m.STATE["n"] == 50, f"{{50 - pmnc.m.STATE['n']}} updates lost"
        """,
    )


FLIPS = """\
VERSION = {v}
STATE = {{"n": 0}}

def add(n):
    STATE["n"] += n
    return VERSION

def total():
    return STATE["n"]
"""
COPY = """
def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is not None:
        new_module.STATE = old_module.STATE
"""


def test_a_captured_function_follows_stateful_stateless_stateful(tmp_path):
    write(tmp_path / "mods" / "acc.py", FLIPS.format(v=1) + COPY)
    run_scenario(
        tmp_path,
        f"""
        FLIPS, COPY = {FLIPS!r}, {COPY!r}

        def main():
            pmnc_hook.install([MODS], poll=3600, drain_timeout=5)
            add = pmnc.acc.add  # captured once, as a caller would
            assert add(1) == 1 and pmnc.acc.total() == 1
            for v, stateful in ((2, False), (3, True), (4, False), (5, True)):
                edit("acc", FLIPS.format(v=v) + (COPY if stateful else ""))
                assert pmnc_hook.refresh() == ["acc"]
                before = pmnc.acc.total()
                assert pmnc_hook.status()["acc"].stateful is stateful
                assert add(1) == v, f"the captured function ran version {{add(0)}}, not {{v}}"
                assert pmnc.acc.total() == before + 1, "the update went to another version"
        """,
    )


GEN = """\
def gen(n):
    yield from range(n)

def pmnc_init(old_module, new_module, new_module_filename):
    pass
"""


def test_a_tracked_generator_called_while_another_thread_imports_asyncio(tmp_path):
    # asyncio half imported (in sys.modules, without its submodules yet) is no running loop.
    write(tmp_path / "mods" / "g.py", GEN)
    run_scenario(
        tmp_path,
        """
        class Pause:  # holds asyncio's import at its first submodule until told
            def find_spec(self, name, path=None, target=None):
                if name == "asyncio.base_events" and threading.current_thread().name == "importer":
                    event("paused").set()
                    assert event("go").wait(10), "never let go"
                return None

        def main():
            pmnc_hook.install([MODS], poll=3600)
            assert pmnc.g.gen  # loaded before: its first load imports what it needs
            assert "asyncio" not in sys.modules
            sys.meta_path.insert(0, Pause())
            importer = started(lambda: __import__("asyncio"), "importer")
            assert event("paused").wait(10), "asyncio's import never began"
            assert "asyncio" in sys.modules and not hasattr(sys.modules["asyncio"], "events")
            try:
                assert list(pmnc.g.gen(3)) == [0, 1, 2]
            finally:
                event("go").set()
            joined([importer], 10)
        """,
    )
