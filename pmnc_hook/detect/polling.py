"""Stat polling: find the loaded modules whose stat no longer proves their content unchanged.

In poll mode this is all there is (every ``poll`` seconds); in watch mode it is the backup
that catches what events miss (queue overflows, network file systems whose watches never fire).
A sweep only notices; whether content changed is settled and judged like any event.
"""

from __future__ import annotations

from pmnc_hook.detect.interfaces import Notice, Notify, Target
from pmnc_hook.reload.source import stat_key

__all__ = ("sweep",)


def sweep(target: Target, notify: Notify) -> int:
    """Stat every loaded module of ``target``; notify those that may have changed; count them."""
    noticed = 0
    for path, fingerprint in target.watched():
        if fingerprint is None or not fingerprint.matches(stat_key(path)):
            notify(path, Notice.STAT)
            noticed += 1
    return noticed
