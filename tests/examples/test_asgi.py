"""examples/asgi under uvicorn, as its README runs it, with clients connected across releases.

The example is copied into tmp_path and deployed the way production deploys: ``handlers`` is
a symlink to ``releases/1``, and each new release (a copy of the previous one with chat.py,
room.py and pages.py changed, the first of them the README's change from ``next/``) is
switched in atomically. The server is started as the README says (``python -m pmnc_hook
--path handlers -m uvicorn app:app``) on a socket the test binds on 127.0.0.1 and hands over
(``--fd``). Meanwhile 24 websocket clients stay connected and keep talking, and HTTP clients
keep asking ``GET /room?wait=...``, whose two halves straddle the releases. Asserted:
every release published; no connection dropped; every message delivered to every member,
in order, by one release of both chat.py and room.py; no HTTP request failed or saw two
generations; the room's count (migrated by pmnc_init) equals the messages sent. Every wait
has a deadline; the server's process group is killed in a ``finally``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, clean_env

pytest.importorskip("uvicorn")
websockets_client = pytest.importorskip("websockets.asyncio.client")

EXAMPLE = REPO / "examples" / "asgi"
CLIENTS = 24
RELEASES = 12  # switched in after release 1: 12 reloads, each of three files
HTTP_CLIENTS = 3
SEND_EVERY = 0.15  # seconds between two messages of one client
DEADLINE = 30.0  # seconds for each wait


def deploy(site: Path, number: int) -> None:
    """Make ``releases/<number>`` from the one before and switch ``handlers`` to it."""
    releases = site / "releases"
    new = releases / str(number)
    shutil.copytree(releases / str(number - 1), new)
    if number == 2:  # the README's change: chat.py learns /me, room.post takes a kind
        for name in ("chat.py", "room.py"):
            shutil.copy(EXAMPLE / "next" / name, new / name)
    for name in ("chat.py", "room.py", "pages.py"):
        path = new / name
        text = re.sub(r"^RELEASE = \d+", f"RELEASE = {number}", path.read_text(), flags=re.M)
        path.write_text(text)
    link = site / "handlers.new"
    os.symlink(f"releases/{number}", link)
    os.replace(link, site / "handlers")  # one atomic switch: all three files at once


class Server:
    """The README's command over the copy in ``site``, on a socket bound here."""

    def __init__(self, site: Path, log: Path) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        fd = self.sock.fileno()
        args = [sys.executable, "-m", "pmnc_hook", "--path", "handlers"]
        args += ["-m", "uvicorn", "app:app", "--fd", str(fd), "--lifespan", "on"]
        args += ["--timeout-graceful-shutdown", "5"]
        self.log = log
        self._log_file = open(log, "wb")
        self.proc = subprocess.Popen(
            args,
            cwd=site,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            pass_fds=(fd,),
            start_new_session=True,
        )
        self.sock.close()  # uvicorn has its own copy

    def text(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")

    async def get(self, path: str) -> tuple[int, bytes]:
        """One HTTP/1.1 request on a connection of its own; (status, body)."""

        async def exchange() -> bytes:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                request = f"GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
                writer.write(request.encode())
                await writer.drain()
                return await reader.read()
            finally:
                writer.close()

        data = await asyncio.wait_for(exchange(), DEADLINE)
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split()[1]), body

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        return self.proc.wait(timeout=DEADLINE)

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=DEADLINE)
        self._log_file.close()


async def until(what: str, predicate, deadline: float = DEADLINE):
    end = time.monotonic() + deadline
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {deadline} s")
        await asyncio.sleep(0.05)


