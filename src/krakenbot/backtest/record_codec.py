"""The engine's inputs and sends as JSON values, and back: the format of `run --record`.

Owns: `encode` (a domain event, engine input or command — frozen dataclasses and
NamedTuples of Decimals, ints, strings, enums, nested values — to a JSON-able value, tagged
with its type name) and `decode` (back to the very same value: `decode(encode(x)) == x`).
Decimals are exact text. Only the types in `TYPES` are read back: a recording never names
a class to build. Pure: no I/O. Imports: domain, engine (its input events).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from decimal import Decimal
from typing import Any

from krakenbot.domain import commands, effects, events, instrument, order_terms
from krakenbot.engine import inputs

_MODULES = (events, commands, effects, order_terms, instrument, inputs)
TYPES: dict[str, type] = {
    name: obj
    for module in _MODULES
    for name, obj in vars(module).items()
    if isinstance(obj, type)
    and obj.__module__ == module.__name__
    and (dataclasses.is_dataclass(obj) or hasattr(obj, "_fields"))
}
_HINTS: dict[type, dict[str, Any]] = {}


class RecordError(ValueError):
    """A recorded value that is not what the engine could have seen."""


def _fields(value: Any) -> list[str]:
    if dataclasses.is_dataclass(value):
        return [f.name for f in dataclasses.fields(value)]
    return list(type(value)._fields)


def encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str | float):
        return value  # a float goes through JSON as its shortest repr: exactly
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return [encode(v) for v in value]
    name = type(value).__name__
    if TYPES.get(name) is not type(value):
        raise RecordError(f"cannot record a {name}")
    return {"@": name, **{f: encode(getattr(value, f)) for f in _fields(value)}}


def _hints(cls: type) -> dict[str, Any]:
    found = _HINTS.get(cls)
    if found is None:
        found = _HINTS[cls] = typing.get_type_hints(cls)
    return found


def decode(raw: Any, hint: Any = None) -> Any:
    if isinstance(raw, dict):
        cls = TYPES.get(str(raw.get("@")))
        if cls is None:
            raise RecordError(f"unknown recorded type {raw.get('@')!r}")
        hints = _hints(cls)
        values = {k: decode(v, hints.get(k)) for k, v in raw.items() if k != "@"}
        return cls(**values)
    if raw is None:
        return None
    return _typed(raw, hint)


def _typed(raw: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        for option in options:
            try:
                return _typed(raw, option)
            except (TypeError, ValueError, ArithmeticError):
                continue
        raise RecordError(f"{raw!r} is none of {hint}")
    if origin is tuple:
        args = typing.get_args(hint)
        inner = args[0] if args else None
        return tuple(decode(v, inner) for v in raw)
    if hint is Decimal:
        if not isinstance(raw, str):
            raise TypeError("a decimal is recorded as text")
        return Decimal(raw)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(raw)
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise TypeError("not a number")
        return float(raw)
    if hint is bool and not isinstance(raw, bool):
        raise TypeError("not a bool")
    if hint is int and (isinstance(raw, bool) or not isinstance(raw, int)):
        raise TypeError("not an int")
    return raw


__all__ = ["TYPES", "RecordError", "decode", "encode"]
