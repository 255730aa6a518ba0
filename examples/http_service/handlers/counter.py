"""GET /counter: numbers the requests it serves; the count survives reloads (pmnc_init)."""

import threading

lock = threading.Lock()


def get(query):
    global served
    with lock:
        served += 1
        number = served
    return f"request number {number} (counter v1)\n"


def pmnc_init(old_module, new_module, new_module_filename):
    if old_module:
        new_module.served = old_module.served  # the count goes on from the old version
    else:
        new_module.served = 0
