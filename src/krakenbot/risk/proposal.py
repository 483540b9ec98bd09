"""What the risk gate checks: an order as a `Proposal`, and the gate's refusal signal.

Owns: `Proposal` (built from an intent, a bare command, or an amend applied to the working
order it changes) and `Deny` / `require` / `need` (how a rule refuses; `RiskGate.check`
turns a `Deny` into a `Denied`). Split out of risk/gate.py for size. Imports: domain, risk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from krakenbot.domain.commands import AmendIntent, OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.working import WorkingOrder
from krakenbot.risk.decision import Rule

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Proposal:
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    post_only: bool
    reduces_position: bool
    cl_ord_id: str | None
    trigger_price: Decimal | None = None

    @property
    def protective(self) -> bool:
        """A reducing stop-loss: it sells only what is held, and only on a fall."""
        return self.reduces_position and self.order_type is OrderType.STOP_LOSS

    @property
    def price(self) -> Decimal | None:
        """The price Kraken checks against tick and cost minimum (limit, else trigger)."""
        return self.limit_price if self.limit_price is not None else self.trigger_price

    @classmethod
    def of(cls, item: OrderIntent | PlaceOrder) -> Proposal:
        if isinstance(item, OrderIntent):
            reduces, cl_ord_id = item.reduces_position, None
        else:
            # A bare command carries no intent (its `reduces_position` only tells the venue
            # the gate approved it as an exit): treat it as risk-increasing.
            reduces, cl_ord_id = False, item.cl_ord_id
        return cls(
            symbol=item.symbol,
            side=item.side,
            order_type=item.order_type,
            qty=item.qty,
            limit_price=item.limit_price,
            post_only=item.post_only and item.order_type is OrderType.LIMIT,
            reduces_position=reduces,
            cl_ord_id=cl_ord_id,
            trigger_price=item.trigger_price,
        )

    @classmethod
    def amended(cls, item: AmendIntent, working: Iterable[WorkingOrder]) -> Proposal:
        """The order an amend would leave behind (`qty` is the new total quantity)."""
        found = [w for w in working if w.cl_ord_id == item.cl_ord_id]
        w = need(found[0] if found else None, Rule.NOT_WORKING, f"{item.cl_ord_id} is not live")
        qty = w.remaining_qty if item.qty is None else item.qty - w.filled_qty
        return cls(
            symbol=w.symbol,
            side=w.side,
            order_type=w.order_type,
            qty=qty,
            limit_price=w.limit_price if item.limit_price is None else item.limit_price,
            post_only=w.post_only,
            reduces_position=w.reduces_position,
            cl_ord_id=w.cl_ord_id,
            trigger_price=w.trigger_price if item.trigger_price is None else item.trigger_price,
        )


class Deny(Exception):  # noqa: N818 - control flow inside the gate, never escapes check()
    def __init__(self, rule: Rule, reason: str) -> None:
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


def require(ok: bool, rule: Rule, reason: str) -> None:
    if not ok:
        raise Deny(rule, reason)


def need(value: _T | None, rule: Rule, reason: str) -> _T:
    if value is None:
        raise Deny(rule, reason)
    return value