class Client:
    """One chat member: sends numbered messages, keeps everything it receives."""

    def __init__(self, index: int, port: int) -> None:
        self.name = f"c{index}"
        self.uri = f"ws://127.0.0.1:{port}/chat?name={self.name}"
        self.sent = 0
        self.received: list[dict] = []
        self.closed: str | None = None  # why the connection ended, if it did

    async def run(self, connected: asyncio.Event, talk: asyncio.Event, stop: asyncio.Event):
        async with websockets_client.connect(self.uri, open_timeout=DEADLINE) as ws:
            self.ws = ws
            connected.set()
            reader = asyncio.create_task(self.read(ws))
            await talk.wait()
            while not stop.is_set():
                await ws.send(f"{self.name} {self.sent}")
                self.sent += 1
                try:
                    await asyncio.wait_for(stop.wait(), SEND_EVERY)
                except asyncio.TimeoutError:
                    pass
            await self.done.wait()
            reader.cancel()

    async def read(self, ws) -> None:
        try:
            async for frame in ws:
                self.received.append(json.loads(frame))
        except Exception as exc:
            self.closed = repr(exc)
        else:
            self.closed = "closed by the server"

    def said(self) -> dict[str, list[int]]:
        """Sender name -> the numbers of its messages this client received, in order."""
        found: dict[str, list[int]] = {}
        for message in self.received:
            if "text" in message:
                author, number = message["text"].split()
                found.setdefault(author, []).append(int(number))
        return found


async def http_load(server: Server, stop: asyncio.Event, replies: list, failures: list):
    while not stop.is_set():
        try:
            status, body = await server.get("/room?wait=0.02")
            if status != 200:
                failures.append((status, body[:200]))
            else:
                replies.append(json.loads(body))
        except Exception as exc:
            failures.append(repr(exc))


async def scenario(site: Path, server: Server) -> dict:
    async def release_served(number: int):
        status, body = await server.get("/room")
        return status == 200 and json.loads(body)["pages"] == number

    await until("the server answering", lambda: release_served(1))
    clients = [Client(i, server.port) for i in range(CLIENTS)]
    connected = [asyncio.Event() for _ in clients]
    talk, stop, done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    for client in clients:
        client.done = done
    tasks = [asyncio.create_task(c.run(e, talk, stop)) for c, e in zip(clients, connected)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in connected)), DEADLINE)

    async def all_joined():
        status, body = await server.get("/room")
        return json.loads(body)["after"]["members"] == CLIENTS

    await until("every client joined", all_joined)
    replies: list = []
    failures: list = []
    http = [
        asyncio.create_task(http_load(server, stop, replies, failures)) for _ in range(HTTP_CLIENTS)
    ]
    talk.set()
    timings = []
    for number in range(2, RELEASES + 2):
        await asyncio.sleep(0.3)  # some traffic on each release
        started = time.monotonic()
        deploy(site, number)
        await until(f"release {number} served", lambda n=number: release_served(n))
        timings.append(time.monotonic() - started)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*http)
    total = sum(c.sent for c in clients)

    def everything_delivered() -> bool:
        return all(sum(len(v) for v in c.said().values()) >= total or c.closed for c in clients)

    async def delivered():
        return everything_delivered()

    await until("every message delivered", delivered)
    status, body = await server.get("/room")
    room = json.loads(body)["after"]
    open_at_end = sum(1 for c in clients if c.closed is None)
    done.set()
    await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE)
    return {
        "clients": clients,
        "total": total,
        "room": room,
        "replies": replies,
        "failures": failures,
        "open_at_end": open_at_end,
        "timings": timings,
    }


@pytest.mark.timeout(240)
def test_websocket_clients_stay_connected_across_releases(tmp_path):
    site = tmp_path / "site"
    (site / "releases").mkdir(parents=True)
    shutil.copy(EXAMPLE / "app.py", site / "app.py")
    shutil.copytree(EXAMPLE / "handlers", site / "releases" / "1")
    os.symlink("releases/1", site / "handlers")
    server = Server(site, tmp_path / "server.log")
    try:
        result = asyncio.run(asyncio.wait_for(scenario(site, server), 200))
        assert server.stop() == 0, server.text()
    finally:
        server.kill()
    log = server.text()
    clients = result["clients"]
    timings = ", ".join(f"{t:.2f}" for t in result["timings"])
    print(f"release switch -> served (s): {timings}")
    print(f"{result['total']} messages, {len(result['replies'])} HTTP requests")

    # No connection dropped, and the clients were talking across every release.
    assert result["open_at_end"] == CLIENTS, [c.closed for c in clients if c.closed]
    assert all(c.sent >= 10 for c in clients), [c.sent for c in clients]
    # Every message delivered to every member, in order, none twice, none lost.
    sent = {c.name: c.sent for c in clients}
    for client in clients:
        assert client.said() == {name: list(range(n)) for name, n in sent.items()}, client.name
    messages = [m for m in clients[0].received if "text" in m]
    assert not [m for c in clients for m in c.received if "error" in m], log
    # Each message was handled by one release of both modules (a unit of work each), and
    # the messages span every release.
    mixed = [m for m in messages if m["chat"] != m["room"]]
    assert not mixed, mixed[:5]
    assert {m["room"] for m in messages} == set(range(1, RELEASES + 2))
    # The count survived every reload (pmnc_init), and everyone is still in the room.
    assert result["room"]["posted"] == result["total"]
    assert result["room"]["members"] == CLIENTS
    assert result["room"]["room"] == RELEASES + 1
    # HTTP: no request failed, and each saw one generation from its first access to its last.
    assert not result["failures"], result["failures"][:5]
    replies = result["replies"]
    assert len(replies) >= 50, len(replies)
    two = [
        r
        for r in replies
        if not (
            r["pages"] == r["before"]["room"] == r["after"]["room"]
            and r["before"]["generation"] == r["after"]["generation"]
        )
    ]
    assert not two, two[:5]
    assert {r["pages"] for r in replies} == set(range(1, RELEASES + 2))
    # One generation per release, each published as one change-set.
    assert f"(generation {RELEASES}: " in log, log[-3000:]
    for bad in ("Traceback", "ERROR", "WARNING"):
        assert bad not in log, log[-5000:]


