"""Reconciliation as a pure diff: our orders and fills vs. the exchange's, as corrections.

Owns: `reconcile(local, exchange) -> tuple[Correction, ...]` (balances are compared in
`risk.account`).
Imports: domain, errors, orders. Must not import: I/O, clock, venue code. The async shell
fetches (in this order, so an order closing mid-query shows up at least once) open orders,
closed orders since `closed_since_ns`, and trade history since the same time; it then
applies the corrections in the order returned and writes every one of them to `events`.

Principles:
* adopt: an exchange order carrying our cl_ord_id prefix that we do not know is ours
  (e.g. persisted-then-crashed, or the database was restored) — adopt it, never cancel it;
* never guess: a local order the exchange does not list is resolved by lookup (QueryOrders
  by txid), and is marked rejected only when its absence is provable — it never got a txid,
  it was created inside the closed-orders window, and its request deadline has long passed
  (Kraken drops a request after its `deadline`; docs: rest-api/add-order);
* fills come only from trade history, never invented from cumulative quantities; a gap
  between the venue's executed quantity and the fills we can see asks for a lookup;
* what is not ours (no cl_ord_id with our prefix: placed by hand or by another program) is
  reported — ForeignOrder, UnreadableForeignOrder, ForeignFill — never adopted or cancelled.
  An order the exchange lists but we cannot read is a Conflict when it is ours.
The correction types live in orders/corrections.py and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from krakenbot.domain.enums import ExecType, OrderStatus, OrderType, Side, TriggerReference
from krakenbot.domain.events import ExecutionReport, Fill, OrderRejected
from krakenbot.domain.order import Order, OrderSnapshot, UnreadableOrder
from krakenbot.domain.order_terms import OrderPrice, TriggerState
from krakenbot.orders.clordid import DEFAULT_PREFIX, is_ours
from krakenbot.orders.corrections import (
    FOREIGN_KINDS,
    AdoptOrder,
    Conflict,
    Correction,
    ForeignFill,
    ForeignOrder,
    LookupRequired,
    MissingFill,
    ProvablyAbsent,
    StatusCorrection,
    UnreadableForeignOrder,
)
from krakenbot.orders.protection import PROTECT_TAG

ZERO = Decimal(0)
_NS = 1_000_000_000
_TERMINAL_EXEC = {
    OrderStatus.FILLED: ExecType.FILLED,
    OrderStatus.CANCELED: ExecType.CANCELED,
    OrderStatus.EXPIRED: ExecType.EXPIRED,
}


@dataclass(frozen=True, slots=True)
class LocalState:
    orders: Sequence[Order]  # every local order created since the exchange window starts
    fill_ids: frozenset[str]  # trade ids already in the ledger
    # Orders this process is still sending (AddOrder may be re-signed with a fresh deadline
    # after an ambiguous outcome, so their absence is never provable while they are here).
    sending: frozenset[str] = frozenset()
    # When this process started: an older order was signed, if ever, by an earlier process
    # before this moment, so its absence is measured from here and not from its creation.
    started_ns: int = 0


@dataclass(frozen=True, slots=True)
class ExchangeState:
    open_orders: Sequence[OrderSnapshot]
    closed_orders: Sequence[OrderSnapshot]
    trades: Sequence[Fill]
    closed_since_ns: int  # closed orders and trades are complete from this time on
    queried_ns: int  # when the queries started (our clock)
    # Orders the exchange listed (open or closed) that could not be read.
    unreadable: Sequence[UnreadableOrder] = ()


def reconcile(
    local: LocalState,
    exchange: ExchangeState,
    *,
    prefix: str = DEFAULT_PREFIX,
    absent_after_s: float = 90.0,
) -> tuple[Correction, ...]:
    """All differences, ordered for application: adoptions, missing fills, status
    corrections, then what needs a human or a lookup, then what is not ours."""
    venue = _merge(exchange.open_orders, exchange.closed_orders)
    by_order_id = {s.order_id: s for s in venue}
    by_cl_ord_id = {s.cl_ord_id: s for s in venue if s.cl_ord_id}
    adopted: list[AdoptOrder] = []
    known = {o.cl_ord_id for o in local.orders}
    for snapshot in venue:
        if is_ours(snapshot.cl_ord_id, prefix) and snapshot.cl_ord_id not in known:
            adopted.append(AdoptOrder(_adopted(snapshot), snapshot))
    orders = [*local.orders, *(a.order for a in adopted)]
    owner = _owners(orders, by_cl_ord_id)

    fills: list[MissingFill] = []
    foreign_fills: list[ForeignFill] = []
    new_qty: dict[str, Decimal] = {}
    for fill in exchange.trades:
        if fill.trade_id in local.fill_ids:
            continue
        order = owner.get(fill.order_id)
        if order is None:
            foreign_fills.append(ForeignFill(fill))
            continue
        fills.append(MissingFill(order.cl_ord_id, replace(fill, cl_ord_id=order.cl_ord_id)))
        new_qty[order.cl_ord_id] = new_qty.get(order.cl_ord_id, ZERO) + fill.qty

    statuses: list[StatusCorrection] = []
    unresolved: list[LookupRequired | ProvablyAbsent | Conflict] = []
    conflicts, unreadable, foreign_unreadable = _unreadable(exchange.unreadable, prefix)
    unresolved.extend(conflicts)
    for order in orders:
        found = _find(order, by_order_id, by_cl_ord_id)
        if found is None:
            if order.cl_ord_id in unreadable or (order.order_id or "") in unreadable:
                continue  # listed but unreadable: the Conflict above halts trading
            unresolved.extend(_missing(order, local, exchange, absent_after_s))
            continue
        correction = _compare(order, found, exchange.queried_ns)
        if isinstance(correction, StatusCorrection):
            statuses.append(correction)
        elif correction is not None:
            unresolved.append(correction)
        seen = order.filled_qty + new_qty.get(order.cl_ord_id, ZERO)
        if found.filled_qty > seen:
            unresolved.append(
                LookupRequired(
                    order.cl_ord_id,
                    found.order_id,
                    f"venue executed {found.filled_qty}, fills found for {seen}",
                )
            )
    foreign_orders = [
        ForeignOrder(s)
        for s in exchange.open_orders
        if not is_ours(s.cl_ord_id, prefix) and s.order_id not in owner
    ]
    return (
        *adopted,
        *fills,
        *statuses,
        *unresolved,
        *foreign_orders,
        *foreign_unreadable,
        *foreign_fills,
    )


def _unreadable(
    listed: Iterable[UnreadableOrder], prefix: str
) -> tuple[list[Conflict], set[str], list[UnreadableForeignOrder]]:
    """Ours (by client id) → a Conflict: we cannot tell what our own order is doing, so
    trading halts until someone looks (the ids are returned so the order is not also judged
    "missing"). Open foreign ones (or of unreadable status) → reported."""
    ours: list[Conflict] = []
    ids: set[str] = set()
    foreign: list[UnreadableForeignOrder] = []
    for u in listed:
        if is_ours(u.cl_ord_id, prefix):
            detail = f"unreadable on the exchange: {u.error}"
            ours.append(Conflict(u.cl_ord_id or "", u.order_id, detail))
            ids.update((u.order_id, u.cl_ord_id or ""))
        elif u.status in ("pending", "open", ""):
            foreign.append(UnreadableForeignOrder(u))
    return ours, ids, foreign


def _merge(
    open_orders: Iterable[OrderSnapshot], closed_orders: Iterable[OrderSnapshot]
) -> list[OrderSnapshot]:
    """One snapshot per order id; the closed one wins (it is the later state)."""
    merged = {s.order_id: s for s in open_orders}
    merged.update({s.order_id: s for s in closed_orders})
    return list(merged.values())


def _owners(orders: Iterable[Order], by_cl_ord_id: Mapping[str, OrderSnapshot]) -> dict[str, Order]:
    """Map exchange order ids to our orders (trade history carries only the txid)."""
    owner: dict[str, Order] = {}
    for order in orders:
        snapshot = by_cl_ord_id.get(order.cl_ord_id)
        for order_id in (order.order_id, snapshot.order_id if snapshot else None):
            if order_id:
                owner[order_id] = order
    return owner


def _find(
    order: Order,
    by_order_id: Mapping[str, OrderSnapshot],
    by_cl_ord_id: Mapping[str, OrderSnapshot],
) -> OrderSnapshot | None:
    if order.order_id and order.order_id in by_order_id:
        return by_order_id[order.order_id]
    return by_cl_ord_id.get(order.cl_ord_id)


def _adopted(s: OrderSnapshot) -> Order:
    """The local record for an adopted order; fills arrive as MissingFill corrections.
    A stop-loss sell of ours can only be a protective stop: adopted as one, so no second
    stop is placed beside it."""
    protective = s.order_type is OrderType.STOP_LOSS and s.side is Side.SELL
    return Order(
        cl_ord_id=s.cl_ord_id or "",
        symbol=s.symbol,
        side=s.side,
        order_type=s.order_type,
        qty=s.qty,
        limit_price=s.limit_price,
        created_ns=s.opened_ns,
        time_in_force=s.time_in_force,
        post_only=s.post_only,
        tag=PROTECT_TAG if protective else "adopted",
        reduces_position=protective,
        status=s.status,
        order_id=s.order_id,
        venue_cum_qty=s.filled_qty,
        updated_ns=s.closed_ns or s.opened_ns,
        reason=s.reason,
        trigger_price=s.trigger_price,
    )


def _report(order: Order, s: OrderSnapshot, exec_type: ExecType, now_ns: int) -> ExecutionReport:
    return ExecutionReport(
        exec_type=exec_type,
        order_id=s.order_id,
        cl_ord_id=order.cl_ord_id,
        order_status=s.status,
        exchange_ns=s.closed_ns or s.opened_ns,
        symbol=s.symbol,
        side=s.side,
        order_qty=s.qty,
        limit_price=s.limit_price,
        cum_qty=s.filled_qty,
        cum_cost=s.filled_cost,
        reason=s.reason or None,
        recv_ns=now_ns,
        trigger=None
        if s.trigger_price is None
        else TriggerState(TriggerReference.LAST, OrderPrice(s.trigger_price)),
    )


def _compare(order: Order, s: OrderSnapshot, now_ns: int) -> StatusCorrection | Conflict | None:
    local, venue = order.status, s.status
    if local.is_terminal:
        # A terminal record must agree with the exchange, or our ledger is wrong.
        if local is venue:
            return None
        return Conflict(order.cl_ord_id, s.order_id, f"local {local}, venue {venue}")
    if venue is OrderStatus.REJECTED:
        return Conflict(order.cl_ord_id, s.order_id, "venue lists a rejected order")
    if venue.is_terminal:
        report = _report(order, s, _TERMINAL_EXEC[venue], now_ns)
        return StatusCorrection(order.cl_ord_id, local, venue, report)
    if local is OrderStatus.PENDING_NEW and venue is not OrderStatus.PENDING_NEW:
        report = _report(order, s, ExecType.NEW, now_ns)
        return StatusCorrection(order.cl_ord_id, local, venue, report)
    if order.order_id is None:
        report = _report(order, s, ExecType.PENDING_NEW, now_ns)
        return StatusCorrection(order.cl_ord_id, local, venue, report)
    if _amended(order, s):  # an amend whose report we missed (a crash, a dropped stream)
        report = _report(order, s, ExecType.AMENDED, now_ns)
        return StatusCorrection(order.cl_ord_id, local, venue, report)
    return None


def _amended(order: Order, s: OrderSnapshot) -> bool:
    """The exchange's quantity or prices of a live order differ from ours."""
    if s.qty != order.qty:
        return True
    pairs = ((order.limit_price, s.limit_price), (order.trigger_price, s.trigger_price))
    return any(ours is not None and theirs is not None and ours != theirs for ours, theirs in pairs)


