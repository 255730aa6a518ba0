"""The finder, black-box in fresh interpreters: ownership and direct imports."""

from __future__ import annotations

import sys

from conftest import run_python, write

# PYTHON_LAZY_IMPORTS=all (3.15): an import is reified, and so caught, at the name's first use.
LAZY_ALL = getattr(sys, "get_lazy_imports", lambda: "normal")() == "all"


def test_module_named_like_stdlib_stays_the_apps(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "time.py", "WHO = 'app'\n")
    write(mods / "json.py", "WHO = 'app json'\n")
    r = run_python(
        f"""
        import sys
        sys.path.insert(0, {str(mods)!r})
        import pmnc_hook
        from pmnc_hook import pmnc
        pmnc_hook.install([{str(mods)!r}], poll=60)
        import time
        assert time.__name__ == "time" and hasattr(time, "monotonic"), time
        assert pmnc.time.WHO == "app"
        assert pmnc.json.WHO == "app json"
        assert "time" in sys.builtin_module_names
        print("ok")
        """,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_direct_import_gets_managed_module_with_warning_at_importing_line(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "def f():\n    return 1\n")
    write(
        tmp_path / "user.py",
        """
        x = 1
        import bar
        """,
    )
    r = run_python(
        f"""
        import sys, warnings
        sys.path[:0] = [{str(mods)!r}, {str(tmp_path)!r}]
        import pmnc_hook
        from pmnc_hook import pmnc
        pmnc_hook.install([{str(mods)!r}], poll=60)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import user
            user.bar
        w = [c for c in caught if issubclass(c.category, pmnc_hook.PmncHookWarning)]
        assert len(w) == 1, caught
        print(w[0].filename, w[0].lineno)
        print("pmnc.bar" in str(w[0].message))
        assert user.bar is pmnc.bar, (user.bar, pmnc.bar)
        assert sys.modules["bar"] is pmnc.bar
        assert pmnc.bar.__spec__.name == "pmnc_hook.modules.bar"
        from bar import f
        assert f is pmnc.bar.f
        pmnc_hook.uninstall()
        assert "bar" not in sys.modules
        print("ok")
        """,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.split("\n")
    if LAZY_ALL:  # reified at ``user.bar``, in the program itself
        assert lines[0].startswith("<string> "), lines[0]
    else:
        assert lines[0] == f"{tmp_path / 'user.py'} 3"
    assert lines[1] == "True"
    assert lines[2] == "ok"


def test_direct_import_refused_in_strict_mode(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "X = 1\n")
    r = run_python(
        f"""
        import sys
        sys.path.insert(0, {str(mods)!r})
        import pmnc_hook
        pmnc_hook.install([{str(mods)!r}], poll=60, strict=True)
        try:
            import bar
        except ImportError as exc:
            print(isinstance(exc, pmnc_hook.PmncHookError), exc)
        else:
            print("imported")
        """,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("True")  # an ImportError that is also a PmncHookError
    assert "pmnc.bar" in r.stdout and "strict" in r.stdout


def test_module_not_on_sys_path_is_not_intercepted(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "X = 1\n")
    r = run_python(
        f"""
        import pmnc_hook
        pmnc_hook.install([{str(mods)!r}], poll=60)
        try:
            import bar
        except ModuleNotFoundError:
            print("not found, as in plain Python")
        """,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "not found" in r.stdout


def test_two_threads_first_loading_modules_that_need_each_other_do_not_deadlock(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "a.py", "import time\ntime.sleep(0.02)\nX = pmnc.b.Y\n")
    write(mods / "b.py", "import time\ntime.sleep(0.02)\nY = pmnc.a.X\n")
    r = run_python(
        f"""
        import threading
        import pmnc_hook
        from pmnc_hook import pmnc
        pmnc_hook.install([{str(mods)!r}], poll=60)
        outcomes = []
        def load(name):
            try:
                getattr(pmnc, name)
                outcomes.append("loaded")
            except pmnc_hook.ModuleLoadError as exc:
                text = str(exc)
                outcomes.append("cycle" if "cycle" in text else text)
        for _ in range(20):
            ts = [threading.Thread(target=load, args=(n,)) for n in ("a", "b")]
            for t in ts: t.start()
            for t in ts: t.join(20)
            assert not any(t.is_alive() for t in ts), "deadlock"
        print(sorted(set(outcomes)))
        """,
        cwd=tmp_path,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['cycle']"


def test_pickle_round_trip_through_namespace(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "things.py", "class Thing:\n    def __init__(self, v):\n        self.v = v\n")
    r = run_python(
        f"""
        import pickle
        import pmnc_hook
        from pmnc_hook import pmnc
        pmnc_hook.install([{str(mods)!r}], poll=60)
        data = pickle.dumps(pmnc.things.Thing(7))
        back = pickle.loads(data)
        assert type(back) is pmnc.things.Thing and back.v == 7
        print("ok")
        """,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr


def test_runpy_runs_a_managed_file_as_main_not_as_an_import(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "app.py", "import sys\nprint('main' if __name__ == '__main__' else __name__)\n")
    r = run_python(
        f"""
        import runpy, sys, warnings
        sys.path.insert(0, {str(mods)!r})
        import pmnc_hook
        pmnc_hook.install([{str(mods)!r}], poll=60)
        warnings.simplefilter("error")
        runpy.run_module("app", run_name="__main__")
        import importlib.util
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = importlib.util.find_spec("app")  # what tools see: the managed module
        print(type(spec.loader).__name__, spec.loader.get_code("app").co_filename)
        """,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "main"
    assert lines[1].endswith(str(mods / "app.py"))
