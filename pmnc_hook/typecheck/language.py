"""The checker language: what a checker as written means, in ``takes``, ``returns`` and
annotations alike, and the combinators that build checkers.

``compile_checker`` is the one compile path. A checker as written is a ``Checker`` (the
combinators, ``anything``, ``nothing``), ``None`` (the value must be ``None``), a tuple (any
of its checkers: ``either``), a class (``isinstance``), a typing construct (typeguard, every
element of a collection) or a predicate (any other callable). A typing construct that holds
what typing cannot check (``Optional[list_of(int)]``, ``Annotated[str, by_regex(...)]``) is
translated into combinators, or refused: typeguard accepts objects it does not know, so only
what typing itself means reaches it. Anything else is a ``TypeCheckSpecificationError``.
"""

from __future__ import annotations

import builtins
import collections.abc as abc
import sys
import typing
from collections.abc import Iterable, Iterator
from typing import Optional, TypeVar, Union

from pmnc_hook.typecheck.checkers import (
    Checker,
    InstanceOf,
    Predicate,
    TypeHint,
    anything,
    nothing,
)
from pmnc_hook.typecheck.combinators import (
    AllOf,
    ByRegex,
    Collection,
    DictOf,
    Either,
    FixedTuple,
    OneOf,
    OrNone,
    WithAttr,
)
from pmnc_hook.typecheck.errors import TypeCheckSpecificationError, show

if typing.TYPE_CHECKING:
    import re

__all__ = (
    "by_regex",
    "compile_all",
    "compile_checker",
    "dict_of",
    "either",
    "list_of",
    "one_of",
    "optional",
    "set_of",
    "tuple_of",
    "with_attr",
)

# Plain classes that typing, and so typeguard, widens: int passes for float, bytearray for bytes.
_PROMOTED = frozenset({float, complex, bytes})
_TYPING_MODULES = frozenset({"typing", "typing_extensions"})
_UNIONS: tuple[object, ...] = (typing.Union,)
if sys.version_info >= (3, 10):
    import types

    _UNIONS += (types.UnionType,)
# Typing origins whose arguments are element checkers, translated into combinators when an
# argument is something typing cannot check.
_SEQUENCES = (list, set, frozenset, abc.Sequence, abc.MutableSequence, abc.Set, abc.MutableSet)
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)


def compile_checker(spec: object, *, hint: bool = False) -> Checker:
    """Turn a checker as written into a ``Checker``, or raise a specification error.

    ``hint``: ``spec`` stands where typing reads a type (an annotation, or inside a typing
    construct), so ``float``, ``complex`` and ``bytes`` follow typing's promotions (PEP 484).
    """
    if isinstance(spec, Checker):
        return spec
    if spec is None or spec is type(None):
        return nothing
    if spec is typing.Any or spec is object or getattr(spec, "_name", None) == "Self":
        return anything  # Self has no meaning outside typeguard's own instrumentation
    if isinstance(spec, tuple):
        return either(*spec)
    if _is_typing_construct(spec):
        return _from_typing(spec)
    if isinstance(spec, type):
        return _from_class(spec, hint)
    if builtins.callable(spec):
        return Predicate(spec)
    if isinstance(spec, str):
        raise TypeCheckSpecificationError(
            f"{show(spec)} is not a checker: name the class itself (a string is a forward "
            "reference only in an annotation, where typecheck resolves it)"
        )
    raise TypeCheckSpecificationError(
        f"{show(spec)} is not a checker: use a class, a typing construct, None, a combinator "
        "such as list_of(int), or a predicate function"
    )


def compile_all(specs: Iterable[object], where: str) -> tuple[Checker, ...]:
    """Compile every checker of ``specs``; errors start with ``where``."""
    try:
        return tuple(compile_checker(spec) for spec in specs)
    except TypeCheckSpecificationError as exc:
        raise TypeCheckSpecificationError(f"{where}: {exc}") from exc.__cause__


def _is_typing_construct(spec: object) -> bool:
    """Tell whether ``spec`` is something of typing's (``list[int]``, ``Optional[str]``)."""
    if typing.get_origin(spec) is not None or hasattr(spec, "__supertype__"):
        return True  # list[int], Optional[str], Literal[...], int | None, NewType
    if isinstance(spec, (TypeVar, typing.ForwardRef)):
        return True
    return not isinstance(spec, type) and type(spec).__module__ in _TYPING_MODULES


def _from_class(cls: type, hint: bool) -> Checker:
    if hint and cls in _PROMOTED:
        return TypeHint(cls)
    try:
        isinstance(None, cls)
    except TypeError:  # a Protocol or TypedDict: typeguard knows how to check it
        return TypeHint(cls)
    return InstanceOf(cls)


# ---- typing constructs ------------------------------------------------------------------


def _is_literal(origin: object) -> bool:
    # typing_extensions has a Literal of its own on 3.9 and 3.10.0
    return origin is typing.Literal or getattr(origin, "_name", None) == "Literal"


def _arguments(hint: object) -> Iterator[object]:
    for arg in typing.get_args(hint):
        if isinstance(arg, list):  # Callable[[int, str], bool]
            yield from arg
        else:
            yield arg


