"""Static order checks, in the order Kraken reports them, and the funds an order needs (pure).

Owns: `validate(req, market, ws)` → the first Kraken error string or None, `reference_price`
(the price a relative price is measured from), `resolved_prices` (what a request's prices are
in absolute terms right now), `needed` (asset and amount to hold) and `make_order` (the
exchange's record of an accepted request). Imports: stdlib and
sim.* only. Facts: API.md §4, §5.3; docs rest-api/add-order (`displayvol` "Minimum value is
1 / 15 of volume"; `viqc` "supported only for buy market orders"; `price2` for the three
*-limit types; trailing stops need `+` prices); the ordermin / costmin / tick rules as before.
"""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from krakenbot.sim.market import Market
from krakenbot.sim.model import OrderRequest, SimOrder, close_descr
from krakenbot.sim.pairs import ASSETS
from krakenbot.sim.prices import (
    LIMIT_LEG_TYPES,
    TRAILING_TYPES,
    TRIGGER_TYPES,
    PriceArg,
    limit_from_trigger,
    passive_sign,
    resolve,
    trailing_stop,
)

E_ARGS = "EGeneral:Invalid arguments"
PRICED = TRIGGER_TYPES | {"limit", "iceberg"}


def reference_price(market: Market, trigger: str) -> Decimal:
    """The last traded price, or the index price (docs: add-order `trigger`). The sim's index
    is the mid of the book unless a test pinned one (`SimControl.set_index`)."""
    if trigger == "index":
        return market.index_price if market.index_price is not None else market.mid
    return market.last_price


def _absolute(
    arg: PriceArg | None, req: OrderRequest, market: Market, ref: Decimal
) -> Decimal | None:
    if arg is None:
        return None
    tick = req.pair.tick_size
    return resolve(arg, ref, passive_sign(req.side, req.ordertype), tick)


def resolved_prices(req: OrderRequest, market: Market) -> tuple[Decimal | None, Decimal | None]:
    """(limit-or-trigger price, limit leg) in absolute terms now. A trailing stop's trigger is
    its offset from the current reference; a trailing-stop-limit's limit is its offset from
    that trigger."""
    ref = reference_price(market, req.trigger)
    if req.ordertype in TRAILING_TYPES and req.price is not None:
        stop = trailing_stop(req.side, ref, req.price, req.pair.tick_size)
        limit = None
        if req.price2 is not None:
            limit = limit_from_trigger(stop, req.price2, req.pair.tick_size)
        return stop, limit
    return _absolute(req.price, req, market, ref), _absolute(req.price2, req, market, ref)


def _shape(req: OrderRequest) -> str | None:
    """What each order type requires of its prices and flags."""
    kind = req.ordertype
    if kind in PRICED and req.price is None:
        return f"{E_ARGS}:price"
    if kind in LIMIT_LEG_TYPES and req.price2 is None:
        return f"{E_ARGS}:price2"
    if kind in TRAILING_TYPES:
        assert req.price is not None
        if req.price.sign != "+":
            return f"{E_ARGS}:price"  # "Must use a relative price ... the + prefix"
        if req.price2 is not None and req.price2.sign not in ("+", "-"):
            return f"{E_ARGS}:price2"
    if kind == "iceberg":
        if req.display is None or not req.volume / 15 <= req.display <= req.volume:
            return f"{E_ARGS}:displayvol"
    elif req.display is not None:
        return f"{E_ARGS}:displayvol"
    if req.in_quote and (req.side != "buy" or kind != "market"):
        return f"{E_ARGS}:oflags"
    if req.post_only and kind != "limit":
        return f"{E_ARGS}:oflags"
    return None


def validate(req: OrderRequest, market: Market, *, ws: bool) -> str | None:
    """Static checks in the order Kraken reports them (first failure wins)."""
    spec = req.pair
    err = _shape(req)
    if err:
        return err
    volume = req.volume
    if volume <= 0 or (not req.in_quote and volume != volume.quantize(spec.lot_step, ROUND_UP)):
        return f"{E_ARGS}:volume"
    if not req.in_quote and volume < spec.ordermin:
        # REST and WS word this differently (API.md §4, real WS capture [roq]).
        return f"{E_ARGS}:volume minimum not met" if ws else "EOrder:Order minimum not met"
    for arg in (req.price, req.price2):
        if arg is not None and not arg.relative:
            if arg.value <= 0:
                return "EOrder:Invalid price"
            if arg.value % spec.tick_size != 0:
                return "EOrder:Tick size check failed"
    price, limit = resolved_prices(req, market)
    if (price is not None and price <= 0) or (limit is not None and limit <= 0):
        return "EOrder:Invalid price"
    ref_price = limit or price or market.mid
    notional = volume if req.in_quote else volume * ref_price
    if notional < spec.costmin:
        return "EOrder:Cost minimum not met"
    if req.tif == "GTD" and req.expire_ns is None:
        return f"{E_ARGS}:expiretm"
    return None


def needed(req: OrderRequest, market: Market) -> tuple[str, Decimal]:
    """The asset and amount an order holds: its base for a sell, the quote it may spend (plus
    the taker fee) for a buy — at its limit, or its trigger, or what the book would cost."""
    spec = req.pair
    fee = spec.taker_pct / 100
    if req.side == "sell":
        base = req.volume * (1 + fee) if req.fee_in_base else req.volume
        return spec.base, base.quantize(spec.lot_step, ROUND_UP)
    quote_step = ASSETS[spec.quote].step
    if req.in_quote:
        return spec.quote, (req.volume * (1 + fee)).quantize(quote_step, ROUND_UP)
    price, limit = resolved_prices(req, market)
    at = limit or price
    notional = req.volume * at if at is not None else market.quote_for("buy", req.volume)
    return spec.quote, (notional * (1 + fee)).quantize(quote_step, ROUND_UP)


def make_order(req: OrderRequest, market: Market, txid: str, seq: int, now_ns: int) -> SimOrder:
    """The exchange's record of an accepted request, its prices resolved now."""
    price, second = resolved_prices(req, market)
    trigger_order = req.ordertype in TRIGGER_TYPES
    shown, shown2 = _shown_prices(req, price, second)
    return SimOrder(
        txid=txid,
        pair=req.pair,
        side=req.side,
        ordertype=req.ordertype,
        price=price if req.ordertype in ("limit", "iceberg") else None,
        vol=req.volume,
        userref=req.userref,
        cl_ord_id=req.cl_ord_id,
        post_only=req.post_only,
        tif=req.tif,
        opentm_ns=now_ns,
        expire_ns=req.expire_ns,
        seq=seq,
        flags=req.flags,
        trigger_ref=req.trigger,
        price_arg=shown,
        price2_arg=shown2,
        stop=price if trigger_order else None,
        limit=second if trigger_order else None,
        display=req.display,
        start_ns=req.start_ns,
        close=req.close,
        close_text=close_descr(req.close, req.pair.pair_decimals) if req.close else "",
        refid=req.refid,
        quote_volume=req.volume if req.in_quote else None,
    )


def _shown_prices(
    req: OrderRequest, price: Decimal | None, second: Decimal | None
) -> tuple[PriceArg | None, PriceArg | None]:
    """The prices an order's texts show: a trailing order's offsets as written (a real one
    prints `+50.0000%`), every other price as the absolute price it was resolved to."""
    if req.ordertype in TRAILING_TYPES:
        return req.price, req.price2
    return (
        None if price is None else PriceArg(price),
        None if second is None else PriceArg(second),
    )
