"""The order lifecycle as ONE transition table, and `apply(order, event)`.

Owns: the table of legal (state, event kind) → state rows, the mapping from venue events to
event kinds, fill de-duplication by trade id, and the arithmetic of cumulative fills.
Must not import: anything that does I/O, reads a clock or knows about Kraken's wire format
(it sees only `domain` events). A row missing from the table is an illegal transition and
raises `InvariantError`: we stop rather than trade on a picture we cannot explain.

Kraken facts behind the odd rows (docs: websocket-v2/executions, rest-api/add-order,
exchange/guides/general/order-lifecycle):
* an accepted request can still fail the engine's validation (insufficient funds, rate
  limit): that shows as pending → canceled, not as a rejection;
* the REST AddOrder response and the WS `executions` stream race each other, so an ack can
  arrive after `new`, `trade` or even `filled`;
* a fill arrives as `exec_type: trade` (order_status `partially_filled` even when it completes
  the order) and the completion is a separate `filled` report, in either order on replay;
* fills can also come from REST TradesHistory during reconciliation, after the order was
  reported cancelled (a cancel that raced a fill);
* after a reconnect the executions snapshot re-delivers open orders as `new`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal

from krakenbot.domain.commands import OrderIntent, PlaceOrder
from krakenbot.domain.enums import ExecType, OrderStatus
from krakenbot.domain.events import ExecutionReport, Fill, OrderAccepted, OrderRejected
from krakenbot.domain.order import Order
from krakenbot.errors import InvariantError

OrderEvent = OrderAccepted | OrderRejected | ExecutionReport | Fill


class Kind(StrEnum):
    """What an event means for the lifecycle, independent of where it came from."""

    ACK = "ack"  # OrderAccepted: REST AddOrder txid or WS add_order ack
    REJECT = "reject"  # OrderRejected: the venue refused the request
    PENDING = "pending"  # exec_type pending_new
    NEW = "new"  # exec_type new (also snapshot re-delivery of open orders)
    TRADE = "trade"  # exec_type trade, or a Fill from trade history
    FILLED = "filled"  # exec_type filled (completion report)
    CANCELED = "canceled"
    EXPIRED = "expired"
    INFO = "info"  # amended / restated / status / iceberg_refill: no lifecycle step


BY_QTY: Final = "by_qty"
Target = OrderStatus | Literal["by_qty"]

P = OrderStatus.PENDING_NEW
O = OrderStatus.OPEN  # noqa: E741
PF = OrderStatus.PARTIALLY_FILLED
F = OrderStatus.FILLED
C = OrderStatus.CANCELED
X = OrderStatus.EXPIRED
R = OrderStatus.REJECTED


@dataclass(frozen=True, slots=True)
class Row:
    source: OrderStatus
    kind: Kind
    target: Target
    why: str


# BY_QTY: partially_filled, or filled once the executed quantity reaches the order quantity.
# Every live (non-terminal) target is refined the same way when the venue reports executed
# quantity (e.g. a snapshot `new` row with cum_qty > 0 for an order we still had pending).
ROWS: Final[tuple[Row, ...]] = (
    # --- pending_new: persisted and sent (or validated by Kraken), not yet known live
    Row(P, Kind.ACK, O, "REST/WS ack with the txid: the order exists on the book"),
    Row(P, Kind.PENDING, P, "Kraken's pending_new: validated, not yet live"),
    Row(P, Kind.NEW, O, "normal path: live on the book"),
    Row(P, Kind.TRADE, BY_QTY, "a trade report overtaking `new` and the ack (marketable/IOC)"),
    Row(P, Kind.FILLED, F, "completion report first (IOC filled at once); trades follow"),
    Row(P, Kind.CANCELED, C, "engine validation failed (funds, rate limit) / post-only cross"),
    Row(P, Kind.EXPIRED, X, "IOC remainder or GTD expiry before we saw `new`"),
    Row(P, Kind.REJECT, R, "the venue refused the request"),
    Row(P, Kind.INFO, P, "a status/restated report before `new`: nothing to do"),
    # --- open: live, nothing executed
    Row(O, Kind.ACK, O, "REST ack arriving after the WS `new` report"),
    Row(O, Kind.PENDING, O, "WS pending_new arriving after the REST ack already moved us"),
    Row(O, Kind.NEW, O, "executions snapshot re-delivery after a reconnect"),
    Row(O, Kind.TRADE, BY_QTY, "normal path: a fill"),
    Row(O, Kind.FILLED, F, "completion report before its trade report"),
    Row(O, Kind.CANCELED, C, "normal path: cancelled (by us, dead man's switch or engine)"),
    Row(O, Kind.EXPIRED, X, "GTD expiry"),
    Row(O, Kind.INFO, O, "amended / restated / status: quantities may change, state not"),
    # --- partially_filled: live, some quantity executed
    Row(PF, Kind.ACK, PF, "REST ack arriving after WS trade reports"),
    Row(PF, Kind.PENDING, PF, "late pending_new after fills"),
    Row(PF, Kind.NEW, PF, "snapshot re-delivery lists a partly filled order again"),
    Row(PF, Kind.TRADE, BY_QTY, "normal path: another fill"),
    Row(PF, Kind.FILLED, F, "normal path: completion"),
    Row(PF, Kind.CANCELED, C, "remainder cancelled (a cancel raced the fills)"),
    Row(PF, Kind.EXPIRED, X, "IOC/GTD remainder expired"),
    Row(PF, Kind.INFO, PF, "amended / restated / iceberg refill"),
    # --- filled: terminal; only stale or trailing reports may still arrive
    Row(F, Kind.ACK, F, "REST ack arriving after the order completed on WS"),
    Row(F, Kind.PENDING, F, "stale pending_new re-delivered after completion"),
    Row(F, Kind.NEW, F, "stale `new` re-delivered after completion"),
    Row(F, Kind.TRADE, F, "trade report after the `filled` completion (separate reports)"),
    Row(F, Kind.FILLED, F, "completion re-delivered (snapshot / reconciliation)"),
    Row(F, Kind.INFO, F, "stale informational report"),
    # --- canceled / expired: terminal; a racing fill may still be reported
    Row(C, Kind.ACK, C, "REST ack after an immediate cancel (post-only cross, IOC)"),
    Row(C, Kind.PENDING, C, "stale pending_new"),
    Row(C, Kind.NEW, C, "stale `new`"),
    Row(C, Kind.TRADE, C, "cancel raced a fill: its report (WS or REST history) lands late"),
    Row(C, Kind.CANCELED, C, "cancel re-delivered (snapshot / reconciliation)"),
    Row(C, Kind.INFO, C, "stale informational report"),
    Row(X, Kind.ACK, X, "REST ack after an IOC expired at once"),
    Row(X, Kind.PENDING, X, "stale pending_new"),
    Row(X, Kind.NEW, X, "stale `new`"),
    Row(X, Kind.TRADE, X, "IOC partial fill reported after its expiry report"),
    Row(X, Kind.EXPIRED, X, "expiry re-delivered"),
    Row(X, Kind.INFO, X, "stale informational report"),
    # --- rejected: terminal, never existed on the book
    Row(R, Kind.REJECT, R, "the same refusal reported twice (REST error and WS ack)"),
)

TABLE: Final[dict[tuple[OrderStatus, Kind], Target]] = {
    (row.source, row.kind): row.target for row in ROWS
}

_EXEC_KIND: Final[dict[ExecType, Kind]] = {
    ExecType.PENDING_NEW: Kind.PENDING,
    ExecType.NEW: Kind.NEW,
    ExecType.TRADE: Kind.TRADE,
    ExecType.FILLED: Kind.FILLED,
    ExecType.CANCELED: Kind.CANCELED,
    ExecType.EXPIRED: Kind.EXPIRED,
    ExecType.AMENDED: Kind.INFO,
    ExecType.RESTATED: Kind.INFO,
    ExecType.STATUS: Kind.INFO,
    ExecType.ICEBERG_REFILL: Kind.INFO,
}


def kind_of(event: OrderEvent) -> Kind:
    if isinstance(event, OrderAccepted):
        return Kind.ACK
    if isinstance(event, OrderRejected):
        return Kind.REJECT
    if isinstance(event, Fill):
        return Kind.TRADE
    return _EXEC_KIND[event.exec_type]


def order_from_intent(intent: OrderIntent, cl_ord_id: str, created_ns: int) -> Order:
    """A fresh pending_new order for an approved intent (persisted before it is sent)."""
    return Order(
        cl_ord_id=cl_ord_id,
        symbol=intent.symbol,
        side=intent.side,
        order_type=intent.order_type,
        qty=intent.qty,
        limit_price=intent.limit_price,
        created_ns=created_ns,
        time_in_force=intent.time_in_force,
        post_only=intent.post_only,
        reduces_position=intent.reduces_position,
        tag=intent.tag,
        updated_ns=created_ns,
        trigger_price=intent.trigger_price,
    )


def place_command(
    order: Order, deadline_s: float | None = None, expire_s: float | None = None
) -> PlaceOrder:
    """The venue command for a persisted order (`expire_s`: a GTD order's lifetime)."""
    return PlaceOrder(
        cl_ord_id=order.cl_ord_id,
        symbol=order.symbol,
        side=order.side,
        order_type=order.order_type,
        qty=order.qty,
        limit_price=order.limit_price,
        time_in_force=order.time_in_force,
        post_only=order.post_only,
        deadline_s=deadline_s,
        reduces_position=order.reduces_position,
        trigger_price=order.trigger_price,
        expire_s=expire_s,
    )


def request_cancel(order: Order) -> Order:
    """Mark that we asked for a cancel (not a lifecycle step: the venue decides)."""
    return replace(order, cancel_requested=True)


def apply(order: Order, event: OrderEvent) -> Order:
    """The order after `event`; raises InvariantError for an illegal or inconsistent event.

    Idempotent for fills: a fill whose trade id we already hold returns `order` unchanged.
    """
    _check_identity(order, event)
    fill = _fill_of(event)
    if fill is not None and fill.trade_id in order.fill_ids:
        return order  # duplicate delivery (snapshot, REST history, replay): nothing new
    kind = kind_of(event)
    target = TABLE.get((order.status, kind))
    if target is None:
        raise InvariantError(
            f"illegal order transition {order.status} + {kind}", cl_ord_id=order.cl_ord_id
        )
    return _absorb(order, event, fill, target)


def _resolve(target: Target, executed: Decimal, qty: Decimal) -> OrderStatus:
    """The table's target, with live states refined by the executed quantity: an order the
    venue reports (partly) executed is partially_filled / filled whatever report said so."""
    if target != BY_QTY and OrderStatus(target).is_terminal:
        return OrderStatus(target)
    if executed >= qty:
        return OrderStatus.FILLED
    if executed > 0 or target == BY_QTY:
        return OrderStatus.PARTIALLY_FILLED
    return OrderStatus(target)


def _fill_of(event: OrderEvent) -> Fill | None:
    if isinstance(event, Fill):
        return event
    if isinstance(event, ExecutionReport):
        return event.fill
    return None


def _check_identity(order: Order, event: OrderEvent) -> None:
    cl_ord_id = event.cl_ord_id
    if cl_ord_id is not None and cl_ord_id != order.cl_ord_id:
        raise InvariantError(
            f"event for {cl_ord_id!r} applied to another order", cl_ord_id=order.cl_ord_id
        )
    order_id = None if isinstance(event, OrderRejected) else event.order_id
    if order_id and order.order_id and order_id != order.order_id:
        raise InvariantError(
            f"venue order id {order_id!r} contradicts {order.order_id!r}",
            cl_ord_id=order.cl_ord_id,
        )


def _absorb(order: Order, event: OrderEvent, fill: Fill | None, target: Target) -> Order:
    """The order with what the event tells us (ids, quantities, reason) and its new status."""
    event_order_id = None if isinstance(event, OrderRejected) else event.order_id
    stamp = event.exchange_ns if isinstance(event, Fill) else event.recv_ns
    qty, limit_price, reason = order.qty, order.limit_price, order.reason
    trigger_price = order.trigger_price
    venue_cum = order.venue_cum_qty
    if isinstance(event, OrderRejected):
        reason = event.error
    if isinstance(event, ExecutionReport):
        reason = event.reason or reason
        if event.cum_qty is not None:
            venue_cum = max(venue_cum, event.cum_qty)
        if event.exec_type is ExecType.AMENDED:
            qty = event.order_qty if event.order_qty is not None else qty
            if limit_price is not None and event.limit_price is not None:
                limit_price = event.limit_price  # only an order with a limit leg has one
            trigger_price = _amended_trigger(event) or trigger_price
        if event.exec_type is ExecType.FILLED:
            venue_cum = max(venue_cum, qty)  # `filled` means fully executed, cum_qty or not
    filled_qty, filled_cost = order.filled_qty, order.filled_cost
    fees, fill_ids = order.fees, order.fill_ids
    if fill is not None:
        _check_fill(order, fill)
        filled_qty += fill.qty
        filled_cost += fill.cost
        fees += fill.fee
        fill_ids = fill_ids | {fill.trade_id}
    venue_cum = max(venue_cum, filled_qty)
    if venue_cum > qty:
        # Covers an overfill by our own fills, a venue cum_qty above the order and an
        # amend below the executed quantity: all mean our picture is wrong.
        raise InvariantError(
            f"executed {venue_cum} exceeds order quantity {qty}", cl_ord_id=order.cl_ord_id
        )
    return replace(
        order,
        order_id=order.order_id or event_order_id or None,
        updated_ns=stamp or order.updated_ns,
        qty=qty,
        limit_price=limit_price,
        trigger_price=trigger_price,
        reason=reason,
        venue_cum_qty=venue_cum,
        filled_qty=filled_qty,
        filled_cost=filled_cost,
        fees=fees,
        fill_ids=fill_ids,
        status=_resolve(target, venue_cum, qty),
    )


def _amended_trigger(event: ExecutionReport) -> Decimal | None:
    """The absolute trigger price an amend report states (None when it states none)."""
    trigger = event.trigger
    if trigger is None:
        return None
    return trigger.price.absolute or trigger.actual_price


def _check_fill(order: Order, fill: Fill) -> None:
    if fill.symbol != order.symbol or fill.side is not order.side:
        raise InvariantError(
            f"fill {fill.trade_id} is {fill.side} {fill.symbol}, order is "
            f"{order.side} {order.symbol}",
            cl_ord_id=order.cl_ord_id,
        )
    if fill.qty <= 0:
        raise InvariantError(
            f"fill {fill.trade_id} has quantity {fill.qty}", cl_ord_id=order.cl_ord_id
        )
