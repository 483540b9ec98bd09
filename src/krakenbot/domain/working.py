"""Live orders as decision code sees them, and the exposure they add.

Owns: `WorkingOrder` (a non-terminal order as the risk gate and strategies read it) and
`exposure` (quote value at risk: positions at their marks plus working entry orders).
Imports: stdlib and domain. Must not import: I/O, the clock, the orders package.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.order import Order

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class WorkingOrder:
    """A live (non-terminal) order as decision code sees it."""

    cl_ord_id: str
    symbol: str
    side: Side
    order_type: OrderType
    remaining_qty: Decimal
    limit_price: Decimal | None
    reduces_position: bool = False
    tag: str = ""
    created_ns: int = 0
    cancel_requested: bool = False
    post_only: bool = False
    trigger_price: Decimal | None = None
    filled_qty: Decimal = ZERO

    @classmethod
    def of(cls, order: Order) -> WorkingOrder:
        return cls(
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            remaining_qty=order.remaining_qty,
            limit_price=order.limit_price,
            reduces_position=order.reduces_position,
            tag=order.tag,
            created_ns=order.created_ns,
            cancel_requested=order.cancel_requested,
            post_only=order.post_only,
            trigger_price=order.trigger_price,
            filled_qty=order.filled_qty,
        )


def exposure(
    positions: Mapping[str, Decimal],
    marks: Mapping[str, Decimal],
    working: Iterable[WorkingOrder],
) -> Decimal | None:
    """Quote value at risk if every working entry order filled: |position| × mark plus the
    remaining notional of working orders that do not reduce a position. None when a
    position or a market order has no mark (unknown, so callers must refuse)."""
    total = ZERO
    for symbol, qty in positions.items():
        if qty == 0:
            continue
        mark = marks.get(symbol)
        if mark is None:
            return None
        total += abs(qty) * mark
    for order in working:
        if order.reduces_position:
            continue
        price = order.limit_price if order.limit_price is not None else marks.get(order.symbol)
        if price is None:
            return None
        total += order.remaining_qty * price
    return total
