"""pmnc_hook: reloadable application modules behind the ``pmnc`` facade.

``pmnc.bar.f(x)`` calls the current version of ``bar.py``; if the file changed, the access is
where the new version is loaded. See README.md and docs/ for the model.

The public names are imported on first use (PEP 562): importing this package costs a process
nothing, which matters to every process the ``PMNC_HOOK_PATH`` start-up runs in. A public name
is one line in ``__all__``, found in the first of ``_HOMES`` that defines it; mypy reads the
same names through the star imports below.
"""

from __future__ import annotations

import sys

# ruff: noqa: F405 - the public names in __all__ come from the star imports mypy reads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pmnc_hook._api import *  # noqa: F403
    from pmnc_hook._errors import *  # noqa: F403
    from pmnc_hook.reload.events import *  # noqa: F403
    from pmnc_hook.reload.facade import pmnc
    from pmnc_hook.reload.registry import *  # noqa: F403
    from pmnc_hook.reload.units import *  # noqa: F403

    __version__: str

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

# Where the public names are defined, searched in this order (the light modules first, so
# that ``from pmnc_hook import pmnc`` does not import the whole hook).
_HOMES = (
    "pmnc_hook._errors",
    "pmnc_hook.reload.facade",
    "pmnc_hook.reload.events",
    "pmnc_hook._api",
    "pmnc_hook.reload.registry",
    "pmnc_hook.reload.units",
)


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "0+unknown"
    try:
        return version("pmnc_hook")
    except PackageNotFoundError:
        return "0+unknown"


def _public(name: str) -> object:
    if name == "__version__":
        return _version()
    for home in _HOMES:
        module = _import(home)
        if name in getattr(module, "__all__", ()):
            return getattr(module, name)
    raise AttributeError(f"pmnc_hook.{name} is in __all__ but in none of {_HOMES}")


def __getattr__(name: str) -> object:
    if name in __all__:
        value = _public(name)
    elif name == "modules":
        # pmnc_hook.modules (the namespace package) exists once the hook is installed; a
        # start-up still waiting for its first use installs it now.
        from pmnc_hook import _deferred

        _deferred.finish()
        value = globals().get("modules")
        if value is None:
            raise AttributeError("pmnc_hook.modules exists only while the hook is installed")
        return value
    else:
        value = _submodule(name)
    globals()[name] = value
    return value


def _import(name: str) -> object:
    # Not importlib.import_module: importing importlib costs the start-up, which reaches this
    # through ``from pmnc_hook import _deferred``.
    __import__(name)
    return sys.modules[name]


def _submodule(name: str) -> object:
    # pmnc_hook.<subpackage> without importing it first, as before the names were lazy.
    if name.isidentifier() and not name.startswith("__"):
        try:
            return _import(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
