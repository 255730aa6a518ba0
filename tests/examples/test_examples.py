"""The examples run as the README says: each in its own interpreter, with a deadline, and
each leaves its files exactly as it found them."""

from __future__ import annotations

import fcntl
import os
import site
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

EXAMPLES = REPO / "examples"
DEADLINE = 30  # seconds; each example finishes in a few


def snapshot(directory: Path) -> dict[Path, bytes]:
    """Return the content of every file under ``directory`` (bytecode caches aside)."""
    return {
        path: path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.fixture
def keep_files(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if its example's files changed; put them back if they did.

    The examples edit their own files: the test holds a lock on them for its whole run, so
    that test sessions sharing this checkout (``tox p``) take turns.
    """
    directory = EXAMPLES / request.node.callspec.params["example"]
    with open(REPO / "examples" / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield from _kept(directory)


def _kept(directory: Path) -> Iterator[None]:
    before = snapshot(directory)
    assert before, f"{directory} has no files"
    yield
    after = snapshot(directory)
    changed = sorted(
        str(p.relative_to(REPO))
        for p in before.keys() | after.keys()
        if before.get(p) != after.get(p)
    )
    for path, data in before.items():
        if after.get(path) != data:
            path.write_bytes(data)
    assert not changed, f"the example left these files changed: {changed}"


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the examples
    env.update(extra)
    return env


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )


def pth_installed() -> bool:
    """Tell whether ``pmnc_hook.pth`` (the PMNC_HOOK_PATH start-up) is in site-packages."""
    directories = {*getattr(site, "getsitepackages", list)(), sysconfig.get_paths()["purelib"]}
    if site.ENABLE_USER_SITE:
        directories.add(site.getusersitepackages())
    return any(os.path.isfile(os.path.join(d, "pmnc_hook.pth")) for d in directories)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("example", ["live_reload"])
def test_live_reload(example, keep_files):
    started = time.monotonic()
    result = run("examples/live_reload/demo.py")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "before: 'Hello, world!' (version 1)" in out
    assert "after:  'Good morning, world!' (version 2)" in out
    assert "still:  'Good morning, world!' (version 2 keeps serving)" in out
    assert "last_error: SyntaxError" in out
    assert out.rstrip().endswith("live reload: OK")
    assert time.monotonic() - started < 20


@pytest.mark.timeout(60)
@pytest.mark.parametrize("example", ["accumulate"])
def test_accumulate(example, keep_files):
    result = run("examples/accumulate/demo.py")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "pure_function(1, 2, 3) = 6" in out
    assert "pure_function(1, '2') -> InputParameterError" in out
    assert "pure_maximum(3, 9, 4) = 9 (version 2)" in out
    assert "accumulate(1) ... accumulate(10): sum = 55" in out
    assert "after the reload: sum = 55 (version 2)" in out
    assert "accumulate(5) with the new code: sum = 65" in out
    assert "accumulate(1): sum = 67 (version 2)" in out  # pmnc_init failed: v2 serves on
    assert "started_with = 'settings as loaded at start-up' (version 1)" in out
    assert "the change is ignored until the process restarts" in out
    assert out.rstrip().endswith("accumulate: OK")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("example", ["http_service"])
def test_http_service(example, keep_files):
    result = run("examples/http_service/demo.py")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "request failed" not in out
    done = int(out.split("requests done: ")[1].split(",")[0])
    assert done > 100
    assert f"requests done: {done}, failed: 0" in out
    assert "versions served: counter v1, counter v2, hello v1, hello v2, hello v3, hello v4" in out
    assert "GET /hello   -> Good evening, you! (hello v4)" in out
    assert out.rstrip().endswith("http service: OK")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("example", ["existing_project"])
def test_existing_project(example, keep_files):
    if not pth_installed():
        pytest.skip(
            "pmnc_hook.pth is not in this interpreter's site-packages, so PMNC_HOOK_PATH "
            "cannot switch the hook on (install the package: pip install . or -e .)"
        )
    rules = EXAMPLES / "existing_project" / "rules" / "discounts.py"
    original = rules.read_text()
    process = subprocess.Popen(
        [
            sys.executable,
            "examples/existing_project/shop.py",
            "--rounds",
            "100",
            "--interval",
            "0.02",
        ],
        cwd=REPO,
        env=environment(
            PMNC_HOOK_PATH="examples/existing_project/rules", PMNC_HOOK_LOG_LEVEL="INFO"
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        stderr = "" if first else process.stderr.read()  # it ended: say why
        assert first == "invoice 1: 3 tea, 2 cake: 19.00 (discount 0%)\n", stderr
        rules.write_text(original.replace("return 0.0", "return 0.1 if gross >= 1500 else 0.0"))
        lines = [first]
        for line in process.stdout:
            lines.append(line)
            if "(discount 10%)" in line:
                break
        assert lines[-1].endswith(": 3 tea, 2 cake: 17.10 (discount 10%)\n"), lines
        out, err = process.communicate(timeout=DEADLINE)
    finally:
        rules.write_text(original)
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "pmnc.discounts reloaded to version 2" in err


def test_existing_project_without_the_variable_says_what_is_missing():
    result = run("examples/existing_project/shop.py", "--rounds", "1")
    assert result.returncode == 1
    assert (
        "pmnc has no module 'discounts': no file discounts.py in the module directories "
        "searched: (no module directories installed)" in result.stderr
    )


CHECKS = {
    "live_reload": ["examples/live_reload/modules", "examples/live_reload/demo.py"],
    "accumulate": ["examples/accumulate/modules", "examples/accumulate/demo.py"],
    "http_service": ["examples/http_service/handlers", "examples/http_service/demo.py"],
    "asgi": ["examples/asgi/handlers", "examples/asgi/app.py"],
    "asgi_next": ["examples/asgi/next"],
    "existing_project": [
        "examples/existing_project/rules",
        "examples/existing_project/shop.py",
        *sorted(
            str(p.relative_to(REPO)) for p in (EXAMPLES / "existing_project/store").glob("*.py")
        ),
    ],
}


@pytest.mark.parametrize("example", sorted(CHECKS))
def test_checker_finds_nothing(example):
    result = run("-m", "pmnc_hook", "--check", *CHECKS[example])
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("example", ["http_service"])
def test_http_service_waits_for_clients_that_start_late(example, keep_files):
    # A loaded machine, made certain: every client thread starts a second late. The demo must
    # wait for what its clients were served, not for the clock (issue 13, item 13).
    wrapper = (
        "import runpy, sys, time\n"
        "sys.argv = ['demo.py']\n"
        "ns = runpy.run_path('examples/http_service/demo.py', run_name='demo')\n"
        "demo_globals = ns['demo'].__globals__\n"
        "client = demo_globals['client']\n"
        "def late_client(*args):\n"
        "    time.sleep(1.0)\n"
        "    return client(*args)\n"
        "demo_globals['client'] = late_client\n"
        "sys.exit(ns['main']())\n"
    )
    result = run("-c", wrapper)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "versions served: counter v1, counter v2, hello v1, hello v2, hello v3, hello v4" in out
    assert out.rstrip().endswith("http service: OK")
