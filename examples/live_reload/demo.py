"""See a live reload: this program rewrites one of its own modules while it runs.

    python examples/live_reload/demo.py

It installs pmnc_hook over modules/, calls pmnc.greeting.greet(), writes a new version of
modules/greeting.py, and keeps calling: the watcher notices the write, and the next access to
pmnc.greeting is where the new version is loaded (nothing calls refresh()). Then it writes a
broken version to show that a failed reload keeps the old version serving. At the end the
file gets its original content back.
"""

import logging
import sys
import time
from pathlib import Path

import pmnc_hook
from pmnc_hook import pmnc

MODULES = Path(__file__).resolve().parent / "modules"
GREETING = MODULES / "greeting.py"
DEADLINE = 10.0  # seconds to wait for the watcher; it usually takes a few tens of ms


def wait_until(condition, what):
    """Call ``condition`` (which accesses pmnc.greeting) until it is true; return the ms."""
    started = time.perf_counter()
    accesses = 0
    while True:
        accesses += 1
        if condition():
            break
        if time.perf_counter() - started > DEADLINE:
            print(f"{what}: not seen within {DEADLINE:.0f} s", flush=True)
            sys.exit(1)
        time.sleep(0.002)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"  ({what} {elapsed:.0f} ms after the write, at access number {accesses})")


def version():
    return pmnc_hook.status()["greeting"].version


def main():
    original = GREETING.read_bytes()
    # pmnc_hook logs each reload and each failed reload on the "pmnc_hook" logger.
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="  [log] %(message)s")
    try:
        with pmnc_hook.install([MODULES]):
            print(f"installed over {MODULES}")
            print(f"before: {pmnc.greeting.greet('world')!r} (version {version()})")

            print("writing a new greeting.py while the program runs ...", flush=True)
            GREETING.write_text(original.decode().replace("Hello", "Good morning"))
            wait_until(lambda: pmnc.greeting and version() == 2, "reloaded")
            print(f"after:  {pmnc.greeting.greet('world')!r} (version {version()})")

            print("writing a broken greeting.py ...", flush=True)
            GREETING.write_text("def greet(name):\n    return f'Hi, {name}!'  +\n")
            wait_until(
                lambda: pmnc.greeting and pmnc_hook.status()["greeting"].last_error,
                "failed reload seen",
            )
            error = pmnc_hook.status()["greeting"].last_error
            print(f"still:  {pmnc.greeting.greet('world')!r} (version {version()} keeps serving)")
            print(f"        last_error: {type(error).__name__}: {error}")
    finally:
        GREETING.write_bytes(original)
        print("greeting.py has its original content again")
    print("live reload: OK")


if __name__ == "__main__":
    main()
