"""What a chat message means: a command, or something said to the room."""

RELEASE = 2  # every message says which release of the chat made it


def receive(member, text):
    """Handle one text frame from ``member``; return a reply for it alone, or None."""
    if text.startswith("/nick "):
        pmnc.room.rename(member, text[len("/nick ") :].strip())
    elif text == "/who":
        return {"who": pmnc.room.who()}
    elif text.startswith("/me "):
        pmnc.room.post(member, "action", {"text": text[len("/me ") :], "chat": RELEASE})
    else:
        pmnc.room.post(member, "say", {"text": text, "chat": RELEASE})
    return None
