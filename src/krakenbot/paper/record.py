"""The paper venue's record of one order (paper/venue.py keeps them by txid).

Owns: `PaperOrder` (the command as last amended, fills so far, GTD expiry, whether a
stop-loss has fired) with its REST-like `snapshot`, `trigger_of` (a stop-loss's `triggers`
object as Kraken's executions reports carry it), `report_of` (the order's executions report)
`held_by` (what a live order holds of an asset, as Kraken holds funds) and `execute` (one
execution applied to the order, as a `Fill`). Shared by the
paper venue and the backtest's (backtest/venue.py). Imports: domain only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import (
    ExecType,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TriggerReference,
)
from krakenbot.domain.events import ExecutionReport, Fill
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import OrderSnapshot
from krakenbot.domain.order_terms import OrderPrice, TriggerState
from krakenbot.paper.matching import fee_of

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


def report_of(
    o: PaperOrder, exec_type: ExecType, now_ns: int, fill: Fill | None = None
) -> ExecutionReport:
    """The executions report Kraken would send about `o` now."""
    c = o.command
    return ExecutionReport(
        exec_type=exec_type,
        order_id=o.txid,
        cl_ord_id=c.cl_ord_id,
        order_status=o.status,
        exchange_ns=now_ns,
        symbol=c.symbol,
        side=c.side,
        order_type=c.order_type,
        order_qty=c.qty,
        limit_price=c.limit_price,
        time_in_force=c.time_in_force,
        post_only=c.post_only,
        cum_qty=o.filled,
        cum_cost=o.cost,
        avg_price=o.cost / o.filled if o.filled else None,
        fill=fill,
        reason=o.reason or None,
        recv_ns=now_ns,
        trigger=trigger_of(o),
    )


def held_by(c: PlaceOrder, filled: Decimal, asset: str, inst: Instrument) -> Decimal:
    """What a live order with command `c` holds of `asset` (as Kraken holds funds: a sell
    its base, a buy its quote at the limit plus the taker fee)."""
    if c.qty <= filled:
        return ZERO
    if c.side is Side.SELL and inst.base == asset:
        return c.qty - filled
    if c.side is Side.BUY and inst.quote == asset:
        price = c.limit_price or ZERO
        return (c.qty - filled) * price * (1 + inst.taker_fee_pct / 100)
    return ZERO


def execute(
    o: PaperOrder,
    inst: Instrument,
    price: Decimal,
    qty: Decimal,
    *,
    maker: bool,
    now_ns: int,
    trade_id: str,
) -> Fill:
    """Apply one execution of `qty` at `price` to `o` (fee in the quote currency, maker or
    taker rate); the caller reports it and moves the balances."""
    c = o.command
    cost = price * qty
    fee = fee_of(inst, cost, maker=maker)
    fill = Fill(
        trade_id=trade_id,
        order_id=o.txid,
        cl_ord_id=c.cl_ord_id,
        symbol=c.symbol,
        side=c.side,
        price=price,
        qty=qty,
        cost=cost,
        fee=fee,
        fee_asset=inst.quote,
        liquidity=Liquidity.MAKER if maker else Liquidity.TAKER,
        exchange_ns=now_ns,
    )
    o.filled += qty
    o.cost += cost
    o.fee += fee
    o.trades.append(trade_id)
    o.status = OrderStatus.FILLED if o.filled >= c.qty else OrderStatus.PARTIALLY_FILLED
    if o.status is OrderStatus.FILLED:
        o.closed_ns = now_ns
    return fill
