"""Check arguments and results against checkers: ``@takes(list_of(int))``, ``@returns(str)``,
or ``@typecheck`` with the same checkers as annotations (``def f(x: list_of(int))``).

A checker is a class (``isinstance``), a typing construct (``typeguard.check_type``, every
element of a collection), ``None`` (the value must be ``None``), a tuple (any of its
checkers), one of the combinators below, or a predicate (any other callable: a truthy result
accepts the value, an exception rejects it). It means the same given to ``takes``, to
``returns`` or as an annotation; docs/typecheck.md describes the language.

``takes`` maps positional checkers to the parameters in order (``self``/``cls`` included) and
keyword checkers by name; a parameter is checked however it is passed, and a checker for a
``*args`` or ``**kwargs`` parameter checks the tuple or dict as a whole. ``returns`` checks the
result: the awaited value of an ``async def``, the ``return`` value of a generator.
``typecheck`` checks from annotations (``*args: int`` checks each element), read as the
running Python means them (strings too); those that name what is not defined yet are resolved
at the first call. A checker that makes no sense, or a default value its checker rejects,
raises ``TypeCheckSpecificationError`` when decorating.

``disable()`` and ``enable()`` switch the checks of every decorated function at run time;
``PMNC_HOOK_TYPECHECK=0`` in the environment at import starts them switched off.
"""

from __future__ import annotations

import builtins

from pmnc_hook.typecheck.checkers import anything, nothing
from pmnc_hook.typecheck.decorators import disable, enable, returns, takes, typecheck
from pmnc_hook.typecheck.errors import (
    InputParameterError,
    ReturnValueError,
    TypeCheckError,
    TypeCheckSpecificationError,
)
from pmnc_hook.typecheck.language import (
    by_regex,
    dict_of,
    either,
    list_of,
    one_of,
    optional,
    set_of,
    tuple_of,
    with_attr,
)

__all__ = (
    "InputParameterError",
    "ReturnValueError",
    "TypeCheckError",
    "TypeCheckSpecificationError",
    "anything",
    "by_regex",
    "callable",
    "dict_of",
    "disable",
    "either",
    "enable",
    "list_of",
    "nothing",
    "one_of",
    "optional",
    "returns",
    "set_of",
    "takes",
    "tuple_of",
    "typecheck",
    "with_attr",
)

# The builtin itself, re-exported so that injecting ``__all__`` into a module changes nothing.
callable = builtins.callable
