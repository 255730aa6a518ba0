"""What docs/releases.md tells users to rely on, each as a black-box scenario in a fresh
interpreter: units of work waiting for a ready change-set instead of starving it, and the
rule for objects handed out by stateful modules."""

from __future__ import annotations

import pytest
from conftest import CHILD_WAIT_FOR, run_script

TWO_MODULES = r"""
import os, subprocess, sys, threading, time
from pathlib import Path
import pmnc_hook
from pmnc_hook import pmnc

mods = Path("mods")
mods.mkdir()
(mods / "b.py").write_text("def f(x, y):\n    return (x, y)\n")
(mods / "a.py").write_text("def g():\n    return pmnc.b.f(1, 2)\n")

def deploy(release):
    # a.g() calls pmnc.b.f(x, y); each release changes both: f gains or loses a parameter.
    # Like rsync or git: every file written aside first, then all renamed into place.
    extra = release % 2 == 1
    files = (
        ("b", f"def f(x, y{', z' if extra else ''}):\n    return ({release}, x, y)\n"),
        ("a", f"def g():\n    return pmnc.b.f(1, 2{', 3' if extra else ''}), {release}\n"),
    )
    for name, text in files:
        (mods / f"{name}.py.new").write_text(text)
    # By another process, as a deploy is: this one's busy threads would hold it back between
    # two renames (the GIL), longer than any settle window.
    renames = "; ".join(f"os.replace('mods/{n}.py.new', 'mods/{n}.py')" for n, _ in files)
    subprocess.run([sys.executable, "-c", "import os; " + renames], check=True, timeout=60)
"""


