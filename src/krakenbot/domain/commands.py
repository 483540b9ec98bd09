"""Commands: what flows *down* from strategy to risk gate to order manager to venue.

Owns: strategy intents and the venue-level order commands. Imports: stdlib and domain only.
A strategy returns intents (no ids); the order manager turns an approved intent into a
`PlaceOrder` with a fresh `cl_ord_id`, persists it, then hands it to the venue.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from krakenbot.domain.enums import OrderType, Side, TimeInForce


@dataclass(frozen=True, slots=True)
class OrderIntent:
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduces_position: bool = False  # exits: allowed while REDUCING
    tag: str = ""  # why: "entry", "take_profit", "stop_loss", "time_stop", "flatten", "protect"
    # What the strategy saw when it decided (name, decimal text), stored in learning_data.
    features: tuple[tuple[str, str], ...] = ()
    # Stop-loss orders: the price that triggers them (Kraken's `price` for `stop-loss`,
    # watched against the last trade). None for market and limit orders.
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CancelIntent:
    cl_ord_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AmendIntent:
    """Change one of our live orders in place (Kraken AmendOrder: same ids, queue priority
    kept where possible). `qty` is the new total order quantity; None leaves a field as is."""

    cl_ord_id: str
    qty: Decimal | None = None
    limit_price: Decimal | None = None
    trigger_price: Decimal | None = None
    reason: str = ""


Intent = OrderIntent | CancelIntent | AmendIntent


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    cl_ord_id: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    limit_price: Decimal | None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    deadline_s: float | None = None  # relative; the venue renders Kraken's RFC3339 deadline
    # An exit the risk gate approved as shrinking a position: the circuit breaker never
    # holds it back (it may block entries only). Not a Kraken flag; never sent.
    reduces_position: bool = False
    trigger_price: Decimal | None = None  # stop-loss: Kraken's `price`, with `trigger=last`
    # GTD orders: expire this many seconds after Kraken accepts them (REST `expiretm=+<n>`).
    expire_s: float | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    cl_ord_id: str | None = None
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class AmendOrder:
    """The venue command for an approved `AmendIntent` (by txid when known, else cl_ord_id)."""

    cl_ord_id: str
    symbol: str
    order_id: str | None = None
    qty: Decimal | None = None
    limit_price: Decimal | None = None
    trigger_price: Decimal | None = None
    # The order is a reducing one (a protective stop): the breaker never holds it back.
    reduces_position: bool = False
