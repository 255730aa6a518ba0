"""The chat room: who is connected, and what was said.

The state lives in this module's globals and pmnc_init hands it to each new version, so a
reload disconnects nobody and loses no message. Members are app.py's connection objects: the
room calls their ``deliver(message)``; it never hands out objects of its own.
"""

RELEASE = 1  # every message says which release of the room delivered it
KEEP = 100  # messages kept for newcomers


def join(member):
    members[member.id] = member
    for message in history[-10:]:
        member.deliver(message)
    _notice(f"{member.name} joined")


def leave(member):
    if members.pop(member.id, None) is not None:
        _notice(f"{member.name} left")


def rename(member, name):
    old, member.name = member.name, name[:40]
    _notice(f"{old} is now {member.name}")


def who():
    return sorted(member.name for member in members.values())


def post(member, message):
    """Number ``message`` (a dict from pmnc.chat), keep it, and deliver it to everyone."""
    global posted
    posted += 1
    message.update(n=posted, author=member.name, room=RELEASE)
    history.append(message)
    del history[:-KEEP]
    for other in list(members.values()):
        other.deliver(message)


def stats():
    return {"room": RELEASE, "members": len(members), "posted": posted}


def _notice(text):
    for member in list(members.values()):
        member.deliver({"notice": text, "room": RELEASE})


def pmnc_init(old_module, new_module, new_module_filename):
    if old_module:
        new_module.members = old_module.members
        new_module.history = old_module.history
        new_module.posted = old_module.posted
    else:
        new_module.members = {}
        new_module.history = []
        new_module.posted = 0
