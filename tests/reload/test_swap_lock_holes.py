"""Issue 16's lock holes, looked for in the new code: concurrent checks of a module's file
against publications, warnings for frozen modules, and direct-import aliases."""

from __future__ import annotations

from swapkit import run_scenario, write

WRITE_ATOMICALLY = """
def write_atomically(name, text):
    tmp = path_of(name) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path_of(name))
"""


BODY_NOTES = """\
V = {n}
__import__("builtins").SC["bodies"].append(V)
"""


def test_concurrent_refreshes_publish_each_content_once(tmp_path):
    """Two threads refresh() in a loop while the file changes 300 times: a check that read the
    file just before a publication must not stage what was published (again), nor, staging
    late, an older content after a newer one (publications going backwards). Each content's
    body runs once; a module left on the facade while a set holds it is never rebuilt."""
    write(tmp_path / "mods" / "m.py", BODY_NOTES.format(n=0))
    run_scenario(
        tmp_path,
        helpers=WRITE_ATOMICALLY,
        code=f"""
        BODY_NOTES = {BODY_NOTES!r}
        event_module = "pmnc_hook.modules.m"

        def main():
            SC["bodies"] = []
            pmnc_hook.install([MODS], poll=3600)
            assert pmnc.m.V == 0
            published = []
            pmnc_hook.on_reload(lambda event: published.append(sys.modules[event_module].V))
            sys.setswitchinterval(1e-5)
            stop = threading.Event()
            def refresher():
                while not stop.is_set():
                    pmnc_hook.refresh()
            threads = [started(refresher, f"refresher {{i}}") for i in range(2)]
            for n in range(1, 301):
                write_atomically("m", BODY_NOTES.format(n=n))
                wait_for(lambda: pmnc.m.V == n, 10, f"V = {{n}} served")
            stop.set()
            joined(threads, 10, "refreshers")
            assert published == sorted(published), "a publication went back to older content"
            assert len(SC["bodies"]) == len(set(SC["bodies"])), "a content's body ran twice"
            sys.setswitchinterval(0.005)
            settled(["m"])
            st = pmnc_hook.status()["m"]
            assert st.version == 301, f"{{st.version - 301}} extra publications"
        """,
    )


def test_a_frozen_module_is_warned_about_once_per_content(tmp_path):
    write(tmp_path / "mods" / "frozen.py", "__reloadable__ = False\nV = 0\n")
    run_scenario(
        tmp_path,
        helpers=WRITE_ATOMICALLY,
        code="""
        import logging

        class Count(logging.Handler):
            def __init__(self):
                super().__init__()
                self.n = 0
            def emit(self, record):
                if "__reloadable__ = False" in record.getMessage():
                    self.n += 1

        def main():
            pmnc_hook.install([MODS], poll=3600)
            assert pmnc.frozen.V == 0
            counter = Count()
            logging.getLogger("pmnc_hook").addHandler(counter)
            sys.setswitchinterval(1e-6)
            barrier = threading.Barrier(4)
            def refresher():
                for _ in range(40):
                    barrier.wait(10)
                    pmnc_hook.refresh()
                    barrier.wait(10)
            threads = [started(refresher, f"refresher {i}") for i in range(3)]
            for n in range(1, 41):
                write_atomically("frozen", f"__reloadable__ = False\\nV = {n}\\n")
                barrier.wait(10)  # three refreshes at once see the same new content
                barrier.wait(10)
            joined(threads, 10, "refreshers")
            sys.setswitchinterval(0.005)
            assert pmnc.frozen.V == 0
            assert counter.n == 40, f"{counter.n} warnings for 40 contents"
        """,
    )


def test_direct_import_aliases_follow_publications(tmp_path):
    """``import m`` (warned) while m is published again and again: once the imports and the
    reloads stop, the name ``m`` in sys.modules is the version published last."""
    write(tmp_path / "mods" / "m.py", "V = 0\n")
    run_scenario(
        tmp_path,
        helpers=WRITE_ATOMICALLY,
        code="""
        import importlib, warnings

        def main():
            warnings.simplefilter("ignore", pmnc_hook.PmncHookWarning)
            sys.path.insert(0, MODS)
            pmnc_hook.install([MODS], poll=3600)
            assert pmnc.m.V == 0
            sys.setswitchinterval(1e-5)
            stop, imports = threading.Event(), [0]
            def importer():
                while not stop.is_set():
                    sys.modules.pop("m", None)
                    assert importlib.import_module("m").V >= 0
                    imports[0] += 1
            threads = [started(importer, "importer")]  # one: two would race in importlib
            for n in range(1, 201):
                write_atomically("m", f"V = {n}\\n")
                assert pmnc_hook.refresh() == ["m"]
                wait_for(lambda: pmnc.m.V == n, 10, f"V = {n} served")
            stop.set()
            joined(threads, 10, "importers")
            sys.setswitchinterval(0.005)
            assert imports[0] > 200, imports
            import m
            assert m.V == 200, f"import m gives V = {m.V} after V = 200 was published"
        """,
    )


def test_an_import_handed_a_version_just_before_a_publication_gets_the_new_one(tmp_path):
    """``import m`` is handed version 1 (the loader's create_module returns it); version 2 is
    published before the import system stores the module under ``m``: ``m`` is version 2."""
    write(tmp_path / "mods" / "m.py", "V = 1\n")
    run_scenario(
        tmp_path,
        code="""
        import warnings

        def pause_after_create_module(frame, what, arg):
            if what == "return" and frame.f_code.co_name == "create_module" and "m" in SC:
                SC["handed"].set()
                SC["published"].wait(10)

        def importer():
            sys.setprofile(pause_after_create_module)
            try:
                import m
            finally:
                sys.setprofile(None)
            return m

        def main():
            warnings.simplefilter("ignore", pmnc_hook.PmncHookWarning)
            sys.path.insert(0, MODS)
            pmnc_hook.install([MODS], poll=3600)
            assert pmnc.m.V == 1
            event("handed"); event("published")
            SC["m"] = True
            box = []
            t = started(lambda: box.append(importer()), "importer")
            assert event("handed").wait(10)
            edit("m", "V = 2\\n")
            assert pmnc_hook.refresh() == ["m"]
            assert pmnc.m.V == 2
            event("published").set()
            joined([t], 10, "importer")
            assert box[0].V == 2, "the import got version 1 after version 2 was published"
            assert sys.modules["m"].V == 2, "sys.modules['m'] is version 1"
        """,
    )