async def post(server: Server, path: str) -> tuple[int, bytes]:
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            request = f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n"
            writer.write((request + "Connection: close\r\n\r\n").encode())
            await writer.drain()
            return await reader.read()
        finally:
            writer.close()

    data = await asyncio.wait_for(exchange(), DEADLINE)
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def rollback_scenario(site: Path, server: Server) -> None:
    async def status():
        return json.loads((await server.get("/status"))[1])

    async def room_release(number: int):
        code, body = await server.get("/room")
        return code == 200 and json.loads(body)["pages"] == number

    await until("the server answering", lambda: room_release(1))
    async with websockets_client.connect(
        f"ws://127.0.0.1:{server.port}/chat?name=ann", open_timeout=DEADLINE
    ) as ws:

        async def say(text: str) -> dict:
            await ws.send(text)
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
                assert "error" not in message, message
                if "n" in message:
                    return message

        assert (await say("/me hi"))["text"] == "/me hi"  # release 1: no /me
        deploy(site, 2)
        await until("release 2 served", lambda: room_release(2))
        assert (await say("/me hi")) | {"n": 0} == {
            "text": "hi",
            "chat": 2,
            "room": 2,
            "kind": "action",
            "author": "ann",
            "n": 0,
        }
        before = await status()
        # The operator says "back": rolling back room rolls back the set it came with.
        code, body = await post(server, "/admin/rollback?module=room")
        assert code == 200, body
        assert json.loads(body) == {"module": "room", "version": 3}
        after = await status()
        assert after["generation"] == before["generation"] + 1
        assert after["modules"] == {"chat": 3, "pages": 3, "room": 3}
        message = await say("/me hi")
        assert (message["text"], message["chat"], message["room"]) == ("/me hi", 1, 1)
        assert message["n"] == 3  # the count went forward through pmnc_init
        # The rollback holds against the files (still release 2) until they change again.
        code, body = await post(server, "/admin/refresh")
        assert (code, json.loads(body)) == (200, {"changed": []})
        deploy(site, 3)
        await until("release 3 served", lambda: room_release(3))
        message = await say("/me waves")
        assert (message["kind"], message["chat"], message["room"]) == ("action", 3, 3)
        code, body = await post(server, "/admin/rollback?module=nosuch")
        assert code == 409 and b"nosuch" in body, body


@pytest.mark.timeout(120)
def test_rollback_from_the_admin_route_restores_the_whole_release(tmp_path):
    site = tmp_path / "site"
    (site / "releases").mkdir(parents=True)
    shutil.copy(EXAMPLE / "app.py", site / "app.py")
    shutil.copytree(EXAMPLE / "handlers", site / "releases" / "1")
    os.symlink("releases/1", site / "handlers")
    server = Server(site, tmp_path / "server.log")
    try:
        asyncio.run(asyncio.wait_for(rollback_scenario(site, server), 100))
        assert server.stop() == 0, server.text()
    finally:
        server.kill()
    log = server.text()
    assert "Traceback" not in log, log
