"""mypy --strict sees through the decorators: tests/typing/positive.py passes, and every line
of tests/typing/negative.py marked ``# E: <code>`` (or ``<code>|<code>``: either) is reported
with that code, and no other line is."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TYPING = Path(__file__).resolve().parent / "typing"
MARKER = re.compile(r"#\s*E:\s*([a-z|-]+)")
ERROR = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")


def expected_errors(path: Path) -> dict[int, set[str]]:
    """Line number -> the error codes any of which mypy must report there."""
    lines = path.read_text().splitlines()
    return {
        number: set(match.group(1).split("|"))
        for number, line in enumerate(lines, 1)
        if (match := MARKER.search(line))
    }


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("mypy", reason="mypy is not installed")
    scratch = tmp_path_factory.mktemp("mypy")
    config = scratch / "mypy.ini"
    config.write_text("[mypy]\n")
    env = dict(os.environ)
    env["MYPYPATH"] = str(REPO)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(scratch / "cache"),
            "--strict",
            # Only these files' errors count: the rest of the package may be mid-edit.
            "--follow-imports=silent",
            "--show-error-codes",
            "--no-error-summary",
            "--no-pretty",
            "--no-color-output",
            str(TYPING / "positive.py"),
            str(TYPING / "negative.py"),
        ],  # fmt: skip
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.stdout


def reported(output: str, name: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for line in output.splitlines():
        match = ERROR.match(line.strip())
        if match and Path(match["file"]).name == name:
            found.setdefault(int(match["line"]), set()).add(match["code"])
    return found


def test_markers_are_there():
    assert len(expected_errors(TYPING / "negative.py")) >= 10
    assert expected_errors(TYPING / "positive.py") == {}


def test_positive_file_passes_mypy_strict(mypy_output: str):
    assert [line for line in mypy_output.splitlines() if "positive.py" in line] == []


def test_negative_file_errors_exactly_where_marked(mypy_output: str):
    expected = expected_errors(TYPING / "negative.py")
    found = reported(mypy_output, "negative.py")
    assert sorted(found) == sorted(expected), mypy_output
    for number, codes in found.items():
        assert codes & expected[number], f"line {number}: {codes} not in {expected[number]}"
