"""Issue 16: re-entrant calls, ``uninstall()`` during a build, a drain or a migration, and
``fork()`` at random moments never hang; children finish their own reloads."""

from __future__ import annotations

import pytest
from swapkit import run_scenario, write

SELFISH = """\
import asyncio
VERSION = {v}
SEEN_AT_BODY = pmnc.m.VERSION if VERSION > 1 else None  # its own old version

def total():
    return STATE["n"]

def gen(n):
    for i in range(n):
        STATE["n"] += 1
        yield i

async def edit_myself_then_call_myself(text):
    with open(__file__, "w") as f:
        f.write(text)
    __import__("pmnc_hook").refresh()
    pmnc.m  # builds the new version here, on the loop: it must not wait for this coroutine
    return await pmnc.m.echo(VERSION)

async def echo(value):
    await asyncio.sleep(0)
    return value

def pmnc_init(old_module, new_module, new_module_filename):
    new_module.STATE = old_module.STATE if old_module else {{"n": 0}}
    if old_module is not None:
        new_module.SEEN_IN_INIT = pmnc.m.total()  # its own new version, no wait
"""


def test_reentrant_bodies_inits_generators_and_coroutines(tmp_path):
    write(tmp_path / "mods" / "m.py", SELFISH.format(v=1))
    run_scenario(
        tmp_path,
        f"""
        import asyncio
        SELFISH = {SELFISH!r}

        def main():
            pmnc_hook.install([MODS], poll=3600, drain_timeout=30)
            assert pmnc.m.total() == 0
            # 1. a body and a pmnc_init reaching their own module
            edit("m", SELFISH.format(v=2))
            pmnc_hook.refresh()
            bounded(lambda: pmnc.m.total(), 10, "reload 2")
            assert pmnc.m.SEEN_AT_BODY == 1 and pmnc.m.SEEN_IN_INIT == 0
            # 2. a generator in flight on this thread while this thread reloads its module
            g = pmnc.m.gen(3)
            next(g)
            edit("m", SELFISH.format(v=3))
            pmnc_hook.refresh()
            t0 = time.monotonic()
            pmnc.m.total()  # this thread builds it (and resumed the generator: no wait)
            assert time.monotonic() - t0 < 5  # postponed, not a 30 s drain
            assert list(g) == [1, 2]
            wait_for(lambda: pmnc.m.VERSION == 3, 10, "version 3 once the generator ended")
            assert pmnc.m.total() == 3
            # 3. a coroutine editing its own module, then calling it, on one loop
            coro = pmnc.m.edit_myself_then_call_myself(SELFISH.format(v=4))
            assert bounded(lambda: asyncio.run(coro), 10, "reload 4 from its own coroutine") == 3
            wait_for(lambda: pmnc.m.VERSION == 4, 10, "version 4 after the coroutine")
            assert pmnc_hook.status()["m"].last_error is None
        """,
    )


HELD = """\
VERSION = {v}
SC = __import__("builtins").SC

def hold():
    SC["holding"].set()
    SC["release"].wait(20)
    return VERSION

def get():
    return VERSION

if VERSION > 1 and SC["where"] == "build":
    SC["at"].set()
    SC["go"].wait(20)

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is not None and SC["where"] == "migration":
        SC["at"].set()
        SC["go"].wait(20)
    if old_module is not None and SC["where"] == "inside":
        __import__("pmnc_hook").uninstall()
"""


@pytest.mark.parametrize("where", ["build", "drain", "migration", "inside"])
def test_uninstall_during_a_swap_never_hangs(tmp_path, where):
    write(tmp_path / "mods" / "m.py", HELD.format(v=1))
    run_scenario(
        tmp_path,
        f"""
        HELD, WHERE = {HELD!r}, {where!r}

        def main():
            for e in ("holding", "release", "at", "go"):
                event(e)
            SC["where"] = WHERE
            pmnc_hook.install([MODS], poll=3600, drain_timeout=30)
            assert pmnc.m.get() == 1
            threads = []
            if WHERE == "drain":
                threads.append(started(pmnc.m.hold, "a call in flight"))
                assert event("holding").wait(10)
            f = pmnc.m.get  # captured: its call does not build the set
            edit("m", HELD.format(v=2))
            assert pmnc_hook.refresh() == ["m"]
            threads.append(started(lambda: pmnc.m, "builder"))
            if WHERE == "drain":
                try:
                    from pmnc_hook._testing import phase
                    wait_for(lambda: phase("m") == "draining", 10, "draining")
                except ImportError:  # only for code without the seam (the old engine)
                    time.sleep(0.3)
                threads.append(started(f, "a caller waiting for the drain"))
            elif WHERE in ("build", "migration"):
                assert event("at").wait(10)
            t0 = time.monotonic()
            if WHERE != "inside":
                bounded(pmnc_hook.uninstall, 5, "uninstall")
            event("go").set()
            joined(threads[-2:] if WHERE == "drain" else threads, 5, "threads in the swap")
            event("release").set()
            joined(threads, 5, "every thread")
            assert time.monotonic() - t0 < 5  # not the 30 s drain timeout
            assert "pmnc_hook.modules.m" not in sys.modules  # nothing shows after uninstall
            # a new install works at once, with a clean gate
            edit("m", HELD.format(v=3))
            pmnc_hook.install([MODS], poll=3600, drain_timeout=30)
            SC["where"] = None
            assert bounded(lambda: pmnc.m.get(), 10, "after reinstall") == 3
            edit("m", HELD.format(v=4))
            assert pmnc_hook.refresh() == ["m"]
            assert bounded(lambda: pmnc.m.get(), 10, "a reload after reinstall") == 4
        """,
    )
