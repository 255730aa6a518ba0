"""The reloadable part of the service: change VERSION (or anything else) while it runs."""

import os

VERSION = 1


def body():
    return f"pid {os.getpid()} version {VERSION}\n"
