"""``--check`` on a directory holding a program: its ``pmnc.<name>`` uses are checked against
the module directories it installs, and PMNC006 names the directories searched, as the
runtime's error does (issue 13 item 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, clean_env, run_script, write

from pmnc_hook.check.files import check_paths

GREETING = "def greet(name):\n    return 'hello ' + name\n"


def rows(findings):
    return [(f.path.replace(os.sep, "/"), f.line, f.code) for f in findings]


def program(install: str, *, head: str = "", use: str = "pmnc.greeting.greet('x')") -> str:
    return (
        "import os\nimport sys\nfrom pathlib import Path\n\nimport pmnc_hook\n"
        f"from pmnc_hook import pmnc\n{head}\n\ndef main():\n"
        f"    with {install}:\n        print({use})\n\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )


@pytest.mark.parametrize(
    ("head", "install"),
    [
        ('MODULES = Path(__file__).resolve().parent / "modules"', "pmnc_hook.install([MODULES])"),
        ("", 'pmnc_hook.install([Path(__file__).parent / "modules"])'),
        ("", 'pmnc_hook.install(paths=(str(Path(__file__).parent.joinpath("modules")),))'),
        (
            "HERE = os.path.dirname(os.path.abspath(__file__))\n"
            'MODS = os.path.join(HERE, "modules")',
            "pmnc_hook.install([MODS])",
        ),
        ("from pmnc_hook import install as hook", 'hook(["modules"], strict=True)'),
    ],
)
def test_program_uses_are_checked_against_the_directories_it_installs(
    tmp_path, monkeypatch, head, install
):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app" / "modules" / "greeting.py", GREETING)
    write(tmp_path / "app" / "demo.py", program(install, head=head))
    assert rows(check_paths(["app"], environ={})) == []
    # a misspelt name is still found, and the message names where it was looked for
    write(tmp_path / "app" / "demo.py", program(install, head=head, use="pmnc.greetng.greet(1)"))
    (finding,) = check_paths(["app"], environ={})
    assert (finding.code, finding.path) == ("PMNC006", os.path.join("app", "demo.py"))
    searched = os.path.join("app", "modules")
    assert f"no file greetng.py in the module directories searched: {searched};" in (
        finding.message
    )


def test_modules_a_program_installs_are_checked_as_modules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app" / "demo.py", program('pmnc_hook.install(["modules", "more"])'))
    write(tmp_path / "app" / "modules" / "greeting.py", GREETING)
    write(tmp_path / "app" / "modules" / "cache.py", "C = {}\ndef put(k):\n    C[k] = 1\n")
    write(tmp_path / "app" / "more" / "user.py", "def f():\n    return pmnc.greeting, pmnc.nah\n")
    assert rows(check_paths(["app"], environ={})) == [
        ("app/modules/cache.py", 3, "PMNC003"),
        ("app/more/user.py", 2, "PMNC006"),
    ]
    (_, finding) = check_paths(["app"], environ={})
    searched = ", ".join(os.path.join("app", d) for d in ("modules", "more"))
    assert f"searched: {searched};" in finding.message


def test_program_whose_directories_are_computed_gets_no_pmnc006(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = program("pmnc_hook.install(sys.argv[1:])", head="import helper\nf = pmnc.anything.f")
    write(tmp_path / "app" / "demo.py", src)
    write(tmp_path / "app" / "helper.py", "x = 1\n")
    # what does not need them all is still reported: a direct import of a module beside it
    assert rows(check_paths(["app"], environ={})) == [
        ("app/demo.py", 7, "PMNC001"),
        ("app/demo.py", 8, "PMNC002"),
    ]


def test_library_file_below_is_checked_against_pmnc_hook_path(tmp_path, monkeypatch):
    """A file in a subdirectory that uses ``pmnc`` runs with the program's directories:
    ``PMNC_HOOK_PATH``'s when set; otherwise they are not known."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "shop" / "shop.py", "from store import invoice\nprint(invoice.total())\n")
    write(
        tmp_path / "shop" / "store" / "invoice.py",
        "from pmnc_hook import pmnc\n\ndef total():\n    return pmnc.rules.rate(), pmnc.rulez\n",
    )
    write(tmp_path / "shop" / "rules" / "rules.py", "def rate():\n    return 1\n")
    assert check_paths(["shop"], environ={}) == []
    env = {"PMNC_HOOK_PATH": str(tmp_path / "shop" / "rules")}
    (finding,) = check_paths(["shop"], environ=env)
    assert (finding.code, finding.line) == ("PMNC006", 4)
    assert f"searched: {os.path.join('shop', 'rules')};" in finding.message


