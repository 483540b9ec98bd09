"""The paper venue's record of one order (paper/venue.py keeps them by txid).

Owns: `PaperOrder` (the command as last amended, fills so far, GTD expiry, whether a
stop-loss has fired) with its REST-like `snapshot`, and `trigger_of` (a stop-loss's
`triggers` object as Kraken's executions reports carry it). Imports: domain only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, TriggerReference
from krakenbot.domain.order import OrderSnapshot
from krakenbot.domain.order_terms import OrderPrice, TriggerState

ZERO = Decimal(0)


@dataclass(slots=True)
class PaperOrder:
    txid: str
    command: PlaceOrder
    created_ns: int
    status: OrderStatus = OrderStatus.OPEN
    filled: Decimal = ZERO
    cost: Decimal = ZERO
    fee: Decimal = ZERO
    closed_ns: int = 0
    reason: str = ""
    trades: list[str] = field(default_factory=list)
    expire_ns: int | None = None  # GTD
    triggered: bool = False  # stop-loss: fired, now a market order

    @property
    def waiting(self) -> bool:
        """A stop-loss still waiting for its trigger."""
        return self.command.order_type is OrderType.STOP_LOSS and not self.triggered

    @property
    def remaining(self) -> Decimal:
        return self.command.qty - self.filled

    def snapshot(self) -> OrderSnapshot:
        c = self.command
        return OrderSnapshot(
            order_id=self.txid,
            cl_ord_id=c.cl_ord_id,
            symbol=c.symbol,
            side=c.side,
            order_type=c.order_type,
            qty=c.qty,
            limit_price=c.limit_price,
            status=self.status,
            filled_qty=self.filled,
            filled_cost=self.cost,
            fee=self.fee,
            opened_ns=self.created_ns,
            closed_ns=self.closed_ns,
            time_in_force=c.time_in_force,
            post_only=c.post_only,
            reason=self.reason,
            trigger_price=c.trigger_price,
        )


def trigger_of(o: PaperOrder) -> TriggerState | None:
    """A stop-loss's `triggers` object, as Kraken's executions reports carry it."""
    price = o.command.trigger_price
    if price is None:
        return None
    status = "triggered" if o.triggered else "untriggered"
    return TriggerState(TriggerReference.LAST, OrderPrice(price), status=status)
