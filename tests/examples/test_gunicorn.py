"""A real pre-fork server: gunicorn --preload -w 2 serving examples/gunicorn, edited live.

The example is copied into tmp_path and run as its README says, except for the listening
socket: the test binds 127.0.0.1 on a free port itself and hands gunicorn the descriptor
(``--bind fd://N``), so no other process can take the port in between. Every wait has a
deadline, and the server's process group is killed in a ``finally``.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO

pytest.importorskip("gunicorn")

EXAMPLE = REPO / "examples" / "gunicorn"
DEADLINE = 30.0  # seconds for each phase; a hung server fails the test, never CI
CONTRACT_LATENCY = 2.0  # the issue: every worker serves the new handler "within a second or two"


def _gunicorn_has(option: str) -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return option in out


class Server:
    """gunicorn --preload -w 2 over a copy of the example, on a socket bound here."""

    def __init__(self, site: Path, log: Path) -> None:
        self.site = site
        self.log = log
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        fd = self.sock.fileno()
        args = [sys.executable, "-m", "gunicorn", "--preload", "--workers", "2"]
        args += ["--bind", f"fd://{fd}", "--graceful-timeout", "5"]
        if _gunicorn_has("--no-control-socket"):
            args.append("--no-control-socket")  # gunicorn 24+: no socket in $HOME
        args.append("app:application")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        self._log_file = open(log, "wb")
        self.proc = subprocess.Popen(
            args,
            cwd=site,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            pass_fds=(fd,),
            start_new_session=True,
        )
        self.sock.close()  # gunicorn has its own copy

    def get(self) -> tuple[int, int]:
        """Return (pid, version) of the worker that answered one request."""
        if self.proc.poll() is not None:
            raise AssertionError(f"gunicorn exited with {self.proc.returncode}:\n{self.text()}")
        url = f"http://127.0.0.1:{self.port}/"
        with urllib.request.urlopen(url, timeout=10) as response:
            words = response.read().decode().split()
        # "pid <pid> version <version>"
        return int(words[1]), int(words[3])

    def answers(self, pool: concurrent.futures.Executor, n: int = 4) -> list[tuple[int, int]]:
        """Send ``n`` requests at once (so that both sync workers get some)."""
        return list(pool.map(lambda _: self.get(), range(n)))

    def text(self) -> str:
        self._log_file.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """Stop gracefully (SIGTERM to the master), within the deadline; return its status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=DEADLINE)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=DEADLINE)
        self._log_file.close()


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _until(what: str, predicate, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline} s")


def test_preload_two_workers_both_serve_the_edited_handler(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    for name in ("app.py", "page.py"):
        shutil.copy(EXAMPLE / name, site / name)
    server = Server(site, tmp_path / "gunicorn.log")
    pool = concurrent.futures.ThreadPoolExecutor(4)
    try:
        # Both workers answer with the version the master loaded before forking them.
        seen: dict[int, int] = {}

        def both_workers_answered() -> bool:
            for pid, version in server.answers(pool):
                assert version == 1, server.text()
                seen[pid] = version
            return len(seen) >= 2

        _until("both workers answering", both_workers_answered)
        workers = set(seen)
        assert len(workers) == 2, seen
        assert {_parent_of(pid) for pid in workers} == {server.proc.pid}
        assert server.proc.pid not in workers

        page = site / "page.py"
        page.write_text(page.read_text().replace("VERSION = 1", "VERSION = 2"))
        edited = time.monotonic()
        # Requests of one round run at once, so a worker may answer them in any order; a
        # request of a later round was sent after every answer of the earlier rounds.
        first_new: dict[int, tuple[int, float]] = {}  # pid -> (round, seconds after the edit)
        rounds = iter(range(1_000_000))

        def went_back(pid: int, version: int, round_: int) -> bool:
            return version != 2 and pid in first_new and first_new[pid][0] < round_

        def both_workers_serve_v2() -> bool:
            round_ = next(rounds)
            for pid, version in server.answers(pool):
                assert pid in workers, f"an unexpected worker {pid} answered:\n{server.text()}"
                assert not went_back(pid, version, round_), f"worker {pid} went back to {version}"
                if version == 2 and pid not in first_new:
                    first_new[pid] = (round_, time.monotonic() - edited)
            return len(first_new) == 2

        _until("both workers serving version 2", both_workers_serve_v2)
        latency = max(seconds for _, seconds in first_new.values())
        print(f"edit -> both workers serving the new handler: {latency * 1000:.0f} ms")
        assert latency < CONTRACT_LATENCY, (first_new, server.text())

        # A worker forked after the edit (gunicorn replaces one that exits) starts from the
        # master's modules, in which the edit is marked once the master's own detector has
        # seen it settle, and checks every module right after the fork: it serves the new
        # version (at once, or after the settling time if it was forked within it) and
        # never goes back.
        gone = min(workers)
        os.kill(gone, signal.SIGTERM)

        def replacement_answered() -> bool:
            round_ = next(rounds)
            for pid, version in server.answers(pool):
                assert not went_back(pid, version, round_), f"worker {pid} went back to {version}"
                if version == 2 and pid not in first_new:
                    first_new[pid] = (round_, time.monotonic() - edited)
            return any(pid not in workers for pid in first_new)

        _until("a replacement worker answering", replacement_answered)

        assert server.stop() == 0, server.text()
        log = server.text()
        for bad in ("Traceback", "Exception in thread", "[ERROR]", "[CRITICAL]"):
            assert bad not in log, log
        assert log.count("pmnc.page reloaded to version 2") >= 2, log
    finally:
        pool.shutdown(wait=False)
        server.kill()
