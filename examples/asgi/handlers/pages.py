"""The HTTP pages."""

import asyncio

import pmnc_hook

RELEASE = 1


def index():
    return (
        f"chat service, release {RELEASE} of pages.py\n"
        "  websocket: /chat?name=NAME   (send text; /who; /nick NAME)\n"
        "  GET /room?wait=SECONDS, GET /status\n"
    )


async def room(query):
    """The room's figures, read twice with a wait in between: one request is one unit of
    work, so both readings come from one generation, even if a release is published during
    the wait."""
    wait = min(float(query.get("wait", ["0"])[0]), 5.0)
    before = dict(pmnc.room.stats(), generation=pmnc_hook.generation())
    await asyncio.sleep(wait)
    after = dict(pmnc.room.stats(), generation=pmnc_hook.generation())
    return {"pages": RELEASE, "before": before, "after": after}
