"""The operator's commands of docs/production.md, run as written where this machine can.

Deploy and check (``python -m pmnc_hook --check``), reload on a signal sent to every worker
(gunicorn: ``pkill -HUP -P <master>``, or URG to the master and the workers with ``--preload``;
uWSGI: ``pkill -URG -P <master>``); a single process is in test_single_process.py, for a copy of
examples/gunicorn installed with ``watch=False`` and a reload signal, as the page tells. Every
server binds 127.0.0.1 on a free port, every wait has a deadline, and each server's process
group is killed in a ``finally``.
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
from conftest import REPO, clean_env

EXAMPLE = REPO / "examples" / "gunicorn"
DEADLINE = 30.0


def site_with(tmp_path: Path, signame: str) -> Path:
    """A copy of examples/gunicorn whose app.py installs as docs/production.md says."""
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(EXAMPLE / "page.py", site / "page.py")
    app = (EXAMPLE / "app.py").read_text()
    install = "pmnc_hook.install([HERE])\n"
    assert install in app
    production = f"pmnc_hook.install([HERE], watch=False, reload_signal=signal.{signame})\n"
    (site / "app.py").write_text("import signal\n" + app.replace(install, production))
    return site


def free_port() -> int:
    """A port free now (uWSGI binds it itself: a small window another process could take)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                found.add(int(entry))
    return found


def until(what: str, predicate, deadline: float = DEADLINE, server=None):
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            log = f"\n{server.text()}" if server is not None else ""
            raise AssertionError(f"{what}: not within {deadline} s{log}")
        time.sleep(0.02)


