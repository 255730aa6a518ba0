"""The one place that registers fork handlers: every subsystem subscribes here.

``os.register_at_fork`` is called once, at import. Subsystems add callbacks with
``at_fork(before=..., after_in_parent=..., after_in_child=...)``; ``before`` callbacks run in
reverse order of subscription (like ``os.register_at_fork``), the ``after`` ones in order, so
a subsystem subscribed later (which may depend on an earlier one) is prepared first and
restored last. A callback that raises is logged on ``pmnc_hook.fork`` and the others still run:
a fork must never fail because of us.
"""

from __future__ import annotations

import os
from typing import Callable, Optional

__all__ = ("at_fork",)

Callback = Callable[[], None]

# Lists are only appended to (at import time of the subscribing modules); a fork copies them.
_before: list[Callback] = []
_after_in_parent: list[Callback] = []
_after_in_child: list[Callback] = []


def at_fork(
    *,
    before: Optional[Callback] = None,
    after_in_parent: Optional[Callback] = None,
    after_in_child: Optional[Callback] = None,
) -> None:
    """Subscribe callbacks to run around every ``os.fork()`` of this process."""
    if before is not None:
        _before.append(before)
    if after_in_parent is not None:
        _after_in_parent.append(after_in_parent)
    if after_in_child is not None:
        _after_in_child.append(after_in_child)


def _run(callbacks: list[Callback], what: str) -> None:
    for callback in callbacks:
        try:
            callback()
        except Exception:
            import logging

            logging.getLogger("pmnc_hook.fork").exception("%s handler %r failed", what, callback)


def _run_before() -> None:
    _run(list(reversed(_before)), "before-fork")


def _run_after_in_parent() -> None:
    _run(list(_after_in_parent), "after-fork (parent)")


def _run_after_in_child() -> None:
    _run(list(_after_in_child), "after-fork (child)")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_run_before,
        after_in_parent=_run_after_in_parent,
        after_in_child=_run_after_in_child,
    )
