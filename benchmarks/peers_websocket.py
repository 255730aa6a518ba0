"""Websocket connections dropped per code change: pmnc_hook against ``uvicorn --reload``.

    python benchmarks/peers_websocket.py          # about 40 s
    python benchmarks/peers_websocket.py --quick

The service is examples/asgi (a chat whose handlers and room state are in ``handlers/``),
copied to a temporary directory and served on a free port of 127.0.0.1 in two ways:

- pmnc_hook: ``python -m pmnc_hook --path handlers -m uvicorn app:app`` (its README's command);
- uvicorn --reload: ``python -m pmnc_hook --path handlers -m uvicorn app:app --reload
  --reload-dir handlers``: the same application (the hook is still what makes ``pmnc.chat``
  work), but uvicorn's reloader watches the files and restarts the server process on a change.

20 websocket clients connect; then 10 changes are made, each rewriting chat.py, room.py and
pages.py (their release number) in place. After each change, once the new release answers
``GET /room``, the clients whose connection ended are counted and reconnected. Also timed:
write to the new release answering. Needs uvicorn and websockets (the ``test`` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "asgi"
CLIENTS = 20
MODES = [
    ("pmnc_hook", "pmnc_hook (examples/asgi)", []),
    ("uvicorn_reload", "uvicorn --reload", ["--reload", "--reload-dir", "handlers"]),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def get_room(port: int) -> dict | None:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        writer.write(b"GET /room HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 5)
    except (OSError, asyncio.TimeoutError):
        return None
    finally:
        writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        return None
    return json.loads(body)


class Client:
    def __init__(self, port: int, index: int) -> None:
        self.uri = f"ws://127.0.0.1:{port}/chat?name=c{index}"
        self.task: asyncio.Task | None = None
        self.ended = False

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        self.ended = False
        self.ws = await connect(self.uri, open_timeout=10)
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        try:
            async for _ in self.ws:
                pass
        except Exception:
            pass
        self.ended = True


def change(handlers: Path, release: int) -> None:
    for name in ("chat.py", "room.py", "pages.py"):
        path = handlers / name
        text = re.sub(r"^RELEASE = \d+", f"RELEASE = {release}", path.read_text(), flags=re.M)
        temporary = handlers / f".{name}.new"
        temporary.write_text(text)
        os.replace(temporary, path)


async def drive(port: int, handlers: Path, changes: int) -> dict:
    deadline = time.monotonic() + 30
    while (room := await get_room(port)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not answer")
        await asyncio.sleep(0.1)
    clients = [Client(port, i) for i in range(CLIENTS)]
    for client in clients:
        await client.connect()
    dropped, latencies = [], []
    for release in range(2, changes + 2):
        await asyncio.sleep(0.5)
        started = time.monotonic()
        change(handlers, release)
        while True:
            room = await get_room(port)
            if room is not None and room["pages"] == release:
                break
            if time.monotonic() - started > 30:
                raise RuntimeError(f"release {release} was not served within 30 s")
            await asyncio.sleep(0.01)
        latencies.append(time.monotonic() - started)
        await asyncio.sleep(0.5)  # time for a connection that ended to say so
        ended = [c for c in clients if c.ended]
        dropped.append(len(ended))
        for client in ended:
            await client.connect()
    for client in clients:
        await client.ws.close()
    return {
        "changes": changes,
        "clients": CLIENTS,
        "dropped": dropped,
        "served_ms": statistics.median(latencies) * 1000,
    }


def measure(mode: str, extra: list[str], changes: int) -> dict:
    site = Path(tempfile.mkdtemp(prefix=f"ws-{mode}-"))
    shutil.copy(EXAMPLE / "app.py", site / "app.py")
    shutil.copytree(EXAMPLE / "handlers", site / "handlers")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMNC_HOOK_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pmnc_hook", "--path", "handlers", "-m", "uvicorn"]
    command += ["app:app", "--port", str(port), "--log-level", "warning", *extra]
    server = subprocess.Popen(
        command,
        cwd=site,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return asyncio.run(asyncio.wait_for(drive(port, site / "handlers", changes), 300))
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.wait(timeout=30)
        shutil.rmtree(site, ignore_errors=True)


def table(quick: bool) -> dict:
    results = {}
    print()
    print("| websocket connections, code changes | dropped per change | change → served, median |")
    print("| --- | --- | --- |")
    for mode, label, extra in MODES:
        try:
            import uvicorn  # noqa: F401
            import websockets  # noqa: F401
        except ImportError as exc:
            results[mode] = {"missing": str(exc)}
            print(f"| {label} | not installed ({exc.name}) | |")
            continue
        result = measure(mode, extra, 3 if quick else 10)
        results[mode] = result
        per_change = statistics.mean(result["dropped"])
        print(
            f"| {label} | {per_change:.1f} of {result['clients']} "
            f"({sum(result['dropped'])} in {result['changes']} changes) "
            f"| {result['served_ms']:.0f} ms |",
            flush=True,
        )
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 changes instead of 10")
    args = parser.parse_args(argv)
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    table(args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
