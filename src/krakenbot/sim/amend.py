"""AmendOrder / amend_order in the exchange core (pure; part of the exchange).

Owns: `Amend` (what a request asks to change), `parse` (REST / WS parameters → an order
reference and an `Amend`) and `amend(ex, order, change, now_ns)`.
Imports: stdlib and sim.* only. Facts (docs: rest-api/amend-order, websocket-v2/amend_order,
guides/spot-amends; API.md §3.2, §5.3):
* the order keeps its ids (txid, cl_ord_id) and its executions; a successful amend reports
  `exec_type: "amended"` (reason "User requested", `amended: true`) and REST `misc` then
  contains `amended`;
* `order_qty` is the new total quantity; an amend below the executed quantity cancels the
  remainder;
* `limit_price` only for orders with a limit leg, `trigger_price` only for trigger orders
  not yet triggered, `display_qty` only for icebergs (at least 1/15 of the remainder);
* trading counter: +1 on receipt, plus +3 / +2 / +1 when the order was placed or last
  amended less than 5 / 10 / 15 s ago; a counter that would pass the tier's threshold
  refuses the amend (`EOrder:Rate limit exceeded`) and keeps the fixed +1;
* queue priority is kept "where possible": here an order keeps its place among the orders
  at its price when its quantity goes down (or only its trigger moves: it is not in the
  book); a new limit price or a larger quantity sends it to the back (a new sequence).
Not confirmed from a real capture: the error strings for a field the order type does not
take (here `EGeneral:Invalid arguments:<field>`), and whether Kraken refuses an amend that
changes nothing (here it is accepted and reported).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from typing import TYPE_CHECKING

from krakenbot.sim import trigger_engine
from krakenbot.sim.model import ZERO, SimOrder
from krakenbot.sim.order_rules import reference_price
from krakenbot.sim.parse import decimal_text, truthy
from krakenbot.sim.prices import (
    LIMIT_LEG_TYPES,
    PriceArg,
    passive_sign,
    resolve,
    rest_price,
    ws_price,
)
from krakenbot.sim.ratelimit import NS
from krakenbot.sim.settle import hold_of

if TYPE_CHECKING:
    from krakenbot.sim.exchange import Exchange

E_ARGS = "EGeneral:Invalid arguments"
E_UNAVAILABLE = "EService:Unavailable"
E_CANCEL_ONLY = "EService:Market in cancel_only mode"
E_FUNDS = "EOrder:Insufficient funds"
E_UNKNOWN_ORDER = "EOrder:Unknown order"
E_RATE = "EOrder:Rate limit exceeded"
E_POST_ONLY_ORDER = "EOrder:Post only order"
REASON = "User requested"


@dataclass(frozen=True, slots=True)
class Amend:
    """A request's changes; prices as written (absolute, or relative: `+`/`-`/`#`/`%`)."""

    qty: Decimal | None = None
    limit_price: PriceArg | None = None
    trigger_price: PriceArg | None = None
    display_qty: Decimal | None = None
    post_only: bool | None = None


@dataclass(frozen=True, slots=True)
class _Change:
    """The same changes with absolute prices (resolved against the market now)."""

    qty: Decimal | None
    limit_price: Decimal | None
    trigger_price: Decimal | None
    display_qty: Decimal | None
    post_only: bool | None


def parse(params: dict[str, object], *, ws: bool) -> tuple[str, Amend] | str:
    """REST AmendOrder (`txid` | `cl_ord_id`) or WS amend_order (`order_id` | `cl_ord_id`,
    `*_price_type`) parameters → (the order reference, the changes), or an error."""
    id_name = "order_id" if ws else "txid"
    ref = params.get(id_name) or params.get("cl_ord_id")
    if ref in (None, "") or (params.get(id_name) and params.get("cl_ord_id")):
        return f"{E_ARGS}:{id_name}"
    qtys: list[Decimal | None] = []
    for name in ("order_qty", "display_qty"):
        raw = params.get(name)
        value = None if raw in (None, "") else decimal_text(raw)
        if raw not in (None, "") and value is None:
            return f"{E_ARGS}:{name}"
        qtys.append(value)
    prices: list[PriceArg | None] = []
    for name in ("limit_price", "trigger_price"):
        raw = params.get(name)
        arg = None
        if raw not in (None, ""):
            arg = ws_price(raw, params.get(f"{name}_type")) if ws else rest_price(raw)
            if arg is None:
                return f"{E_ARGS}:{name}"
        prices.append(arg)
    raw_post = params.get("post_only")
    post_only = None if raw_post in (None, "") else truthy(raw_post)
    if all(v is None for v in (*qtys, *prices, post_only)):
        return f"{E_ARGS}:order_qty"  # nothing to amend
    change = Amend(qtys[0], prices[0], prices[1], qtys[1], post_only)
    return str(ref), change


def amend_ref(ex: Exchange, ref: str, request: Amend, now_ns: int) -> str | None:
    """Amend the open order `ref` names (txid or cl_ord_id); Kraken's error, or None."""
    found = ex.find_open(ref)
    if not found:
        return E_UNKNOWN_ORDER
    return amend(ex, found[0], request, now_ns)


