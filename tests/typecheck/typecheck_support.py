"""What the typecheck tests share: running, draining, error messages, module files, samples."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import textwrap
import typing
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pmnc_hook.typecheck import InputParameterError, enable


@pytest.fixture(autouse=True)
def checks_on() -> Any:
    """Every test starts with checks enabled and leaves them enabled (import it to use it)."""
    enable()
    yield
    enable()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def drain(generator: Any) -> tuple[list[Any], Any]:
    """Run a generator to its end: (the items it yielded, the value it returned)."""
    items = []
    while True:
        try:
            items.append(next(generator))
        except StopIteration as stop:
            return items, stop.value


def message_of(call: Any, error: type[Exception] = InputParameterError) -> str:
    """The message ``call()`` raises, less the "test_x.<locals>." of a local function."""
    with pytest.raises(error) as info:
        call()
    return str(info.value).rpartition(".<locals>.")[2]


def load_module(directory: Path, name: str, source: str) -> ModuleType:
    """Write ``source`` to ``directory/name.py`` and import it under ``name`` (not cached)."""
    path = directory / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and typing look modules up by name
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


class Point:
    x = 1
    y = 2


class HasClose(typing.Protocol):
    def close(self) -> None: ...


@typing.runtime_checkable
class Sized(typing.Protocol):
    def __len__(self) -> int: ...


class Closable:
    def close(self) -> None:
        pass