def test_pmnc006_lists_every_directory_searched(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "mods" / "bar.py", "def f():\n    return pmnc.nosuch\n")
    write(tmp_path / "more" / "baz.py", "x = 1\n")
    (finding,) = check_paths(["mods", "more"], environ={})
    assert finding.message == (
        "pmnc.nosuch: pmnc has no module 'nosuch': no file nosuch.py in the module "
        "directories searched: mods, more; fix the name or create nosuch.py"
    )


def test_pmnc006_says_what_the_runtime_error_says(tmp_path, monkeypatch):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "def f():\n    return 1\n")
    script = f"""\
        import pmnc_hook
        from pmnc_hook import pmnc
        with pmnc_hook.install([{str(mods)!r}]):
            try:
                pmnc.nosuch
            except AttributeError as exc:
                print(exc)
        """
    result = run_script(tmp_path, script, timeout=60)
    assert result.returncode == 0, result.stderr
    runtime = result.stdout.strip()
    assert runtime.startswith("pmnc has no module 'nosuch'"), runtime
    write(mods / "user.py", "def f():\n    return pmnc.nosuch\n")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # paths outside the current directory print whole
    (finding,) = check_paths([str(mods)], environ={})
    assert f"pmnc.nosuch: {runtime};" in finding.message


def _example_dirs() -> list[Path]:
    return sorted(p for p in (REPO / "examples").iterdir() if p.is_dir())


@pytest.mark.parametrize("example", _example_dirs(), ids=lambda p: p.name)
def test_check_on_an_example_directory_alone_is_clean(example):
    """``python -m pmnc_hook --check examples/X``, with the environment its README gives."""
    env = clean_env()
    readme = example / "README.md"
    words = readme.read_text().split() if readme.exists() else []
    paths = [str(example.relative_to(REPO))]
    for word, following in zip(words, [*words[1:], ""]):
        if word.startswith("PMNC_HOOK_PATH="):
            env["PMNC_HOOK_PATH"] = str(REPO / word.split("=", 1)[1])
        elif word == "--path":  # the runner's form, from the example's directory or the root
            where = example / following if (example / following).is_dir() else REPO / following
            env["PMNC_HOOK_PATH"] = str(where)
            paths = [str(where), *map(str, sorted(example.glob("*.py")))]
    result = subprocess.run(
        [sys.executable, "-m", "pmnc_hook", "--check", *paths],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_pmnc006_says_what_a_name_is_when_it_is_no_module_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "mods" / "user.py", "def f():\n    return pmnc.utils, pmnc.pipe, pmnc.nah\n")
    write(tmp_path / "mods" / "utils" / "__init__.py", "x = 1\n")
    os.mkfifo(tmp_path / "mods" / "pipe.py")
    found = {f.message.split(":")[0]: f.message for f in check_paths(["mods"], environ={})}
    assert sorted(found) == ["pmnc.nah", "pmnc.pipe", "pmnc.utils"]
    utils = os.path.join("mods", "utils")
    assert f"searched: mods ({utils} is a directory); fix the name" in found["pmnc.utils"]
    pipe = os.path.join("mods", "pipe.py")
    assert f"searched: mods ({pipe} is not a regular file); fix" in found["pmnc.pipe"]
    assert "searched: mods; fix the name or create nah.py" in found["pmnc.nah"]
