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
    tag: str = ""  # why: "entry", "take_profit", "stop_loss", "time_stop", "flatten"
    # What the strategy saw when it decided (name, decimal text), stored in learning_data.
    features: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CancelIntent:
    cl_ord_id: str
    reason: str = ""


Intent = OrderIntent | CancelIntent


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


@dataclass(frozen=True, slots=True)
class CancelOrder:
    cl_ord_id: str | None = None
    order_id: str | None = None
