"""pmnc_hook: reloadable application modules behind the ``pmnc`` facade.

``pmnc.bar.f(x)`` calls the current version of ``bar.py``; if the file changed, the access is
where the new version is loaded. See README.md and docs/ for the model.
"""

from __future__ import annotations

from pmnc_hook._api import (
    Hook,
    generation,
    install,
    on_reload,
    refresh,
    rollback,
    status,
    uninstall,
)
from pmnc_hook._errors import (
    DirectiveError,
    ModuleLoadError,
    PmncHookError,
    PmncHookWarning,
)
from pmnc_hook.reload.events import ReloadEvent
from pmnc_hook.reload.facade import pmnc
from pmnc_hook.reload.registry import ModuleStatus
from pmnc_hook.reload.units import asgi, request, wsgi


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "0+unknown"
    try:
        return version("pmnc_hook")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> str:
    # __version__ is read from the distribution's metadata on first use: importing
    # importlib.metadata costs start-up time every process with the hook would pay.
    if name == "__version__":
        value = _version()
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'pmnc_hook' has no attribute {name!r}")


__all__ = (
    "DirectiveError",
    "Hook",
    "ModuleLoadError",
    "ModuleStatus",
    "PmncHookError",
    "PmncHookWarning",
    "ReloadEvent",
    "__version__",
    "asgi",
    "generation",
    "install",
    "on_reload",
    "pmnc",
    "refresh",
    "request",
    "rollback",
    "status",
    "uninstall",
    "wsgi",
)
