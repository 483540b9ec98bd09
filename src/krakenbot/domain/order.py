"""The order record: our local picture of one order, as stored and as the FSM evolves it.

Owns: `Order` (a frozen value; `orders.fsm.apply` returns the next one) and `OrderSnapshot`
(a venue's view of one order, from REST OpenOrders / ClosedOrders / QueryOrders or the
simulator), both venue-neutral. Imports: stdlib and domain only. The transition rules are
not here: they live in `orders/fsm.py` as one table. This module exists so that ports and
the store can speak about orders without importing the orders package.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Generic, Self, TypeVar

from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce

ZERO = Decimal(0)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Order:
    """One of our orders. `filled_*` are sums over the de-duplicated fills we hold."""

    cl_ord_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    created_ns: int
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduces_position: bool = False
    tag: str = ""
    status: OrderStatus = OrderStatus.PENDING_NEW
    order_id: str | None = None  # Kraken txid, known after the ack or the first report
    filled_qty: Decimal = ZERO
    filled_cost: Decimal = ZERO
    fees: Decimal = ZERO
    fill_ids: frozenset[str] = field(default_factory=frozenset)
    # The venue's own cumulative quantity when it reports one: greater than `filled_qty`
    # means fills exist that we have not seen yet (reconcile fetches them, never invents them).
    venue_cum_qty: Decimal = ZERO
    updated_ns: int = 0
    reason: str = ""
    cancel_requested: bool = False
    trigger_price: Decimal | None = None  # stop-loss orders: what fires them

    @property
    def remaining_qty(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def avg_price(self) -> Decimal | None:
        return self.filled_cost / self.filled_qty if self.filled_qty else None

    @property
    def missing_fill_qty(self) -> Decimal:
        """Quantity the venue says is executed but for which we hold no fill yet."""
        return max(ZERO, self.venue_cum_qty - self.filled_qty)


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """A venue's statement about one order at query time (REST order object or sim row).

    `status` is already mapped to our vocabulary by the venue adapter: REST `pending` →
    pending_new, `open` with vol_exec > 0 → partially_filled, `closed` → filled (Kraken's
    `closed` means fully executed; docs: rest-api/get-closed-orders).
    """

    order_id: str
    cl_ord_id: str | None
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    status: OrderStatus
    filled_qty: Decimal
    filled_cost: Decimal
    fee: Decimal
    opened_ns: int
    closed_ns: int = 0
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reason: str = ""
    # Trigger orders (stop-loss & co.): the price that fires them, when the venue states one.
    trigger_price: Decimal | None = None
    # The venue's own one-line description (Kraken's `descr.order`), for reports.
    description: str = ""


@dataclass(frozen=True, slots=True)
class UnreadableOrder:
    """An order a venue listed that could not be read (an unknown order type, a malformed
    field). Kept, never dropped: reconciliation reports it, and halts trading when it
    carries our client order id (we cannot tell what our own order is doing)."""

    order_id: str
    cl_ord_id: str | None
    status: str  # the venue's status word as written ("" when unreadable too)
    error: str


class Listing(tuple[T, ...], Generic[T]):
    """What a venue listed: the orders it could read, plus the ones it could not
    (`unreadable`). A tuple, so callers that only need the readable ones use it as before."""

    unreadable: tuple[UnreadableOrder, ...]

    def __new__(cls, items: Iterable[T] = (), unreadable: Iterable[UnreadableOrder] = ()) -> Self:
        listing = super().__new__(cls, items)
        listing.unreadable = tuple(unreadable)
        return listing


OrderListing = Listing[OrderSnapshot]


def unreadable_of(orders: Sequence[object]) -> tuple[UnreadableOrder, ...]:
    """The unreadable orders of a `Listing` (none for any other sequence)."""
    return orders.unreadable if isinstance(orders, Listing) else ()
