"""A cheaper constructor for hot frozen, slotted dataclasses (pure).

Owns: `slot_constructor(cls)`. Imports: stdlib only.

Why: a frozen dataclass's generated `__init__` sets every field through
`object.__setattr__(self, name, value)` (its own `__setattr__` refuses assignments), a generic
attribute lookup per field: about 3.4 µs for `ExecutionReport`'s 29 fields on this machine,
and every order brings ~3 reports. `object.__setattr__` ends in the field's slot descriptor;
calling each descriptor's `__set__` directly builds the same object (same class, same slots,
still frozen afterwards) in about half the time. Generated once per class, like the
dataclass `__init__` itself, with the same parameters and defaults, so mypy checks its calls
against the class's own signature.

Only for classes whose `__init__` does nothing else: slots, frozen, every field in `__init__`,
no `default_factory`, no `__post_init__` (validation would be skipped), no InitVar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


def slot_constructor(cls: Callable[P, T]) -> Callable[P, T]:
    """A function taking exactly `cls`'s parameters (positional is fastest) and returning the
    instance `cls(...)` would; TypeError if `cls` is not a plain frozen slotted dataclass."""
    if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    params = getattr(cls, "__dataclass_params__", None)
    if not getattr(params, "frozen", False) or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__ that this would skip")
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dict__["__slots__"]):
        raise TypeError(f"{cls.__name__} has slots that are not fields")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params_src: list[str] = []
    body: list[str] = []
    for i, f in enumerate(fields):
        if not f.init or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name} is not a plain __init__ field")
        if f.default is dataclasses.MISSING:
            params_src.append(f.name)
        else:
            namespace[f"_d{i}"] = f.default
            params_src.append(f"{f.name}=_d{i}")
        namespace[f"_s{i}"] = cls.__dict__[f.name].__set__
        body.append(f"    _s{i}(self, {f.name})\n")
    source = (
        f"def new_{cls.__name__}({', '.join(params_src)}):\n"
        "    self = _new(_cls)\n" + "".join(body) + "    return self\n"
    )
    exec(source, namespace)  # the source holds field names only, as dataclasses' own
    made: Callable[P, T] = namespace[f"new_{cls.__name__}"]
    made.__qualname__ = f"slot_constructor({cls.__name__})"
    made.__doc__ = f"Builds {cls.__name__} like its __init__, faster (domain.construct)."
    return made
