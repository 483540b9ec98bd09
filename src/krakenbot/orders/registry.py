"""In-memory index of our orders: routes venue events to the right order and lists the
working ones for the risk gate and strategies.

Owns: `OrderRegistry` (cl_ord_id → Order, txid → cl_ord_id) and `order_from_stored`
(ledger row → Order). Imports: domain, errors, orders, ports. Pure and synchronous: the
engine persists what `apply` returns (the database is the ledger; this is
its hot copy). Events that name no order of ours return
None — the caller reports them and asks for reconciliation, it never guesses.
"""

from __future__ import annotations

from collections.abc import Iterable

from krakenbot.domain.events import OrderRejected
from krakenbot.domain.order import Order
from krakenbot.domain.working import WorkingOrder
from krakenbot.errors import InvariantError
from krakenbot.orders.fsm import OrderEvent, apply
from krakenbot.ports import StoredOrder


def order_from_stored(row: StoredOrder, fill_ids: Iterable[str] = ()) -> Order:
    """The FSM's `Order` for a ledger row (start-up load); `fill_ids` are its recorded
    trade ids, so a fill re-delivered after a restart is still recognised as a duplicate."""
    return Order(
        cl_ord_id=row.cl_ord_id,
        symbol=row.symbol,
        side=row.side,
        order_type=row.order_type,
        qty=row.qty,
        limit_price=row.limit_price,
        created_ns=row.created_ns,
        time_in_force=row.time_in_force,
        post_only=row.post_only,
        reduces_position=row.reduces_position,
        tag=row.tag,
        status=row.status,
        order_id=row.txid,
        filled_qty=row.filled_qty,
        filled_cost=row.filled_cost,
        fees=row.fees,
        fill_ids=frozenset(fill_ids),
        venue_cum_qty=max(row.venue_cum_qty, row.filled_qty),
        updated_ns=row.updated_ns,
        reason=row.reason or "",
        cancel_requested=row.cancel_requested,
        trigger_price=row.trigger_price,
    )


class OrderRegistry:
    def __init__(self, orders: Iterable[Order] = ()) -> None:
        self._orders: dict[str, Order] = {}
        self._by_txid: dict[str, str] = {}
        # The live ones, kept apart: the gate reads them at every decision, and finished
        # orders pile up for days (reconciliation must still recognise them).
        self._live: dict[str, Order] = {}
        # The decision code's view of each live order, kept until the order changes (asked
        # for at every decision; orders change far less often).
        self._working: dict[str, WorkingOrder] = {}
        self.version = 0  # changes whenever an order is added, changed or dropped
        for order in orders:
            self.add(order)

    def add(self, order: Order) -> None:
        """Track a new (or loaded / adopted) order; a reused cl_ord_id is a bug."""
        if order.cl_ord_id in self._orders:
            raise InvariantError("duplicate cl_ord_id", cl_ord_id=order.cl_ord_id)
        self._store(order)

    def _changed(self) -> None:
        self.version += 1

    def _store(self, order: Order) -> None:
        self._changed()
        self._working.pop(order.cl_ord_id, None)
        self._orders[order.cl_ord_id] = order
        if order.order_id:
            self._by_txid[order.order_id] = order.cl_ord_id
        if order.is_terminal:
            self._live.pop(order.cl_ord_id, None)
        else:
            self._live[order.cl_ord_id] = order

    def update(self, order: Order) -> None:
        """Replace a tracked order (e.g. after `fsm.request_cancel`)."""
        if order.cl_ord_id not in self._orders:
            raise InvariantError("update of an unknown order", cl_ord_id=order.cl_ord_id)
        self._store(order)

    def discard(self, cl_ord_id: str) -> None:
        """Stop tracking an order that never came to be (its row could not be written)."""
        self._changed()
        self._working.pop(cl_ord_id, None)
        order = self._orders.pop(cl_ord_id, None)
        self._live.pop(cl_ord_id, None)
        if order is not None and order.order_id:
            self._by_txid.pop(order.order_id, None)

    def forget_finished(self, before_ns: int) -> int:
        """Drop terminal orders last updated before `before_ns` (the ledger keeps them);
        keeps a long-running daemon's hot copy small. Returns how many were dropped."""
        old = [
            o
            for o in self._orders.values()
            if o.is_terminal and max(o.updated_ns, o.created_ns) < before_ns
        ]
        if old:
            self._changed()
        for order in old:
            del self._orders[order.cl_ord_id]
            if order.order_id:
                self._by_txid.pop(order.order_id, None)
        return len(old)

    def get(self, cl_ord_id: str) -> Order | None:
        return self._orders.get(cl_ord_id)

    def find(self, cl_ord_id: str | None, order_id: str | None) -> Order | None:
        """By client id first (ours), else by Kraken txid."""
        if cl_ord_id is not None and cl_ord_id in self._orders:
            return self._orders[cl_ord_id]
        if order_id and order_id in self._by_txid:
            return self._orders[self._by_txid[order_id]]
        return None

    def apply(self, event: OrderEvent) -> tuple[Order, Order] | None:
        """(before, after) for the order the event is about, or None if it is not ours.

        `before is after` means nothing changed (e.g. a duplicate fill)."""
        order_id = None if isinstance(event, OrderRejected) else event.order_id
        before = self.find(event.cl_ord_id, order_id)
        if before is None:
            return None
        after = apply(before, event)
        if after is not before:
            self._store(after)
        return before, after

    def live(self) -> list[Order]:
        return list(self._live.values())

    def any_unlisted(self, ids: frozenset[str]) -> bool:
        """Whether a live order is named in `ids` by neither its cl_ord_id nor its txid
        (an executions snapshot's open orders: what it misses closed before it)."""
        return any(o.cl_ord_id not in ids and o.order_id not in ids for o in self._live.values())

    def working(self, symbol: str | None = None) -> list[WorkingOrder]:
        """Live orders as the risk gate and strategies see them."""
        views = self._working
        out: list[WorkingOrder] = []
        for o in self._live.values():
            if symbol is None or o.symbol == symbol:
                w = views.get(o.cl_ord_id)
                if w is None:
                    w = views[o.cl_ord_id] = WorkingOrder.of(o)
                out.append(w)
        return out

    def all(self) -> list[Order]:
        return list(self._orders.values())

    def __len__(self) -> int:
        return len(self._orders)