def _missing(
    order: Order, local: LocalState, exchange: ExchangeState, absent_after_s: float
) -> list[LookupRequired | ProvablyAbsent]:
    if order.is_terminal:
        return []  # finished and outside the lists' window: nothing to check
    if order.order_id is not None:
        reason = "acknowledged order missing from open and closed orders"
        return [LookupRequired(order.cl_ord_id, order.order_id, reason)]
    if order.cl_ord_id in local.sending:
        return [LookupRequired(order.cl_ord_id, None, "still being sent; absence not provable")]
    inside_window = order.created_ns >= exchange.closed_since_ns
    # `absent_after_s` must exceed the longest AddOrder deadline (60 s) plus its grace: a
    # send signed at the last possible moment is refused by Kraken after its deadline.
    last_possible_send_ns = max(order.created_ns, local.started_ns)
    expired = exchange.queried_ns - last_possible_send_ns >= absent_after_s * _NS
    if order.status is OrderStatus.PENDING_NEW and inside_window and expired:
        error = "reconcile: never reached the exchange (absent from open and closed orders)"
        return [
            ProvablyAbsent(
                order.cl_ord_id,
                OrderRejected(order.cl_ord_id, error, "reconcile", exchange.queried_ns),
            )
        ]
    return [LookupRequired(order.cl_ord_id, None, "not listed yet; absence not provable")]


__all__ = [
    "FOREIGN_KINDS",
    "AdoptOrder",
    "Conflict",
    "Correction",
    "ExchangeState",
    "ForeignFill",
    "ForeignOrder",
    "LocalState",
    "LookupRequired",
    "MissingFill",
    "ProvablyAbsent",
    "StatusCorrection",
    "UnreadableForeignOrder",
    "reconcile",
]
