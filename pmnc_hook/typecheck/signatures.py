"""Read a callable's parameters without evaluating its annotations.

On 3.14+ annotations are evaluated lazily (PEP 649), and ``inspect.signature`` evaluates them:
a forward reference to a name defined later in the module would raise ``NameError`` while
decorating. The parameters (names, kinds, defaults) are all the checks need; annotations are
read separately, by ``annotations``, which knows when to wait for such names.
"""

from __future__ import annotations

import builtins
import sys
from typing import TYPE_CHECKING, Any, Callable

from pmnc_hook.typecheck.errors import TypeCheckSpecificationError, show

if TYPE_CHECKING:
    import inspect

__all__ = ("read_signature", "signature_of")


def signature_of(func: Callable[..., Any]) -> inspect.Signature:
    """Return ``inspect.signature(func)``; on 3.14+ without evaluating annotations that name
    what is not defined yet (they are left as forward references)."""
    import inspect  # at decoration only: importing the package stays cheap

    if sys.version_info >= (3, 14):
        from annotationlib import Format

        return inspect.signature(func, annotation_format=Format.FORWARDREF)
    return inspect.signature(func)


def read_signature(func: Callable[..., Any], label: str) -> inspect.Signature:
    """Return the signature of the function that ``label`` decorates, or refuse it."""
    if isinstance(func, type) or not builtins.callable(func):
        raise TypeCheckSpecificationError(
            f"{label} decorates functions and methods, not {show(func)}"
        )
    try:
        return signature_of(func)
    except (TypeError, ValueError) as exc:
        raise TypeCheckSpecificationError(
            f"{label} cannot read the signature of {show(func)}: {exc}"
        ) from exc
