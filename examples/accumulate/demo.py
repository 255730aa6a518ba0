"""The seed's modules, reloaded while the program runs: state survives, settings stay put.

    python examples/accumulate/demo.py

modules/ holds the three modules of the Pythomnic text, verbatim: pure.py (pure behaviour),
accumulator.py (state, migrated by pmnc_init) and settings.py (__reloadable__ = False). This
script calls them, rewrites each file, and shows what a reload does to each. At the end every
file gets its original content back.
"""

import logging
import sys
from pathlib import Path

import pmnc_hook
from pmnc_hook import pmnc

MODULES = Path(__file__).resolve().parent / "modules"


def edit(name, old, new):
    """Replace ``old`` by ``new`` in modules/<name>.py (the text must be there)."""
    path = MODULES / f"{name}.py"
    text = path.read_text()
    assert old in text, f"{old!r} is not in {path}"
    path.write_text(text.replace(old, new))


def refresh():
    """Check the files now (the watcher would notice within milliseconds anyway)."""
    changed = pmnc_hook.refresh()
    print(f"refresh() -> {changed}")
    return changed


def version(name):
    return pmnc_hook.status()[name].version


def main():
    files = {path: path.read_bytes() for path in MODULES.glob("*.py")}
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="  [log] %(message)s")
    try:
        with pmnc_hook.install([MODULES]):
            run()
    finally:
        for path, data in files.items():
            path.write_bytes(data)
        print("the module files have their original content again")
    print("accumulate: OK")


def run():
    print("== pure.py: behaviour only, nothing to migrate")
    print(f"pure_function(1, 2, 3) = {pmnc.pure.pure_function(1, 2, 3)}")
    try:
        pmnc.pure.pure_function(1, "2")
    except TypeError as exc:  # @takes(list_of(int)) checks every argument
        print(f"pure_function(1, '2') -> {type(exc).__name__}: {exc}")
    edit(
        "pure",
        "# EOF",
        "@takes(list_of(int))\ndef pure_maximum(*args):\n    return max(args)\n# EOF",
    )
    assert refresh() == ["pure"]
    print(f"pure_maximum(3, 9, 4) = {pmnc.pure.pure_maximum(3, 9, 4)} (version {version('pure')})")

    print("\n== accumulator.py: state, migrated by pmnc_init")
    for x in range(1, 11):
        pmnc.accumulator.accumulate(x)
    print(f"accumulate(1) ... accumulate(10): sum = {pmnc.accumulator.sum}")
    edit("accumulator", "    sum += x\n", "    sum += 2 * x # version 2 counts double\n")
    assert refresh() == ["accumulator"]
    print(f"after the reload: sum = {pmnc.accumulator.sum} (version {version('accumulator')})")
    pmnc.accumulator.accumulate(5)
    print(f"accumulate(5) with the new code: sum = {pmnc.accumulator.sum}")
    assert (pmnc.accumulator.sum, version("accumulator")) == (65, 2)

    print("\n== a pmnc_init that fails: the old version keeps serving, its state intact")
    edit("accumulator", "old_module.sum #", "old_module.total #")
    assert refresh() == ["accumulator"]
    pmnc.accumulator.accumulate(1)
    error = pmnc_hook.status()["accumulator"].last_error
    print(f"last_error: {type(error).__name__}: {error}")
    print(f"accumulate(1): sum = {pmnc.accumulator.sum} (version {version('accumulator')})")
    assert (pmnc.accumulator.sum, version("accumulator")) == (67, 2)

    print("\n== settings.py: __reloadable__ = False, loaded once")
    print(f"started_with = {pmnc.settings.started_with!r}")
    edit("settings", "as loaded at start-up", "as edited later")
    assert refresh() == []
    status = pmnc_hook.status()["settings"]
    print(f"started_with = {pmnc.settings.started_with!r} (version {status.version})")
    assert status.version == 1 and not status.reloadable


if __name__ == "__main__":
    main()