def amend(ex: Exchange, order: SimOrder, request: Amend, now_ns: int) -> str | None:
    """Amend an open order in place; returns Kraken's error text, or None."""
    if ex.system == "maintenance":
        return E_UNAVAILABLE
    if ex.system == "cancel_only":
        return E_CANCEL_ONLY
    if not order.is_open:
        return E_UNKNOWN_ORDER
    age_s = (now_ns - (order.amended_ns or order.opentm_ns)) / NS
    if not ex.trading.charge_amend(order.pair.symbol, age_s, now_ns):
        return E_RATE
    change = _resolve(ex, order, request)
    err = _check(order, change)
    if err:
        return err
    if change.qty is not None and change.qty <= order.vol_exec:
        ex._close(order, "canceled", now_ns, reason="Order quantity amended below executed")
        return None
    after = copy.copy(order)
    _apply(after, change)
    if after.on_book and after.post_only and _takes(ex, after):
        return E_POST_ONLY_ORDER
    asset = order.pair.base if order.side == "sell" else order.pair.quote
    if hold_of(after) - order.hold > ex.available(asset):
        return E_FUNDS
    requeue = after.price != order.price or after.vol > order.vol
    was_on_book = order.on_book
    if was_on_book:
        _unshow(ex, order)
    _apply(order, change)
    if requeue:
        ex._seq += 1
        order.seq = ex._seq  # behind the orders already at that price
    order.amended_ns = now_ns
    order.misc.add("amended")
    ex.emit("amended", order, now_ns, reason=REASON)
    if was_on_book:
        ex.execute(order, now_ns)  # a new price may reach the market: it trades, then rests
    else:
        ex.set_hold(order)
        if order.waiting:
            trigger_engine.evaluate(ex, order.pair.symbol, now_ns)  # a trigger now reached
    return None


def _resolve(ex: Exchange, order: SimOrder, request: Amend) -> _Change:
    """Relative prices against the market now: a limit against the last trade, a trigger
    against what the order watches (docs add-order `price`: "relative to the last traded
    price"; `trigger`)."""
    market = ex.markets[order.pair.symbol]
    tick, hash_sign = order.pair.tick_size, passive_sign(order.side, order.ordertype)
    limit = trigger = None
    if request.limit_price is not None:
        limit = resolve(request.limit_price, market.last_price, hash_sign, tick)
    if request.trigger_price is not None:
        ref = reference_price(market, order.trigger_ref)
        trigger = resolve(request.trigger_price, ref, hash_sign, tick)
    return _Change(request.qty, limit, trigger, request.display_qty, request.post_only)


def _check(order: SimOrder, change: _Change) -> str | None:
    spec = order.pair
    if change.qty is not None:
        if change.qty <= 0 or change.qty != change.qty.quantize(spec.lot_step, ROUND_UP):
            return f"{E_ARGS}:order_qty"
        if change.qty < spec.ordermin:
            return "EOrder:Order minimum not met"
    if change.limit_price is not None:
        has_limit = order.ordertype == "limit" or order.ordertype in LIMIT_LEG_TYPES
        if not has_limit or change.limit_price <= 0:
            return f"{E_ARGS}:limit_price"
        if change.limit_price % spec.tick_size != 0:
            return "EOrder:Tick size check failed"
    if change.trigger_price is not None:
        if not order.waiting or change.trigger_price <= 0:
            return f"{E_ARGS}:trigger_price"
        if change.trigger_price % spec.tick_size != 0:
            return "EOrder:Tick size check failed"
    if change.display_qty is not None:
        rest = (change.qty or order.vol) - order.vol_exec
        if order.display is None or change.display_qty * 15 < rest:
            return f"{E_ARGS}:display_qty"
    return None


def _apply(order: SimOrder, change: _Change) -> None:
    if change.qty is not None:
        order.vol = change.qty
    if change.limit_price is not None:
        if order.ordertype == "limit":
            order.price = change.limit_price
            order.price_arg = PriceArg(change.limit_price)
        else:  # the limit leg of a *-limit trigger order
            order.limit = change.limit_price
            order.price2_arg = PriceArg(change.limit_price)
            if order.triggered_ns is not None:
                order.price = change.limit_price
    if change.trigger_price is not None:
        order.stop = change.trigger_price
        order.price_arg = PriceArg(change.trigger_price)
    if change.display_qty is not None:
        order.display = change.display_qty
    if change.post_only is not None:
        flags = set(order.flags) - {"post"}
        order.flags = frozenset(flags | ({"post"} if change.post_only else set()))
        order.post_only = change.post_only


def _takes(ex: Exchange, order: SimOrder) -> bool:
    """Would this resting limit order take liquidity at its (new) price?"""
    market = ex.markets[order.pair.symbol]
    best = market.asks.best_market() if order.side == "buy" else market.bids.best_market()
    if best is None or order.price is None:
        return False
    return order.price >= best if order.side == "buy" else order.price <= best


def _unshow(ex: Exchange, order: SimOrder) -> None:
    """Take the order's visible quantity out of the public book (it is shown again after)."""
    assert order.price is not None
    market = ex.markets[order.pair.symbol]
    book = market.bids if order.side == "buy" else market.asks
    book.add_own(order.price, -order.shown)
    order.shown, order.on_book = ZERO, False
    market.dirty = True
