"""``import pmnc_hook`` costs nothing; its public names resolve on first use, for mypy too."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import clean_env, run_python

import pmnc_hook

PUBLIC = [
    "DirectiveError", "Hook", "ModuleLoadError", "ModuleStatus", "PmncHookError",
    "PmncHookWarning", "ReloadEvent", "__version__", "install", "on_reload", "pmnc", "refresh",
    "status", "uninstall",
]  # fmt: skip


def test_all_lists_the_public_names():
    assert set(PUBLIC) <= set(pmnc_hook.__all__) <= set(dir(pmnc_hook))
    for name in pmnc_hook.__all__:
        assert hasattr(pmnc_hook, name), name


def test_importing_the_package_imports_nothing_else(tmp_path):
    r = run_python(
        """
        import json, sys
        before = set(sys.modules)
        import pmnc_hook
        package = sorted(set(sys.modules) - before)
        from pmnc_hook import pmnc
        facade = sorted(set(sys.modules) - before)
        print(json.dumps([package, facade, len(sys._current_frames())]))
        """,
        cwd=tmp_path,
    )
    package, facade, threads = json.loads(r.stdout)
    assert set(package) <= {"__future__", "pmnc_hook"}, package
    heavy = ("pmnc_hook._api", "watchdog", "logging", "importlib.metadata", "inspect", "typeguard")
    assert [m for m in facade if m.startswith(heavy)] == [] and threads == 1, facade


def test_every_public_name_resolves_to_its_definition(tmp_path):
    r = run_python(
        f"""
        import pmnc_hook
        from pmnc_hook._api import Hook, install, on_reload, refresh, status, uninstall
        from pmnc_hook._errors import (
            DirectiveError, ModuleLoadError, PmncHookError, PmncHookWarning,
        )
        from pmnc_hook.reload.events import ReloadEvent
        from pmnc_hook.reload.facade import pmnc
        from pmnc_hook.reload.registry import ModuleStatus
        defined = {{  # by name, so that lazy imports (3.15) are reified
            "Hook": Hook, "install": install, "on_reload": on_reload, "refresh": refresh,
            "status": status, "uninstall": uninstall, "DirectiveError": DirectiveError,
            "ModuleLoadError": ModuleLoadError, "PmncHookError": PmncHookError,
            "PmncHookWarning": PmncHookWarning, "ReloadEvent": ReloadEvent, "pmnc": pmnc,
            "ModuleStatus": ModuleStatus,
        }}
        assert sorted(defined) == sorted(n for n in {PUBLIC!r} if n != "__version__")
        for name, value in defined.items():
            assert getattr(pmnc_hook, name) is value, name
        namespace = {{}}
        exec("from pmnc_hook import *", namespace)
        assert sorted(n for n in namespace if n != "__builtins__") == sorted(pmnc_hook.__all__)
        print(pmnc_hook.__version__ == namespace["__version__"], pmnc_hook._api.__name__)
        """,
        cwd=tmp_path,
    )
    assert (r.stdout, r.stderr) == ("True pmnc_hook._api\n", "")


def test_unknown_names_are_attribute_errors():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        pmnc_hook.no_such_name  # noqa: B018
    with pytest.raises(AttributeError):
        pmnc_hook.__wrapped__  # noqa: B018
    assert not hasattr(pmnc_hook, "Pmnc")  # defined where pmnc is, but not public


def test_mypy_sees_the_public_names_types(tmp_path):
    pytest.importorskip("mypy")
    program = tmp_path / "use.py"
    program.write_text(
        textwrap.dedent(
            """
            import pmnc_hook
            from pmnc_hook import ModuleStatus, install, pmnc

            reveal_type(install)
            reveal_type(pmnc_hook.status)
            reveal_type(pmnc_hook.__version__)
            hook: pmnc_hook.Hook = install(".", poll="fast")
            """
        )
    )
    env = clean_env()
    env["MYPY_CACHE_DIR"] = str(tmp_path / ".mypy_cache")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", str(program)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = result.stdout.replace("builtins.", "")  # older mypy spells out builtins
    assert 'Revealed type is "def (paths:' in out and "-> pmnc_hook._api.Hook" in out, out
    assert "def () -> typing.Mapping[str, pmnc_hook." in out, out
    assert 'use.py:7: note: Revealed type is "str"' in out, out
    assert 'Argument "poll" to "install" has incompatible type "str"' in out, out
