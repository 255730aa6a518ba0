"""Build one version: compile (directives first), execute into a fresh module, ``pmnc_init``.

Both steps record what the running code accesses through ``pmnc`` (``recording``): that is
the version's ``depends_on``. Nothing here publishes; nothing here takes a lock.
"""

from __future__ import annotations

import logging
import time
import types
from typing import TYPE_CHECKING, Optional

from pmnc_hook.reload import holders, recording
from pmnc_hook.reload.entry import TOKEN, Entry, Version, VersionToken
from pmnc_hook.reload.loader import compile_source, execute, new_module
from pmnc_hook.reload.source import Source

if TYPE_CHECKING:
    from pmnc_hook.reload.registry import Registry

__all__ = ("build_version", "run_init")

_log = logging.getLogger("pmnc_hook.build")


def build_version(registry: Registry, entry: Entry, source: Source, number: int) -> Version:
    """Compile ``source`` and run it as version ``number`` of ``entry``'s module.

    Raises whatever compiling or the body raised (``SyntaxError``, ``DirectiveError``, ...).
    """
    code, directives = compile_source(source.data, source.path)
    module = new_module(entry.fullname, source.path, entry.loader, registry.inject)
    setattr(module, TOKEN, VersionToken(number))
    holders.enter_build()
    try:
        with recording.recording(entry.name) as seen:
            execute(code, module, source)
    finally:
        holders.leave_build()
    return Version(entry.name, number, module, source, directives, depends_on=seen)


def run_init(
    version: Version, old: Optional[types.ModuleType], drain_timeout: Optional[float] = None
) -> None:
    """Run the version's ``pmnc_init(old, new, filename)``, if it defines one."""
    init = version.module.__dict__.get("pmnc_init")
    if init is None:
        return
    if not callable(init):
        raise TypeError(f"{version.source.path}: pmnc_init is not callable ({type(init).__name__})")
    started = time.monotonic()
    holders.enter_build()
    try:
        with recording.recording(version.name) as seen:
            init(old, version.module, version.source.path)
    finally:
        holders.leave_build()
    version.depends_on.update(seen)
    took = time.monotonic() - started
    if drain_timeout is not None and old is not None and took > drain_timeout:
        _log.warning(
            "pmnc.%s: pmnc_init ran %.1f s, longer than the %.1f s drain timeout; callers of "
            "the module waited all that time: keep pmnc_init short (move slow work out of it)",
            version.name,
            took,
            drain_timeout,
        )
