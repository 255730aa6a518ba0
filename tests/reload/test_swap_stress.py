"""Issue 16's stress run: 8 threads and 20 asyncio tasks calling two stateful modules that
call each other, 200+ reloads, forks at random moments (from a thread, and from inside
``pmnc_init``): no hang, no error, every update counted, in the parent and in every child.

``PMNC_HOOK_STRESS_RELOADS`` (default 40) sets the number of reloads: tox's py311 run sets
220 (about 100 s on 2 cores: with 9 busy threads each reload waits for its turns at the GIL),
a longer run is e.g. ``PMNC_HOOK_STRESS_RELOADS=3000``.
"""

from __future__ import annotations

import os

import pytest
from swapkit import MUTUAL, run_scenario, write

RELOADS = int(os.environ.get("PMNC_HOOK_STRESS_RELOADS", "40"))
DEADLINE = 60 + 1.5 * RELOADS

STRESS = """
import asyncio, collections
PARENT = os.getpid()
EPOCH = [0]  # publications so far (on_reload events)
FORKS = {"thread": 0, "init": 0}
PIDS = []

def child_main():
    # The only thread of a forked child: finish what is on its way, then work and reload.
    code = 1
    try:
        try:
            from pmnc_hook._testing import phase
        except ImportError:  # only for code without the seam (the old engine)
            phase = lambda: None  # noqa: E731
        before = (pmnc.a.total(), pmnc.b.total())
        for _ in range(50):
            pmnc.a.add(1, 1)
        assert (pmnc.a.total(), pmnc.b.total()) == (before[0] + 50, before[1] + 50)
        assert asyncio.run(pmnc.b.aadd(1)) >= 0
        wait_for(lambda: (pmnc.a, pmnc.b) and phase() is None, 10, "child's publications")
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

def fork(kind):
    # The modules' own locks (every version shares them): no child inherits them held.
    locks = [sys.modules["pmnc_hook.modules." + name].LOCK for name in "ab"]
    for lock in locks:
        lock.acquire()
    try:
        pid = os.fork()
    finally:
        for lock in locks:
            lock.release()
    if pid == 0:
        SC["child"] = True
        return
    PIDS.append(pid)
    FORKS[kind] += 1

def fork_here():  # called by every pmnc_init: fork in the middle of a migration, now and then
    if asyncio.events._get_running_loop() is not None:
        return  # not from an event loop's thread: asyncio breaks a loop forked while running
    if os.getpid() == PARENT and FORKS["init"] < 3 and random.random() < 0.03:
        fork("init")

def checkpoint():
    if os.getpid() != PARENT:
        child_main()

SC["after_init"] = fork_here
"""


@pytest.mark.timeout(DEADLINE + 30)
def test_stress_threads_tasks_mutual_calls_forks_and_reloads(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "a.py", MUTUAL.format(v=0, other="b"))
    write(mods / "b.py", MUTUAL.format(v=0, other="a"))
    result = run_scenario(
        tmp_path,
        helpers=STRESS,
        timeout=DEADLINE,
        code=f"""
        MUTUAL, RELOADS = {MUTUAL!r}, {RELOADS}

        def main():
            pmnc_hook.install([MODS], poll=3600, drain_timeout=10)
            pmnc_hook.on_reload(lambda event: EPOCH.__setitem__(0, EPOCH[0] + 1))
            assert pmnc.a.add(0) == 0 and pmnc.b.add(0) == 0
            stop = threading.Event()
            made = [collections.Counter() for _ in range(9)]
            overlapped = [0] * 9
            def worker(i):
                rnd = random.Random(i)
                while not stop.is_set():
                    name, other = rnd.choice((("a", "b"), ("b", "a")))
                    e0 = EPOCH[0]
                    getattr(pmnc, name).add(1, 1)  # and, from inside it, other.add(1)
                    checkpoint()
                    made[i][name] += 1
                    made[i][other] += 1
                    overlapped[i] += EPOCH[0] != e0
                    if rnd.random() < 0.05:
                        time.sleep(0.0001)  # lets the reloading thread have the GIL sooner
            async def task(j):
                rnd = random.Random(100 + j)
                while not stop.is_set():
                    name = rnd.choice("ab")
                    e0 = EPOCH[0]
                    await getattr(pmnc, name).aadd(1)
                    checkpoint()
                    made[8][name] += 1
                    overlapped[8] += EPOCH[0] != e0
            async def tasks():
                await asyncio.gather(*(task(j) for j in range(20)))
            def forker():
                rnd = random.Random(7)
                while not stop.is_set() and FORKS["thread"] < 8:
                    stop.wait(rnd.uniform(0.05, 0.4))
                    fork("thread")
                    checkpoint()
            threads = [started(worker, f"worker {{i}}", i) for i in range(8)]
            threads.append(started(lambda: asyncio.run(tasks()), "20 tasks"))
            threads.append(started(forker, "forker"))
            wait_for(lambda: all(sum(m.values()) for m in made), 10, "everyone calling")
            sys.setswitchinterval(0.0005)  # the reloading thread gets its turns sooner
            t0 = time.monotonic()
            for n in range(1, RELOADS + 1):
                names = ("a", "b", "ab")[n % 3]
                for name in names:
                    edit(name, MUTUAL.format(v=n, other="b" if name == "a" else "a"))
                assert pmnc_hook.refresh() == list(names)
                checkpoint()  # a child forked inside a pmnc_init run by this thread
                wait_for(lambda: all(getattr(pmnc, m).VERSION == n for m in names), 20,
                         f"reload {{n}}")
                checkpoint()
            took = time.monotonic() - t0
            stop.set()
            joined(threads, 20, "workers")
            codes = [reap(pid, 30) for pid in PIDS]
            total = sum(made, collections.Counter())
            counted = {{"a": pmnc.a.total(), "b": pmnc.b.total()}}
            st = pmnc_hook.status()
            print(f"{{RELOADS}} reloads in {{took:.1f}} s; calls {{dict(total)}}; "
                  f"overlapping a publication {{sum(overlapped)}}; forks {{FORKS}}; "
                  f"versions {{st['a'].version}}, {{st['b'].version}}")
            assert codes == [0] * len(codes), codes
            assert counted == dict(total), (counted, dict(total))
            assert FORKS["thread"] > 0
            assert all(overlapped), overlapped  # every worker and the loop overlapped them
            assert st["a"].last_error is None and st["b"].last_error is None
        """,
    )
    print(result.stdout)
