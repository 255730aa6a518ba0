"""The static checker over files: which files, as what, against which module directories;
the command line (output formats, exit codes); the repository's own examples."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, write

from pmnc_hook.check.files import check_paths, main
from pmnc_hook.check.findings import CODES


def run_check(*args: str, cwd: Path, env: dict[str, str] | None = None, via: str = "_check"):
    full_env = dict(os.environ)
    full_env.pop("PMNC_HOOK_PATH", None)
    full_env["PYTHONDONTWRITEBYTECODE"] = "1"
    full_env.update(env or {})
    command = ["-m", "pmnc_hook.check"] if via == "_check" else ["-m", "pmnc_hook", "--check"]
    return subprocess.run(
        [sys.executable, *command, *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


# -- files and directories ------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    """A module directory with one finding of each kind, a program, and skipped directories."""
    mods = tmp_path / "mods"
    write(mods / "bar.py", "def f():\n    return 1\n")
    write(mods / "baz.py", "import bar\n")
    write(mods / "state.py", "CACHE = {}\n\ndef put(k, v):\n    CACHE[k] = v\n")
    write(mods / "broken.py", "def f(:\n")
    write(
        mods / "main.py",
        """\
        from pmnc_hook import pmnc
        f = pmnc.bar.f

        if __name__ == "__main__":
            print(pmnc.nosuch.g())
        """,
    )
    write(mods / "tools" / "report.py", "from pmnc_hook import pmnc\nh = pmnc.bar.f\n")
    for skipped in (".hidden", "__pycache__", "build", "dist", "venv", "env2", ".tox"):
        write(mods / skipped / "x.py", "import bar\n")
    (mods / "env2" / "pyvenv.cfg").write_text("home = /usr\n")
    return tmp_path


EXPECTED = [
    ("mods/baz.py", 1, 1, "PMNC001"),
    ("mods/broken.py", 1, 7, "PMNC007"),
    ("mods/main.py", 2, 5, "PMNC002"),
    ("mods/main.py", 5, 11, "PMNC006"),
    ("mods/state.py", 4, 5, "PMNC003"),
    ("mods/tools/report.py", 2, 5, "PMNC002"),
]


def rows(findings):
    return [(f.path.replace(os.sep, "/"), f.line, f.col, f.code) for f in findings]


def test_check_paths_over_a_tree(tree, monkeypatch):
    monkeypatch.chdir(tree)
    assert rows(check_paths(["mods"])) == EXPECTED


def test_check_executes_nothing(tmp_path, monkeypatch):
    write(tmp_path / "boom.py", "open('ran', 'w').close()\nraise SystemExit(3)\n")
    monkeypatch.chdir(tmp_path)
    assert check_paths(["."]) == []
    assert not (tmp_path / "ran").exists()


def test_default_is_pmnc_hook_path_then_cwd(tree, monkeypatch):
    monkeypatch.chdir(tree / "mods")
    environ = {"PMNC_HOOK_PATH": os.pathsep.join([str(tree / "mods"), ""])}
    assert rows(check_paths(environ=environ)) == [
        (p.replace("mods/", "", 1), line, col, code) for p, line, col, code in EXPECTED
    ]
    assert rows(check_paths(environ={})) == rows(check_paths(environ=environ))
    with pytest.raises(OSError):
        check_paths(environ={"PMNC_HOOK_PATH": str(tree / "missing")})


def test_file_paths_are_checked_against_their_module_directories(tree, monkeypatch):
    monkeypatch.chdir(tree)
    program = write(tree / "app.py", "import bar\nimport pmnc_hook\nf = pmnc_hook.pmnc.nosuch\n")
    # only files given: the module directories are PMNC_HOOK_PATH's ...
    env = {"PMNC_HOOK_PATH": str(tree / "mods")}
    assert rows(check_paths([str(program)], environ=env)) == [
        ("app.py", 1, 1, "PMNC001"),
        ("app.py", 3, 5, "PMNC002"),
        ("app.py", 3, 5, "PMNC006"),
    ]
    # ... else the files' own directories (where bar.py is not)
    assert rows(check_paths(["app.py"], environ={})) == [
        ("app.py", 3, 5, "PMNC002"),
        ("app.py", 3, 5, "PMNC006"),
    ]
    # a file of a module directory is checked as the module it is, and alone
    assert rows(check_paths(["mods/state.py"], environ={})) == [("mods/state.py", 4, 5, "PMNC003")]
    # directories and files together: the files are checked against the directories
    assert rows(check_paths(["mods", "app.py"], environ={})) == [
        ("app.py", 1, 1, "PMNC001"),
        ("app.py", 3, 5, "PMNC002"),
        ("app.py", 3, 5, "PMNC006"),
        *EXPECTED,
    ]


def test_paths_outside_cwd_are_absolute(tree, monkeypatch, tmp_path_factory):
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    found = check_paths([str(tree / "mods")])
    assert found and all(os.path.isabs(f.path) for f in found)
    assert found[0].path == str(tree / "mods" / "baz.py")


def test_missing_path_raises(tmp_path):
    with pytest.raises(OSError):
        check_paths([str(tmp_path / "nope")])


def test_module_names_follow_the_loader(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "mods" / "class.py", "x = 1\n")  # a keyword: never a module
    write(tmp_path / "mods" / "__init__.py", "x = 1\n")
    write(tmp_path / "mods" / "user.py", "def f():\n    return pmnc.__init__, pmnc.klass\n")
    write(tmp_path / "mods" / "klass.py", "import klass\n")
    assert rows(check_paths(["mods"])) == [("mods/klass.py", 1, 1, "PMNC001")]
    write(tmp_path / "mods" / "other.py", "def f():\n    return pmnc.class_\n")
    assert [f.code for f in check_paths(["mods"])] == ["PMNC001", "PMNC006"]


# -- the command line --------------------------------------------------------------------------

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>PMNC\d{3}) \S.*$")


def test_cli_text_output_and_exit_1(tree):
    result = run_check("mods", cwd=tree)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    found = [LINE.match(line) for line in lines]
    assert [
        (m["path"].replace(os.sep, "/"), int(m["line"]), int(m["col"]), m["code"])
        for m in found
        if m
    ] == EXPECTED
    assert result.stderr == ""


def test_cli_json_output(tree):
    result = run_check("--format", "json", "mods", cwd=tree)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert [list(item) for item in data] == [["path", "line", "col", "code", "message"]] * 6
    assert [(d["path"].replace(os.sep, "/"), d["line"], d["col"], d["code"]) for d in data] == (
        EXPECTED
    )
    assert all(isinstance(d["message"], str) and d["message"] for d in data)


def test_cli_clean_exit_0(tmp_path):
    write(tmp_path / "mods" / "bar.py", "def f():\n    return pmnc.baz.g()\n")
    write(tmp_path / "mods" / "baz.py", "def g():\n    return 1\n")
    result = run_check("mods", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    result = run_check("--format=json", "mods", cwd=tmp_path)
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_cli_select_and_ignore(tree):
    def found(*args):
        result = run_check(*args, "mods", cwd=tree)
        return result.returncode, [LINE.match(x)["code"] for x in result.stdout.splitlines()]

    assert found("--select", "PMNC001") == (1, ["PMNC001"])
    assert found("--select", "PMNC001,PMNC003") == (1, ["PMNC001", "PMNC003"])
    assert found("--select", "PMNC001", "--select", "pmnc003") == (1, ["PMNC001", "PMNC003"])
    assert found("--select", "PMNC004") == (0, [])
    assert found("--ignore", "PMNC002,PMNC006", "--ignore", "PMNC007") == (
        1,
        ["PMNC001", "PMNC003"],
    )
    assert found("--select", "PMNC001,PMNC002", "--ignore", "PMNC002") == (1, ["PMNC001"])


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus", "mods"],
        ["--select", "PMNC999", "mods"],
        ["--ignore", "E501", "mods"],
        ["--format", "xml", "mods"],
        ["no-such-dir"],
        ["--sel", "PMNC001", "mods"],
    ],
)
def test_cli_bad_usage_exit_2(tree, args):
    result = run_check(*args, cwd=tree)
    assert result.returncode == 2 and result.stdout == ""
    assert "error" in result.stderr


def test_cli_bad_pmnc_hook_path_exit_2(tmp_path):
    result = run_check(cwd=tmp_path, env={"PMNC_HOOK_PATH": str(tmp_path / "missing")})
    assert result.returncode == 2 and "PMNC_HOOK_PATH" in result.stderr


def test_cli_help(tmp_path):
    result = run_check("--help", cwd=tmp_path)
    assert result.returncode == 0 and "usage:" in result.stdout
    assert all(code in result.stdout for code in CODES)


def test_cli_defaults_to_pmnc_hook_path_then_cwd(tree):
    env = {"PMNC_HOOK_PATH": str(tree / "mods")}
    from_env = run_check(cwd=tree, env=env)
    assert from_env.returncode == 1
    assert from_env.stdout.splitlines()[0].startswith(os.path.join("mods", "baz.py") + ":1:1:")
    from_cwd = run_check(cwd=tree / "mods")
    assert from_cwd.returncode == 1
    assert from_cwd.stdout.splitlines()[0].startswith("baz.py:1:1: PMNC001")
    empty = tree / "empty"
    empty.mkdir()
    assert run_check(cwd=empty).returncode == 0


def test_main_in_process(tree, monkeypatch, capsys):
    monkeypatch.chdir(tree)
    monkeypatch.delenv("PMNC_HOOK_PATH", raising=False)
    assert main(["--select", "PMNC003", "mods"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(os.path.join("mods", "state.py") + ":4:5: PMNC003 module-level")
    assert out.count("\n") == 1
    assert main(["--select", "PMNC004", "mods"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["--select", "NOPE"]) == 2
    assert "NOPE" in capsys.readouterr().err


def test_python_m_pmnc_hook_check(tree):
    result = run_check("mods", cwd=tree, via="__main__")
    assert result.returncode == 1, result.stderr
    assert result.stdout == run_check("mods", cwd=tree).stdout
    assert run_check("--select", "BAD", "mods", cwd=tree, via="__main__").returncode == 2


# -- the repository's own examples -------------------------------------------------------------


def examples() -> list[list[Path]]:
    """Group the directories holding .py files by example (first level under examples/).

    An example's program and its module directories are checked together, as a user would
    run the checker on them (``--check examples/env_var examples/env_var/modules``).
    """
    root = REPO / "examples"
    groups: dict[Path, set[Path]] = {}
    for path in root.rglob("*.py") if root.is_dir() else ():
        relative = path.relative_to(root).parts
        if "__pycache__" in relative or any(p.startswith(".") for p in relative):
            continue
        top = root / relative[0] if len(relative) > 1 else path
        groups.setdefault(top, set()).add(path.parent if len(relative) > 1 else path)
    return [sorted(dirs) for _, dirs in sorted(groups.items())]


EXAMPLES = examples()


def test_examples_are_found():
    assert len(EXAMPLES) >= 7, EXAMPLES


@pytest.mark.parametrize("paths", EXAMPLES, ids=lambda g: str(g[0].relative_to(REPO)))
def test_examples_are_clean(paths, monkeypatch):
    monkeypatch.chdir(REPO)
    found = check_paths([str(p) for p in paths], environ={})
    assert [f.format() for f in found] == []


def test_files_that_cannot_be_modules_are_program_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = "CACHE = {}\ndef put(k, v):\n    CACHE[k] = v\nimport bar\n"
    write(tmp_path / "mods" / "bar.py", "x = 1\n")
    write(tmp_path / "mods" / "__init__.py", state)
    write(tmp_path / "mods" / "my-tool.py", state)
    write(tmp_path / "mods" / "ok.py", state)
    assert [(f.path.replace(os.sep, "/"), f.code) for f in check_paths(["mods"])] == [
        ("mods/__init__.py", "PMNC001"),
        ("mods/my-tool.py", "PMNC001"),
        ("mods/ok.py", "PMNC003"),
        ("mods/ok.py", "PMNC001"),
    ]


def test_unreadable_file_is_pmnc007(tmp_path, monkeypatch):
    import builtins

    from pmnc_hook.check import files as _check

    monkeypatch.chdir(tmp_path)
    locked = write(tmp_path / "mods" / "locked.py", "x = 1\n")

    def fake_open(path, *args, **kwargs):
        if os.path.samefile(path, locked):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(_check, "open", fake_open, raising=False)
    (finding,) = check_paths(["mods"])
    assert (finding.code, finding.line, finding.col) == ("PMNC007", 1, 1)
    assert "Permission denied" in finding.message


def test_a_fifo_named_as_a_path_is_pmnc007_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    result = run_check("pipe.py", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("pipe.py:1:1: PMNC007 is not a regular file")


def test_import_resolving_to_a_neighbour_file_is_not_pmnc001(tmp_path):
    mods = tmp_path / "mods"
    write(mods / "bar.py", "def f(): return 1\n")
    write(tmp_path / "app" / "bar.py", "def f(): return 2\n")
    write(tmp_path / "app" / "main.py", "import bar\n")
    write(tmp_path / "tool" / "main.py", "import bar\n")
    found = check_paths([str(mods), str(tmp_path / "app" / "main.py"), str(tmp_path / "tool")])
    assert [(Path(f.path).parent.name, f.code) for f in found] == [("tool", "PMNC001")]
