"""What "flatten" asks of the engine while it runs: the operator's `krakenbot flatten` and the
dashboard's Flatten button (one request, `FlattenRequested`, handled in engine/control.py).

Owns: `plan_flatten` — from the engine's own picture (positions from the portfolio, verified
books, instruments, our live orders): a cancel for each resting entry of ours (nothing may
grow a position that is being closed), and for each long position an immediate-or-cancel
limit sell at the verified best bid for what is held and not already being sold by another
of our sells (a protective stop does not count: the engine cancels it first and sends the
exit once the cancel is confirmed, as for any strategy exit), tagged `flatten`; plus one
line per pair saying what was planned and why not. Every intent then goes through the risk
gate like any other (the trading state is REDUCING by then: exits pass, entries do not).
Imports: domain, orders. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from krakenbot.domain.commands import CancelIntent, Intent, OrderIntent
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import Order
from krakenbot.orders.protection import is_protective

ZERO = Decimal(0)
FLATTEN_TAG = "flatten"


@dataclass(frozen=True, slots=True)
class FlattenPlan:
    intents: tuple[Intent, ...]
    notes: tuple[str, ...]  # one line per pair (and per cancelled entry) for the operator


def plan_flatten(
    positions: Mapping[str, Decimal],
    books: Mapping[str, BookTop],
    instruments: Mapping[str, Instrument],
    live: Sequence[Order],
) -> FlattenPlan:
    intents: list[Intent] = []
    notes: list[str] = []
    for order in live:
        if order.side is Side.BUY and not order.reduces_position and not order.cancel_requested:
            intents.append(CancelIntent(order.cl_ord_id, "flatten: no new exposure"))
            notes.append(f"{order.symbol}: cancel entry {order.cl_ord_id}")
    for symbol in sorted(positions):
        held = positions[symbol]
        if held <= 0:
            continue
        instrument = instruments.get(symbol)
        if instrument is None:
            notes.append(f"{symbol}: not sold: unknown pair")
            continue
        selling = sum(
            (
                o.remaining_qty
                for o in live
                if o.symbol == symbol and o.side is Side.SELL and not is_protective(o)
            ),
            ZERO,
        )
        qty = instrument.quantize_qty(held - selling)
        if qty < instrument.ordermin:
            why = "already being sold" if selling > 0 else "below the pair's minimum order"
            notes.append(f"{symbol}: not sold: {qty} {why}")
            continue
        book = books.get(symbol)
        bid = None if book is None or not book.verified else book.best_bid
        if bid is None:
            notes.append(f"{symbol}: not sold: no verified bid")
            continue
        intents.append(
            OrderIntent(
                symbol=symbol,
                side=Side.SELL,
                order_type=OrderType.LIMIT,
                qty=qty,
                limit_price=bid,
                time_in_force=TimeInForce.IOC,
                reduces_position=True,
                tag=FLATTEN_TAG,
            )
        )
        notes.append(f"{symbol}: IOC sell {qty} at {bid} (through the risk gate)")
    if not notes:
        notes.append("nothing to flatten: no position, no resting entry")
    return FlattenPlan(tuple(intents), tuple(notes))


__all__ = ["FLATTEN_TAG", "FlattenPlan", "plan_flatten"]
