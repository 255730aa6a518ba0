"""The facade's hits stay ordinary instance attribute hits, which CPython 3.12+ specializes
(``LOAD_ATTR_INSTANCE_VALUE``), after first loads, reloads and dependents recorded while
bodies run: the facade's class is never switched and its ``__dict__`` never touched (either
costs the instance its inline values for good on 3.13+; every hit was then 2-2.7 times a
plain module attribute)."""

from __future__ import annotations

import sys

import pytest
from conftest import run_python, write

pytestmark = pytest.mark.skipif(
    sys.version_info < (3, 12), reason="3.11 never specializes a class with __getattr__"
)


def test_facade_hits_stay_specialized_after_loads_and_reloads(tmp_path):
    write(tmp_path / "mods" / "bar.py", "def f(x):\n    return x\n")
    write(tmp_path / "mods" / "baz.py", "V = pmnc.bar.f(1)\n")  # a dependent: recorded
    result = run_python(
        """
        import dis, io, os
        import pmnc_hook
        from pmnc_hook import pmnc
        pmnc_hook.install(["mods"], poll=3600)

        def hits():
            for _ in range(100):
                pmnc.bar.f(1)
                pmnc.baz.V

        def specialized():
            for _ in range(200):
                hits()
            out = io.StringIO()
            dis.dis(hits, adaptive=True, file=out)
            return sorted({
                line.split()[0] if line.split()[0].startswith("LOAD_ATTR") else line.split()[1]
                for line in out.getvalue().splitlines()
                if "(bar)" in line or "(baz)" in line
            })

        print("first", specialized())
        for n in range(2, 5):
            with open("mods/bar.py", "w") as f:
                f.write(f"def f(x):\\n    return x + {n}\\n")
            assert pmnc_hook.refresh() == ["bar"]
            assert pmnc.baz.V == 1 + n  # baz ran again: its read of bar was recorded
        print("reloaded", specialized())
        """,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert lines == {
        "first": "['LOAD_ATTR_INSTANCE_VALUE']",
        "reloaded": "['LOAD_ATTR_INSTANCE_VALUE']",
    }, result.stdout