def bound() -> socket.socket:
    """A listening socket on a free port of 127.0.0.1, to hand to the server (``fd://N``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


class Server:
    def __init__(
        self, args: list[str], site: Path, log: Path, port: int, sock: socket.socket | None = None
    ) -> None:
        self.port = port
        self.log = log
        self._log_file = open(log, "wb")
        self.proc = subprocess.Popen(
            args,
            cwd=site,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            pass_fds=(sock.fileno(),) if sock is not None else (),
            start_new_session=True,
        )
        if sock is not None:
            sock.close()  # the server has its own copy

    def text(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")

    def get(self) -> tuple[int, int]:
        """(pid, version) of the worker that answered."""
        assert self.proc.poll() is None, self.text()
        url = f"http://127.0.0.1:{self.port}/"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=10) as response:
            words = response.read().decode().split()
        return int(words[1]), int(words[3])

    def try_get(self):
        try:
            return self.get()
        except OSError:
            return None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=DEADLINE)
        self._log_file.close()


def reload_workers(
    server: Server, master: int, signame: str, workers: set[int], *, to_master: bool = False
) -> None:
    """Edit page.py, send the signal to every worker (and the master) as the page says, and
    wait until every worker serves the new version, none of them replaced."""
    site = Path(server.proc.args[server.proc.args.index("--chdir") + 1])
    page = site / "page.py"
    page.write_text(page.read_text().replace("VERSION = 1", "VERSION = 2"))
    if to_master:
        os.kill(master, getattr(signal, f"SIG{signame}"))
        until("the master refreshed", lambda: f"[{master}] [pmnc_hook.signal]" in server.text())
    pkill = shutil.which("pkill")
    if pkill:  # the command as documented
        subprocess.run([pkill, f"-{signame}", "-P", str(master)], check=True, timeout=DEADLINE)
    else:
        for pid in children(master):
            os.kill(pid, getattr(signal, f"SIG{signame}"))
    new: set[int] = set()

    def every_worker_serves_v2() -> bool:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:  # so that each worker gets some
            for pid, version in pool.map(lambda _: server.get(), range(4)):
                assert pid in workers, f"worker {pid} is new:\n{server.text()}"
                if version == 2:
                    new.add(pid)
        return new == workers

    until("every worker serving version 2", every_worker_serves_v2, server=server)
    assert children(master) == workers


def every_worker_answers(server: Server, master: int, count: int = 2) -> set[int]:
    """Wait until ``count`` workers run and each answered a request (so each finished its
    start: a signal sent to a worker still starting is another matter, tested below)."""
    seen: set[int] = set()

    def answered() -> bool:
        # Requests at once, so that each sync worker gets some.
        with concurrent.futures.ThreadPoolExecutor(2 * count) as pool:
            for answer in pool.map(lambda _: server.try_get(), range(2 * count)):
                if answer is not None:
                    seen.add(answer[0])
        return len(children(master)) == count and seen >= children(master)

    until("every worker answering", answered, server=server)
    return children(master)


def gunicorn(*options: str) -> list[str]:
    """``python -m gunicorn`` with ``options`` (and no control socket in $HOME, gunicorn 24+)."""
    pytest.importorskip("gunicorn")
    args = [sys.executable, "-m", "gunicorn", *options]
    usage = subprocess.run([*args[:3], "--help"], capture_output=True, text=True, timeout=60)
    if "--no-control-socket" in usage.stdout:
        args.append("--no-control-socket")
    return args


def loaded_in(server: Server, count: int) -> bool:
    return server.text().count("pmnc.page loaded version 1") >= count


@pytest.mark.timeout(120)
def test_gunicorn_workers_reload_on_the_signal_sent_to_them(tmp_path):
    site = site_with(tmp_path, "SIGHUP")
    sock = bound()
    args = gunicorn("--workers", "2", "--chdir", str(site), "--bind", f"fd://{sock.fileno()}")
    port = sock.getsockname()[1]
    server = Server([*args, "app:application"], site, tmp_path / "gunicorn.log", port, sock)
    try:
        master = server.proc.pid
        until("both workers loaded", lambda: loaded_in(server, 2) and len(children(master)) == 2)
        workers = children(master)
        # No request before the signal: without --preload each worker installed the handler
        # when it imported app.py, after gunicorn had set up its own signals.
        reload_workers(server, master, "HUP", workers)
        assert server.proc.poll() is None
    finally:
        server.kill()
    log = server.text()
    assert log.count("reload signal SIGHUP: changed: page") == 2, log
    assert "Traceback" not in log and "was sent SIGHUP" not in log, log


@pytest.mark.timeout(120)
def test_gunicorn_preload_worker_that_served_nothing_yet_survives_the_signal(tmp_path):
    site = site_with(tmp_path, "SIGHUP")
    sock = bound()
    args = gunicorn("--preload", "--workers", "2", "--chdir", str(site))
    args += ["--bind", f"fd://{sock.fileno()}"]
    port = sock.getsockname()[1]
    server = Server([*args, "app:application"], site, tmp_path / "gunicorn.log", port, sock)
    try:
        master = server.proc.pid
        until("both workers booted", lambda: server.text().count("Booting worker") == 2)
        until("both workers running", lambda: len(children(master)) == 2)
        workers = children(master)
        until("a worker answering", server.try_get)
        # Only one request so far: at most one worker has its handler back.
        reload_workers(server, master, "HUP", workers)
    finally:
        server.kill()


@pytest.mark.timeout(120)
def test_gunicorn_preload_reloads_on_a_signal_it_leaves_alone(tmp_path):
    # docs/production.md, gunicorn with --preload: URG (which gunicorn neither uses nor
    # resets in its workers), sent to the master too, so that a worker forked later
    # starts from the new release.
    site = site_with(tmp_path, "SIGURG")
    sock = bound()
    args = gunicorn("--preload", "--workers", "2", "--chdir", str(site))
    args += ["--bind", f"fd://{sock.fileno()}"]
    port = sock.getsockname()[1]
    server = Server([*args, "app:application"], site, tmp_path / "gunicorn.log", port, sock)
    try:
        master = server.proc.pid
        workers = every_worker_answers(server, master)
        reload_workers(server, master, "URG", workers, to_master=True)
        gone = min(workers)
        os.kill(gone, signal.SIGTERM)  # gunicorn forks a replacement from the master
        until("a replacement worker", lambda: len(children(master) - workers) == 1)
        (replacement,) = children(master) - workers
        answers: set[tuple[int, int]] = set()

        def replacement_serves_v2() -> bool:
            answers.add(server.get())
            return (replacement, 2) in answers

        until("the replacement serving version 2", replacement_serves_v2)
        assert all(version == 2 for pid, version in answers if pid != replacement), answers
    finally:
        server.kill()
    log = server.text()
    assert "Traceback" not in log, log


@pytest.mark.parametrize("mode", ["--lazy-apps", "--py-call-uwsgi-fork-hooks"])
@pytest.mark.timeout(120)
def test_uwsgi_workers_reload_on_the_signal_sent_to_them(tmp_path, mode):
    uwsgi = shutil.which("uwsgi", path=os.path.dirname(sys.executable)) or shutil.which("uwsgi")
    if uwsgi is None:
        pytest.skip("uwsgi is not installed (pip install uwsgi compiles it)")
    # uWSGI keeps HUP, INT, TERM, QUIT, USR1, USR2 and WINCH for itself in its workers.
    site = site_with(tmp_path, "SIGURG")
    port = free_port()
    args = [uwsgi, "--master", "--processes", "2", "--enable-threads", mode]
    args += ["--http-socket", f"127.0.0.1:{port}", "--chdir", str(site)]
    args += ["--module", "app:application", "--die-on-term", "--disable-logging"]
    server = Server(args, site, tmp_path / "uwsgi.log", port)
    try:
        master = server.proc.pid
        workers = every_worker_answers(server, master)
        reload_workers(server, master, "URG", workers)
    finally:
        server.kill()
    log = server.text()
    assert "Traceback" not in log and "killing worker" not in log, log


def test_check_before_the_switch(tmp_path):
    releases = tmp_path / "releases"
    good, bad = releases / "2", releases / "3"
    shutil.copytree(REPO / "examples" / "asgi" / "handlers", good)
    shutil.copytree(good, bad)
    (bad / "chat.py").write_text("def receive(member, text)\n    pass\n")

    def check(directory: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pmnc_hook", "--check", str(directory)],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=DEADLINE,
        )

    assert (check(good).returncode, check(good).stdout) == (0, "")
    result = check(bad)
    assert result.returncode == 1, result
    assert "chat.py:1:" in result.stdout and "PMNC007" in result.stdout, result.stdout
