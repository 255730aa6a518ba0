"""What a chat message means: a command, or something said to the room."""

RELEASE = 1  # every message says which release of the chat made it


def receive(member, text):
    """Handle one text frame from ``member``; return a reply for it alone, or None."""
    if text.startswith("/nick "):
        pmnc.room.rename(member, text[len("/nick ") :].strip())
    elif text == "/who":
        return {"who": pmnc.room.who()}
    else:
        pmnc.room.post(member, {"text": text, "chat": RELEASE})
    return None
