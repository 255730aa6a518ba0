"""A chat service under uvicorn whose handlers and room state are reloadable modules.

    cd examples/asgi
    python -m pmnc_hook --path handlers -m uvicorn app:app

This file is the entry point, and it is not reloadable: it speaks ASGI, owns the connections
and the loops that serve them, and hands every request and every websocket message to the
modules in handlers/, through ``pmnc``, each as one unit of work:

    GET  /                      pmnc.pages.index()
    GET  /room?wait=SECONDS     pmnc.pages.room(): the room's figures, before and after a wait
    GET  /status                generation and module versions
    POST /admin/refresh         pmnc_hook.refresh(): reload what changed on disk now
    POST /admin/rollback?module=NAME    pmnc_hook.rollback(NAME)
    WS   /chat?name=NAME        each text frame goes to pmnc.chat.receive(); the room
                                (pmnc.room) delivers messages to every member

The admin routes answer only clients on this machine (127.0.0.1, ::1).
"""

import asyncio
import json
import logging
from urllib.parse import parse_qs

import pmnc_hook
from pmnc_hook import pmnc

log = logging.getLogger("chat")
LOCAL = {"127.0.0.1", "::1"}


class Member:
    """One websocket connection: the room keeps these and calls ``deliver``."""

    count = 0

    def __init__(self, name):
        Member.count += 1
        self.id = Member.count
        self.name = name
        self.outbox = asyncio.Queue()

    def deliver(self, message):
        # Serialised now: the message is sent as it is at this moment, whatever a later
        # version of the room does to the dicts it keeps.
        self.outbox.put_nowait(json.dumps(message))


async def read_body(receive):
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            return body


async def respond(send, status, payload):
    text = payload if isinstance(payload, str) else json.dumps(payload) + "\n"
    kind = b"text/plain" if isinstance(payload, str) else b"application/json"
    data = text.encode()
    headers = [(b"content-type", kind + b"; charset=utf-8"), (b"content-length", b"%d" % len(data))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def module_status():
    return {
        "generation": pmnc_hook.generation(),
        "modules": {name: s.version for name, s in sorted(pmnc_hook.status().items())},
    }


async def admin(path, query, client):
    if (client or ("",))[0] not in LOCAL:
        return 403, "admin routes answer local clients only\n"
    if path == "/admin/refresh":
        return 200, {"changed": pmnc_hook.refresh()}
    module = query.get("module", [""])[0]
    try:
        version = pmnc_hook.rollback(module)
    except pmnc_hook.PmncHookError as exc:
        return 409, f"{exc}\n"
    return 200, {"module": module, "version": version}


async def http(scope, receive, send):
    path, method = scope["path"], scope["method"]
    query = parse_qs(scope.get("query_string", b"").decode())
    await read_body(receive)
    try:
        if method == "GET" and path == "/":
            status, payload = 200, pmnc.pages.index()
        elif method == "GET" and path == "/room":
            status, payload = 200, await pmnc.pages.room(query)
        elif method == "GET" and path == "/status":
            status, payload = 200, module_status()
        elif method == "POST" and path in ("/admin/refresh", "/admin/rollback"):
            status, payload = await admin(path, query, scope.get("client"))
        else:
            status, payload = 404, f"no route for {method} {path}\n"
    except Exception:
        log.exception("%s %s failed", method, path)
        status, payload = 500, "internal error\n"
    await respond(send, status, payload)


async def handle(member, call, *args):
    """Run one call into the handlers as a unit of work; tell the member if it failed."""
    async with pmnc_hook.request():
        try:
            reply = call(*args)
        except Exception:
            log.exception("websocket message from %s failed", member.name)
            reply = {"error": "internal error"}
    if reply is not None:
        member.deliver(reply)


async def chat(scope, receive, send):
    # The connection's loops live here, not in a reloadable module: a loop inside one would
    # run the version it started in for as long as the connection lasts. Each message is one
    # short unit of work (the connection is not: it would hold every release back).
    if (await receive())["type"] != "websocket.connect":
        return
    query = parse_qs(scope.get("query_string", b"").decode())
    member = Member(query.get("name", ["anonymous"])[0][:40])
    await send({"type": "websocket.accept"})

    async def write():
        while True:
            text = await member.outbox.get()
            await send({"type": "websocket.send", "text": text})

    writer = asyncio.create_task(write())
    await handle(member, lambda: pmnc.room.join(member))
    try:
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                break
            text = event.get("text")
            if text is not None:
                await handle(member, lambda t=text: pmnc.chat.receive(member, t))
    finally:
        await handle(member, lambda: pmnc.room.leave(member))
        writer.cancel()


async def lifespan(receive, send):
    while True:
        event = await receive()
        if event["type"] == "lifespan.startup":
            # Load the handlers now, so that the first request does not pay for it.
            pmnc.pages, pmnc.chat, pmnc.room
            await send({"type": "lifespan.startup.complete"})
        elif event["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "http":
        await http(scope, receive, send)
    elif scope["type"] == "websocket" and scope["path"] == "/chat":
        await chat(scope, receive, send)
    elif scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 4404})
    elif scope["type"] == "lifespan":
        await lifespan(receive, send)


# Each HTTP request is a unit of work: it sees one generation of the handlers from its first
# access to its last, even when a release is published meanwhile.
app = pmnc_hook.asgi(application)