@pytest.mark.timeout(120)
def test_units_entering_while_a_set_is_ready_wait_for_it(tmp_path):
    # Six threads run units back to back, each unit long enough that at every moment some
    # unit is in flight. A published set needs a moment with none in flight: the units
    # entering while it is ready must wait, so that it comes within the drain timeout.
    result = run_script(
        tmp_path,
        CHILD_WAIT_FOR
        + TWO_MODULES
        + r"""
import logging
records = []
logging.getLogger("pmnc_hook").addHandler(logging.Handler())
logging.getLogger("pmnc_hook").handlers[-1].emit = records.append
pmnc_hook.install(["mods"], watch=False, drain_timeout=30.0)
pmnc.a.g()
stop = threading.Event()
errors, mixed, units, spanning = [], [], [0], [0]

def worker():
    while not stop.is_set():
        with pmnc_hook.request():
            first = pmnc_hook.generation()
            try:
                value = pmnc.a.g()
            except Exception as exc:
                errors.append(repr(exc))
            time.sleep(0.005)
            if pmnc_hook.generation() != first:
                mixed.append(first)
        units[0] += 1

threads = [threading.Thread(target=worker, daemon=True) for _ in range(6)]
for t in threads:
    t.start()
wait_for(lambda: units[0] >= 60, what="units running")
for release in range(1, 4):
    deploy(release)
    started = units[0]
    assert pmnc_hook.refresh() == ["a", "b"]
    wait_for(lambda r=release: pmnc_hook.generation() == r, timeout=15.0,
             what=f"release {release} published while units run")
    assert units[0] > started  # units kept going around the publication
stop.set()
for t in threads:
    t.join(10)
postponed = [r.getMessage() for r in records if "postpone" in r.getMessage()]
assert not errors and not mixed and not postponed, (errors[:3], mixed[:3], postponed[:3])
print("OK", units[0])
""",
        timeout=100,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


@pytest.mark.timeout(120)
def test_async_units_entering_while_a_set_is_ready_wait_for_it(tmp_path):
    # The same on an event loop: tasks run `async with request()` back to back.
    result = run_script(
        tmp_path,
        CHILD_WAIT_FOR
        + TWO_MODULES
        + r"""
import asyncio
pmnc_hook.install(["mods"], watch=False, drain_timeout=30.0)
pmnc.a.g()

async def main():
    stop = asyncio.Event()
    errors, mixed, units = [], [], [0]

    async def worker():
        while not stop.is_set():
            async with pmnc_hook.request():
                first = pmnc_hook.generation()
                try:
                    pmnc.a.g()
                except Exception as exc:
                    errors.append(repr(exc))
                await asyncio.sleep(0.005)
                if pmnc_hook.generation() != first:
                    mixed.append(first)
            units[0] += 1

    tasks = [asyncio.create_task(worker()) for _ in range(6)]
    while units[0] < 60:
        await asyncio.sleep(0.01)
    loop = asyncio.get_running_loop()
    for release in range(1, 4):
        deploy(release)
        assert await loop.run_in_executor(None, pmnc_hook.refresh) == ["a", "b"]
        deadline = loop.time() + 15.0
        while pmnc_hook.generation() != release:
            assert loop.time() < deadline, f"release {release} not published"
            await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert not errors and not mixed, (errors[:3], mixed[:3])
    print("OK", units[0])

asyncio.run(main())
""",
        timeout=100,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


HANDED_ON = r"""
import threading
from pathlib import Path
import pmnc_hook
from pmnc_hook import pmnc

Path("mods").mkdir()
SOURCE = '''
import threading
RELEASE = {release}

class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0

    def add(self):
        with self.lock:
            self.count += 1
        return RELEASE

tally = Tally()

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module:
        old_module.tally.__class__ = new_module.Tally  # its methods are the new ones now
        new_module.tally = old_module.tally  # the same object: nothing to copy, nothing lost
'''
Path("mods/tally.py").write_text(SOURCE.format(release=1))
pmnc_hook.install(["mods"], watch=False)
stop = threading.Event()
calls, releases, overlapped = [0] * 4, set(), [0]

def worker(i):
    while not stop.is_set():
        before = pmnc_hook.generation()
        releases.add(pmnc.tally.tally.add())
        calls[i] += 1
        if pmnc_hook.generation() != before:
            overlapped[0] += 1

threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(4)]
for t in threads:
    t.start()
wait_for(lambda: 1 in releases, what="release 1 called")
for release in range(2, 22):
    Path("mods/tally.py").write_text(SOURCE.format(release=release))
    pmnc_hook.refresh()
    wait_for(lambda r=release: pmnc.tally.RELEASE == r, what=f"release {release}")
    wait_for(lambda r=release: r in releases, what=f"release {release} called")
stop.set()
for t in threads:
    t.join(10)
assert pmnc.tally.tally.count == sum(calls), (pmnc.tally.tally.count, sum(calls))
assert releases == set(range(1, 22)), releases
assert overlapped[0] > 0  # calls were running on the object while versions were published
print("OK", sum(calls), "calls;", overlapped[0], "overlapped a publication")
"""


@pytest.mark.timeout(120)
def test_an_object_handed_out_keeps_every_update_when_pmnc_init_hands_it_on(tmp_path):
    # docs/releases.md: calls of a module-level object's methods are not tracked, so a
    # reload does not wait for them. pmnc_init hands the same object to the new version
    # (and gives it the new class), never a copy: then no update is lost, whatever runs.
    result = run_script(tmp_path, CHILD_WAIT_FOR + HANDED_ON, timeout=100)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout


@pytest.mark.timeout(120)
def test_two_files_renamed_together_are_one_change_set_under_load(tmp_path):
    # docs/releases.md: a cp, rsync or git checkout of several files is one change-set.
    result = run_script(
        tmp_path,
        CHILD_WAIT_FOR
        + TWO_MODULES
        + r"""
sets = []
pmnc_hook.on_reload(lambda event: sets.append((event.generation, event.changeset)))
pmnc_hook.install(["mods"])
pmnc.a.g()
stop = threading.Event()
errors, units = [], [0]

def worker():
    while not stop.is_set():
        with pmnc_hook.request():
            try:
                pmnc.a.g()
            except Exception as exc:
                errors.append(repr(exc))
        units[0] += 1

threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
for t in threads:
    t.start()
def served(release):
    with pmnc_hook.request():
        try:
            return pmnc.a.g()[1] == release
        except TypeError:
            return False

for release in range(1, 16):
    deploy(release)
    wait_for(lambda r=release: served(r), what=f"release {release}")
stop.set()
for t in threads:
    t.join(10)
split = sorted({s for s in sets if s[0] > 0 and s[1] != ("a", "b")})  # 0: first loads
assert not errors and not split, (len(errors), errors[:2], split[:4])
print("OK", units[0])
""",
        timeout=100,
    )
    assert result.returncode == 0, result.stdout + result.stderr
