"""A fork while another thread runs a ``pmnc_init``: the child never inherits a half-run
migration (whose thread it does not have). The fork waits for the migration to end (bounded
by ``drain_timeout``); a child forked anyway builds the change again on its own."""

from __future__ import annotations

from swapkit import run_scenario, write

# A stateful module whose pmnc_init waits (bounded) for SC["go"], holding SC["lock"] if set.
HELD = """\
import threading
VERSION = {v}
SC = __import__("builtins").SC

def get():
    return VERSION, STATE["n"]

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module is None:
        new_module.STATE = {{"n": 0}}
        return
    SC["in_init"].set()
    with SC.get("lock") or threading.Lock():
        SC["go"].wait(SC["hold"])
    new_module.STATE = {{"n": old_module.STATE["n"] + 1}}
"""

CHILD = """
def in_child(check):
    code = 1
    try:
        value = bounded(check, 10, "the child's call")
        print("child saw", value, flush=True)
        code = 0 if value == (2, 1) else 3
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

def start_migration():
    event("in_init"), event("go")
    edit("s", HELD.format(v=2))
    assert pmnc_hook.refresh() == ["s"]
    publisher = started(lambda: pmnc.s.get(), "publisher")  # builds, drains, runs pmnc_init
    assert event("in_init").wait(10), "pmnc_init never started"
    return publisher
"""


def test_fork_waits_for_another_threads_pmnc_init(tmp_path):
    write(tmp_path / "mods" / "s.py", HELD.format(v=1))
    run_scenario(
        tmp_path,
        helpers=CHILD,
        code=f"""
        HELD = {HELD!r}

        def main():
            pmnc_hook.install([MODS], poll=3600, drain_timeout=20)
            assert pmnc.s.get() == (1, 0)
            SC["hold"] = 2.0  # pmnc_init ends by itself; nothing in this thread lets it go
            publisher = start_migration()
            pid = os.fork()  # the migration ends first: the child has version 2, migrated
            if pid == 0:
                in_child(lambda: pmnc.s.get())
            assert reap(pid, 30) == 0
            joined([publisher], 10)
            assert pmnc.s.get() == (2, 1)
        """,
    )


def test_a_child_forked_during_a_migration_that_waits_for_it_builds_the_change_again(tmp_path):
    write(tmp_path / "mods" / "s.py", HELD.format(v=1))
    result = run_scenario(
        tmp_path,
        helpers=CHILD,
        code=f"""
        HELD = {HELD!r}

        def main():
            pmnc_hook.install([MODS], poll=3600, drain_timeout=1)
            assert pmnc.s.get() == (1, 0)
            SC["hold"], SC["lock"] = 20.0, threading.Lock()
            SC["lock"].acquire()  # the pmnc_init waits for this thread: the fork cannot wait
            publisher = start_migration()
            t0 = time.monotonic()
            pid = os.fork()
            if pid == 0:
                SC["lock"].release()  # this thread holds it here too
                SC["go"].set()
                in_child(lambda: pmnc.s.get())
            waited = time.monotonic() - t0
            SC["lock"].release()
            SC["go"].set()
            assert reap(pid, 30) == 0
            joined([publisher], 10)
            assert pmnc.s.get() == (2, 1)
            assert waited < 10, waited  # bounded by drain_timeout
        """,
    )
    assert "child saw (2, 1)" in result.stdout
    assert "the child builds s again" in result.stderr


FORKING = """\
import os
VERSION = {v}
SC = __import__("builtins").SC

def get():
    return VERSION, STATE["n"]

def pmnc_init(old_module, new_module, new_module_filename):
    new_module.STATE = {{"n": old_module.STATE["n"] + 1 if old_module else 0}}
    if old_module is not None:
        SC["pid"] = os.fork()  # from inside the migration: both go on with it
"""


def test_a_fork_from_inside_pmnc_init_finishes_the_publication_on_both_sides(tmp_path):
    write(tmp_path / "mods" / "s.py", FORKING.format(v=1))
    run_scenario(
        tmp_path,
        helpers=CHILD,
        code=f"""
        FORKING = {FORKING!r}

        def main():
            pmnc_hook.install([MODS], poll=3600, drain_timeout=20)
            assert pmnc.s.get() == (1, 0)
            edit("s", FORKING.format(v=2))
            assert pmnc_hook.refresh() == ["s"]
            value = pmnc.s.get()  # builds and publishes here: pmnc_init forks this thread
            if SC["pid"] == 0:
                in_child(lambda: (value, pmnc.s.get())[1] if value == (2, 1) else value)
            assert value == (2, 1) and pmnc.s.get() == (2, 1)
            assert reap(SC["pid"], 30) == 0
        """,
    )
