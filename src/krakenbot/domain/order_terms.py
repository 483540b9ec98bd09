"""How an order states its prices: absolute or relative, its trigger, its conditional close.

Owns: `OrderPrice` (an absolute price, or an offset from a reference price), `TriggerState`
(a trigger order's trigger as Kraken reports it) and `ContingentOrder` (the conditional
close attached to an order). Imports: stdlib and domain.enums only.
Kraken lets an order's `price` and `price2` be relative (docs: rest-api/add-order, `price`:
"preceded by `+`, `-`, or `#` to specify the order price as an offset relative to the last
traded price ... suffixed with a `%` to signify the relative amount as a percentage";
trailing stops always use `+`), and WS v2 says the same with `price_type` static | quote |
pct (docs: websocket-v2/add_order `triggers.price_type`).
A relative price stays what it is: it is never turned into a number that looks absolute.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from krakenbot.domain.enums import OrderType, TriggerReference

_SIGNS = ("", "+", "-", "#")


@dataclass(frozen=True, slots=True)
class OrderPrice:
    """`value` is the non-negative number as written. `sign` is "" for an absolute price,
    else "+" (above the reference), "-" (below it) or "#" (Kraken picks the direction from
    the side and order type); `percent` makes the offset a percentage of the reference."""

    value: Decimal
    sign: str = ""
    percent: bool = False

    def __post_init__(self) -> None:
        if self.sign not in _SIGNS:
            raise ValueError(f"price sign must be one of {_SIGNS}, not {self.sign!r}")
        if self.value < 0 or not self.value.is_finite():
            raise ValueError(f"price value must be a finite non-negative number: {self.value}")
        if self.percent and not self.sign:
            raise ValueError("a percentage price must be relative (+, - or #)")

    @property
    def is_absolute(self) -> bool:
        return not self.sign

    @property
    def absolute(self) -> Decimal | None:
        """The price itself when it is absolute, else None."""
        return self.value if not self.sign else None

    def __str__(self) -> str:
        return f"{self.sign}{self.value}{'%' if self.percent else ''}"


@dataclass(frozen=True, slots=True)
class TriggerState:
    """A trigger order's `triggers` object (docs: websocket-v2/executions): what it watches,
    its trigger price (absolute, or the trailing offset), and where it stands."""

    reference: TriggerReference
    price: OrderPrice
    status: str | None = None  # "untriggered" | "triggered"
    actual_price: Decimal | None = None  # the effective trigger price now
    peak_price: Decimal | None = None  # trailing stops: the best price seen
    last_price: Decimal | None = None  # the reference price when it was last evaluated
    timestamp_ns: int = 0


@dataclass(frozen=True, slots=True)
class ContingentOrder:
    """The conditional close an order carries (REST `close[...]`, WS `conditional` /
    executions `contingent`): placed when the parent fills, opposite side, same quantity."""

    order_type: OrderType
    trigger_price: OrderPrice | None = None
    limit_price: OrderPrice | None = None
