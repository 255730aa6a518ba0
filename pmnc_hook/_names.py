"""Name rules shared by the reload core and the static checker (no import of either)."""

from __future__ import annotations

import keyword

__all__ = ("is_module_name",)


def is_module_name(name: str) -> bool:
    """Tell whether ``pmnc.<name>`` may name a module file (identifiers, no dunders)."""
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("__")