def _foreign(hint: object) -> Iterator[object]:
    """Yield what typing cannot check inside ``hint``: checkers, predicates, other values."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *metadata = typing.get_args(hint)
        yield from _foreign(base)
        yield from (item for item in metadata if isinstance(item, Checker))
    elif _is_literal(origin):
        return  # its arguments are values, not types
    elif origin is not None:
        for arg in _arguments(hint):
            yield from _foreign(arg)
    elif isinstance(hint, TypeVar):
        for bound in (hint.__bound__, *hint.__constraints__):
            yield from _foreign(bound)
    elif _stands_for(hint) is not None:
        yield from _foreign(_stands_for(hint))
    elif not (
        hint is None
        or hint is Ellipsis
        or (isinstance(hint, tuple) and not hint)  # Tuple[()] on 3.9
        or isinstance(hint, (type, str, typing.ForwardRef))
        or _is_typing_construct(hint)
    ):
        yield hint


def _stands_for(hint: object) -> object:
    """Return what a ``NewType`` or a ``type`` alias (3.12+) stands for, else ``None``."""
    if hasattr(hint, "__supertype__"):
        return hint.__supertype__
    if type(hint).__name__ == "TypeAliasType" and type(hint).__module__ in _TYPING_MODULES:
        try:
            return getattr(hint, "__value__", None)
        except NameError:  # a name defined later: typeguard resolves it when checking
            return None
    return None


def _from_typing(hint: object) -> Checker:
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *metadata = typing.get_args(hint)
        parts: tuple[Checker, ...] = (compile_checker(base, hint=True),)
        parts += tuple(item for item in metadata if isinstance(item, Checker))
        return parts[0] if len(parts) == 1 else AllOf(parts, repr(hint))
    strange = next(_foreign(hint), None)
    if strange is None:
        return TypeHint(hint)
    target = _stands_for(hint)
    if target is not None:  # a NewType or type alias of something typing cannot check
        return compile_checker(target, hint=True)
    translated = _translate(origin, typing.get_args(hint), repr(hint))
    if translated is None:
        raise TypeCheckSpecificationError(
            f"typing cannot check {show(strange)} inside {show(hint)}: write that part with "
            "the combinators (list_of(...), dict_of(...), either(...), optional(...)) or as "
            "Annotated[<type>, <checker>]"
        )
    return translated


def _translate(origin: object, args: tuple[object, ...], shown: str) -> Optional[Checker]:
    """Return the combinator that means ``origin[args]``, if there is one."""

    def parts(specs: Iterable[object]) -> tuple[Checker, ...]:
        return tuple(compile_checker(spec, hint=True) for spec in specs)

    if origin in _UNIONS:
        options = parts(args)
        others = tuple(option for option in options if option is not nothing)
        if len(others) == len(options):
            return Either(options, shown)
        if len(others) == 1:
            return OrNone(others[0], shown)
        return OrNone(Either(others, f"either({', '.join(map(repr, others))})"), shown)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return Collection((tuple,), compile_checker(args[0], hint=True), shown)
        empty = len(args) == 1 and isinstance(args[0], tuple) and not args[0]  # 3.9: Tuple[()]
        return FixedTuple(() if empty else parts(args), shown)
    kind = typing.cast("type", origin)
    if origin in _SEQUENCES and len(args) == 1:
        return Collection((kind,), compile_checker(args[0], hint=True), shown)
    if origin in _MAPPINGS and len(args) == 2:
        key, value = parts(args)
        return DictOf((kind,), key, value, shown)
    return None


# ---- the combinators --------------------------------------------------------------------


def _one(spec: object, where: str) -> Checker:
    (checker,) = compile_all([spec], where)
    return checker


def list_of(checker: object) -> Checker:
    """Accept a list or tuple whose every element passes ``checker``."""
    item = _one(checker, "list_of()")
    return Collection((list, tuple), item, f"list_of({item!r})")


def tuple_of(checker: object) -> Checker:
    """Accept a tuple whose every element passes ``checker``."""
    item = _one(checker, "tuple_of()")
    return Collection((tuple,), item, f"tuple_of({item!r})")


def set_of(checker: object) -> Checker:
    """Accept a set or frozenset whose every element passes ``checker``."""
    item = _one(checker, "set_of()")
    return Collection((set, frozenset), item, f"set_of({item!r})")


def dict_of(key_checker: object, value_checker: object) -> Checker:
    """Accept a dict whose every key and every value pass their checkers."""
    key, value = compile_all([key_checker, value_checker], "dict_of()")
    return DictOf((dict,), key, value, f"dict_of({key!r}, {value!r})")


def optional(checker: object) -> Checker:
    """Accept ``None`` or a value that passes ``checker``."""
    item = _one(checker, "optional()")
    return OrNone(item, f"optional({item!r})")


def one_of(*values: object) -> Checker:
    """Accept a value equal to one of ``values``."""
    return OneOf(values)


def either(*checkers: object) -> Checker:
    """Accept a value that passes any of ``checkers``."""
    options = compile_all(checkers, "either()")
    return Either(options, f"either({', '.join(map(repr, options))})")


def with_attr(*names: str) -> Checker:
    """Accept a value that has every one of the attributes ``names``."""
    return WithAttr(names)


def by_regex(pattern: Union[str, re.Pattern[str]]) -> Checker:
    """Accept a ``str`` that the regular expression ``pattern`` matches in full."""
    return ByRegex(pattern)
