"""Trigger orders and conditional closes at work (pure; part of the exchange core).

Owns: `arm` (a trigger order's first trigger price: resolved from a relative price, or a
trailing stop's distance behind the current reference), `evaluate` (after every market change:
trailing stops follow the price, triggers that the reference price reached fire, and what
they became executes — cascades included) and `place_close` (a filled parent's conditional
close). Imports: stdlib and sim.* only. The rules are in sim/prices.py with their doc quotes.

Reports (WS executions): a trailing stop whose trigger moves and a trigger that fires each
send an `exec_type: "status"` report carrying `triggers` (docs websocket-v2/executions lists
`status` for e.g. a trigger price update; the exact report Kraken sends when a trigger fires
is not documented — see the README's simulator section). REST shows the order `open` until it
closes, with `stopprice` the trigger in force and `misc` `stopped` (stops, trailing stops) or
`touched` (take-profits) once fired (docs get-open-orders `misc`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from krakenbot.sim.model import OrderRequest, SimOrder
from krakenbot.sim.order_rules import reference_price
from krakenbot.sim.prices import (
    LIMIT_LEG_TYPES,
    TRAILING_TYPES,
    fires,
    follow,
    limit_from_trigger,
    trailing_stop,
)

if TYPE_CHECKING:
    from krakenbot.sim.exchange import Exchange

_MAX_ROUNDS = 20  # a fired market order prints trades that may fire the next trigger
OPPOSITE = {"buy": "sell", "sell": "buy"}


def arm(ex: Exchange, order: SimOrder) -> None:
    """Set a trailing stop's peak and trigger from the reference price now."""
    if order.ordertype in TRAILING_TYPES and order.price_arg is not None:
        market = ex.markets[order.pair.symbol]
        order.peak = reference_price(market, order.trigger_ref)
        order.stop = trailing_stop(order.side, order.peak, order.price_arg, order.pair.tick_size)


def _trail(ex: Exchange, order: SimOrder, ref_price: Decimal, now_ns: int) -> None:
    assert order.peak is not None and order.price_arg is not None
    peak = follow(order.side, order.peak, ref_price)
    if peak == order.peak:
        return
    order.peak = peak
    stop = trailing_stop(order.side, peak, order.price_arg, order.pair.tick_size)
    if stop != order.stop:
        order.stop = stop
        ex.set_hold(order)
        ex.emit("status", order, now_ns, reason="Trigger price updated")


def evaluate(ex: Exchange, symbol: str, now_ns: int) -> None:
    """Follow the price with trailing stops and fire every trigger the price has reached."""
    if ex.system != "online":
        return
    market = ex.markets[symbol]
    for _ in range(_MAX_ROUNDS):
        fired = False
        waiting = [o for o in ex.open.values() if o.pair.symbol == symbol and o.waiting]
        for order in sorted(waiting, key=lambda o: o.seq):
            if not order.waiting or (order.start_ns or 0) > now_ns:
                continue
            ref = reference_price(market, order.trigger_ref)
            if order.ordertype in TRAILING_TYPES:
                _trail(ex, order, ref, now_ns)
            assert order.stop is not None
            if fires(order.ordertype, order.side, order.stop, ref):
                fire(ex, order, now_ns)
                fired = True
        if not fired:
            return


def fire(ex: Exchange, order: SimOrder, now_ns: int) -> None:
    """The trigger is reached: the order becomes the market or limit order it carries."""
    assert order.stop is not None
    order.triggered_ns = now_ns
    order.misc.add("touched" if order.ordertype.startswith("take-profit") else "stopped")
    if order.ordertype in LIMIT_LEG_TYPES:
        if order.ordertype == "trailing-stop-limit" and order.price2_arg is not None:
            order.limit = limit_from_trigger(order.stop, order.price2_arg, order.pair.tick_size)
        order.price = order.limit
    ex.emit("status", order, now_ns, reason="Order triggered")
    ex.execute(order, now_ns)


def place_close(ex: Exchange, parent: SimOrder, now_ns: int) -> None:
    """The conditional close of a parent that executed: same quantity, opposite side, the
    parent's trigger reference (docs add-order: "This trigger type will also be used for any
    associated conditional close orders"). Kraken charges no add for it; an order it could
    not accept (below the minimum after a small partial fill, no funds) is not placed."""
    spec = parent.close
    if spec is None or parent.vol_exec <= 0:
        return
    req = OrderRequest(
        pair=parent.pair,
        side=OPPOSITE[parent.side],
        ordertype=spec.ordertype,
        volume=parent.vol_exec,
        price=spec.price,
        price2=spec.price2,
        flags=frozenset(f for f in parent.flags if f in ("fcib", "fciq")),
        trigger=parent.trigger_ref,
        userref=parent.userref,
        refid=parent.txid,
    )
    ex.add_order(req, now_ns, charged=True)
