"""Describe what a check rejected: the errors of ``pmnc_hook.typecheck`` and their parts.

The error classes are public as ``pmnc_hook.typecheck.<name>`` and say so in ``__module__``,
so tracebacks and pickles name them there. ``show`` is the one bounded, never-raising ``repr``
every message uses; a ``Mismatch`` locates a rejected value inside the value checked.
"""

from __future__ import annotations

import reprlib
from typing import Optional

__all__ = (
    "InputParameterError",
    "Mismatch",
    "ReturnValueError",
    "TypeCheckError",
    "TypeCheckSpecificationError",
    "show",
)

_PUBLIC_MODULE = "pmnc_hook.typecheck"


class TypeCheckError(TypeError):
    """Base of the errors this module raises."""

    __module__ = _PUBLIC_MODULE


class InputParameterError(TypeCheckError):
    """An argument was rejected by its checker; the message names function, parameter, value."""

    __module__ = _PUBLIC_MODULE


class ReturnValueError(TypeCheckError):
    """A result was rejected by its checker; the message names the function and the value."""

    __module__ = _PUBLIC_MODULE


class TypeCheckSpecificationError(TypeCheckError):
    """A checker makes no sense, names no parameter, or rejects its parameter's default."""

    __module__ = _PUBLIC_MODULE


_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 120
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdict = 10
_repr.maxlevel = 4


def show(value: object) -> str:
    """Return a bounded ``repr`` of ``value`` for a message."""
    return _repr.repr(value)  # never raises: a failing __repr__ becomes "<T instance at ...>"


class Mismatch:
    """A rejected value: ``path`` leads to it from the value checked (``[1]['k']``), ``role``
    says if it is a key or set element there, ``reason`` why, if a check said."""

    __slots__ = ("cause", "path", "reason", "role", "value")

    def __init__(
        self,
        value: object,
        *,
        role: str = "",
        reason: str = "",
        cause: Optional[BaseException] = None,
    ) -> None:
        self.value = value
        self.path = ""
        self.role = role
        self.reason = reason
        self.cause = cause

    def below(self, segment: str) -> Mismatch:
        self.path = segment + self.path
        return self

    def location(self, root: str) -> str:
        return f"{self.role} {root}{self.path}" if self.role else f"{root}{self.path}"

    def shown(self) -> str:
        return f"{show(self.value)} ({self.reason})" if self.reason else show(self.value)
