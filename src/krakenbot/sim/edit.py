"""EditOrder / edit_order in the exchange core: cancel and replace (pure; part of the exchange).

Owns: `Edit` (what a request asks to change), `parse_rest` / `parse_ws` (request parameters →
the order reference, the pair and an `Edit`) and `edit(ex, ref, spec, change, now_ns, ws)`.
Imports: stdlib and sim.* only.
Facts (docs rest-api/edit-order, websocket-v2/edit_order, guides/spot-ratelimits; API.md
§5.3, §7.6):
* the original order is cancelled and a new order with a NEW txid carries the adjusted terms;
  queue position is not kept; existing executions stay with the original;
* REST: `txid` (an order id or a userref) and `pair` required; `volume`, `displayvol`,
  `price`, `price2`, `oflags`, `userref` (the new order's), `deadline`, `cancel_response`,
  `validate`. Reply `{status, txid, originaltxid, volume, price, price2, orders_cancelled,
  descr{order}}` (docs example);
* WS v2: `order_id` and `symbol` required; `order_qty`, `limit_price`, `display_qty`,
  `post_only`, `reduce_only`, `triggers`, `fee_preference`, `order_userref`, `deadline`,
  `validate`. Ack `result{order_id, original_order_id}` (docs example);
* refused: triggered stop / take-profit orders, orders with conditional close terms, a new
  volume below the executed volume; `cl_ord_id` is not supported;
* trading counter: +1 on receipt plus +6/+5/+4/+2/+1 when the order was created or last
  amended less than 5/10/15/45/90 s ago (no cancel penalty on top: the table has one row
  for the edit).
Chosen here, not confirmed by a capture: the error strings for an order that cannot be edited
(`EOrder:Invalid order`), for `cl_ord_id` (`EGeneral:Invalid arguments:cl_ord_id`), for a
volume not above the executed one (`EGeneral:Invalid arguments:volume`) and for a pair that
is not the order's (`EOrder:Unknown order`); the new volume is the order's new total (the
new order gets what is left after the executions); the cancel report's reason ("User
requested"); the new order keeps the original's userref (unless a new one is given) but not
its cl_ord_id; a validate-only REST reply has no `txid`, a WS one `order_id: ""`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from krakenbot.sim.exchange import (
    E_CANCEL_ONLY,
    E_FUNDS,
    E_POST_ONLY_ORDER,
    E_RATE,
    E_UNAVAILABLE,
    E_UNKNOWN_ORDER,
)
from krakenbot.sim.model import OrderRequest, SimOrder
from krakenbot.sim.order_params import E_REDUCE_ONLY, FLAGS
from krakenbot.sim.order_rules import needed, resolved_prices
from krakenbot.sim.pairs import PairIndex, PairSpec
from krakenbot.sim.parse import E_ARGS, E_UNKNOWN_PAIR, Params, client_ids, decimal_text, truthy
from krakenbot.sim.prices import LIMIT_LEG_TYPES, TRIGGER_TYPES, PriceArg, rest_price, ws_price
from krakenbot.sim.ratelimit import NS

if TYPE_CHECKING:
    from krakenbot.sim.exchange import Exchange

E_NOT_EDITABLE = "EOrder:Invalid order"
REASON = "User requested"


@dataclass(frozen=True, slots=True)
class Edit:
    """A request's changes. REST names prices by position (`price`: the limit of a limit or
    iceberg order, else the trigger; `price2`: a *-limit order's limit leg); WS by role."""

    volume: Decimal | None = None
    display: Decimal | None = None
    price: PriceArg | None = None  # REST
    price2: PriceArg | None = None  # REST
    limit: PriceArg | None = None  # WS limit_price
    trigger: PriceArg | None = None  # WS triggers.price
    trigger_ref: str | None = None  # WS triggers.reference
    flags: frozenset[str] | None = None  # REST oflags: the new order's whole set
    post_only: bool | None = None  # WS
    fee_in_base: bool | None = None  # WS fee_preference
    userref: int | None = None
    validate: bool = False


def _decimal(params: Params, name: str) -> Decimal | str | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    value = decimal_text(raw)
    return f"{E_ARGS}:{name}" if value is None else value


def _ref(raw: object) -> str | int:
    text = str(raw).strip()
    return int(text) if text.lstrip("-").isdigit() else text


def parse_rest(params: Params, index: PairIndex) -> tuple[str | int, PairSpec, Edit] | str:
    """REST EditOrder parameters → (txid or userref, the pair, the changes), or an error."""
    if params.get("cl_ord_id") not in (None, ""):
        return f"{E_ARGS}:cl_ord_id"
    if params.get("txid") in (None, ""):
        return f"{E_ARGS}:txid"
    name = str(params.get("pair") or "")
    if not name:
        return f"{E_ARGS}:pair"
    spec = index.resolve(name)
    if spec is None:
        return E_UNKNOWN_PAIR
    values: list[Decimal | None] = []
    for field in ("volume", "displayvol"):
        value = _decimal(params, field)
        if isinstance(value, str):
            return value
        values.append(value)
    prices: list[PriceArg | None] = []
    for field in ("price", "price2"):
        raw = params.get(field)
        arg = None if raw in (None, "") else rest_price(raw)
        if raw not in (None, "") and arg is None:
            return f"{E_ARGS}:{field}"
        prices.append(arg)
    flags = None
    if params.get("oflags") is not None:
        flags = frozenset(f.strip() for f in str(params["oflags"]).split(",") if f.strip())
        if flags - FLAGS or {"fcib", "fciq"} <= flags:
            return f"{E_ARGS}:oflags"
    userref, _, err = client_ids(params.get("userref"), None)
    if err:
        return err
    change = Edit(
        volume=values[0],
        display=values[1],
        price=prices[0],
        price2=prices[1],
        flags=flags,
        userref=userref,
        validate=truthy(params.get("validate", False)),
    )
    return _ref(params["txid"]), spec, change


def parse_ws(params: Params, index: PairIndex) -> tuple[str | int, PairSpec, Edit] | str:
    """WS v2 edit_order parameters → (order id, the pair, the changes), or an error."""
    if params.get("cl_ord_id") not in (None, ""):
        return f"{E_ARGS}:cl_ord_id"
    if params.get("order_id") in (None, ""):
        return f"{E_ARGS}:order_id"
    symbol = params.get("symbol")
    if not symbol:
        return f"{E_ARGS}:symbol"
    spec = index.resolve(str(symbol))
    if spec is None or spec.symbol != symbol:
        return f"Currency pair not supported {symbol}"
    if truthy(params.get("reduce_only", False)):
        return E_REDUCE_ONLY  # a spot account holds no position to reduce
    values: list[Decimal | None] = []
    for field in ("order_qty", "display_qty"):
        value = _decimal(params, field)
        if isinstance(value, str):
            return value
        values.append(value)
    limit = trigger = None
    ref = None
    if params.get("limit_price") is not None:
        limit = ws_price(params["limit_price"], params.get("limit_price_type"))
        if limit is None:
            return f"{E_ARGS}:limit_price"
    if params.get("triggers") is not None:
        raw = params["triggers"]
        if not isinstance(raw, dict) or raw.get("reference", "last") not in ("last", "index"):
            return f"{E_ARGS}:triggers"
        trigger = ws_price(raw.get("price"), raw.get("price_type"))
        if trigger is None:
            return f"{E_ARGS}:triggers"
        ref = str(raw.get("reference", "last"))
    preference = params.get("fee_preference")
    if preference not in (None, "base", "quote"):
        return f"{E_ARGS}:fee_preference"
    userref, _, err = client_ids(params.get("order_userref"), None)
    if err:
        return err
    post = params.get("post_only")
    change = Edit(
        volume=values[0],
        display=values[1],
        limit=limit,
        trigger=trigger,
        trigger_ref=ref,
        post_only=None if post is None else truthy(post),
        fee_in_base=None if preference is None else preference == "base",
        userref=userref,
        validate=truthy(params.get("validate", False)),
    )
    return _ref(params["order_id"]), spec, change


def edit(
    ex: Exchange, ref: str | int, spec: PairSpec, change: Edit, now_ns: int, *, ws: bool
) -> tuple[SimOrder, SimOrder] | str:
    """Cancel the open order `ref` names and place its replacement; (new, original), or
    Kraken's error. With `validate` nothing changes and the new order is not saved."""
    if ex.system == "maintenance":
        return E_UNAVAILABLE
    if ex.system == "cancel_only":
        return E_CANCEL_ONLY
    found = ex.find_open(ref)
    if len(found) > 1:
        return f"{E_ARGS}:{'order_id' if ws else 'txid'}"  # a userref naming several orders
    if not found or found[0].pair.symbol != spec.symbol:
        return E_UNKNOWN_ORDER
    order = found[0]
    if order.close is not None or (order.is_trigger and order.triggered_ns is not None):
        return E_NOT_EDITABLE
    if not change.validate:
        age_s = (now_ns - (order.amended_ns or order.opentm_ns)) / NS
        if not ex.trading.charge_edit(spec.symbol, age_s, now_ns):
            return E_RATE
    req = _replacement(order, change)
    if isinstance(req, str):
        return req
    err = ex.check_state(req) or ex.validate(req, ws=ws) or _precheck(ex, order, req)
    if err:
        return err
    if change.validate:
        return ex._new_order(req, now_ns), order
    ex._close(order, "canceled", now_ns, reason=REASON)
    new, err = ex.add_order(req, now_ns, ws=ws, charged=True)
    if new is None:  # cannot happen after _precheck; the caller still sees Kraken's error
        return err or E_NOT_EDITABLE
    return new, order


def _replacement(order: SimOrder, change: Edit) -> OrderRequest | str:
    """The new order's terms: the original's, with the request's changes."""
    total = change.volume if change.volume is not None else order.vol
    if total <= order.vol_exec:
        return f"{E_ARGS}:volume"  # "executed volume greater than the new volume": refused
    prices = _prices(order, change)
    if isinstance(prices, str):
        return prices
    flags = set(order.flags if change.flags is None else change.flags)
    if change.post_only is not None:
        flags = (flags - {"post"}) | ({"post"} if change.post_only else set())
    if change.fee_in_base is not None:
        flags = (flags - {"fcib", "fciq"}) | {"fcib" if change.fee_in_base else "fciq"}
    return OrderRequest(
        pair=order.pair,
        side=order.side,
        ordertype=order.ordertype,
        volume=total - order.vol_exec,
        price=prices[0],
        price2=prices[1],
        flags=frozenset(flags),
        tif=order.tif,
        expire_ns=order.expire_ns,
        start_ns=order.start_ns if order.status == "pending" else None,
        trigger=change.trigger_ref or order.trigger_ref,
        display=change.display if change.display is not None else order.display,
        userref=change.userref if change.userref is not None else order.userref,
        validate=change.validate,
    )


def _prices(order: SimOrder, change: Edit) -> tuple[PriceArg | None, PriceArg | None] | str:
    """(price, price2) of the new order: REST positions, or WS roles mapped onto them."""
    kind = order.ordertype
    price, price2 = order.price_arg, order.price2_arg
    if change.price is not None:
        if kind == "market":
            return f"{E_ARGS}:price"
        price = change.price
    if change.price2 is not None:
        if kind not in LIMIT_LEG_TYPES:
            return f"{E_ARGS}:price2"
        price2 = change.price2
    if change.limit is not None:
        if kind in ("limit", "iceberg"):
            price = change.limit
        elif kind in LIMIT_LEG_TYPES:
            price2 = change.limit
        else:
            return f"{E_ARGS}:limit_price"
    if change.trigger is not None:
        if kind not in TRIGGER_TYPES:
            return f"{E_ARGS}:triggers"
        price = change.trigger
    return price, price2


def _precheck(ex: Exchange, order: SimOrder, req: OrderRequest) -> str | None:
    """Book and funds checks for the replacement, counting the original's hold as released
    (the original is cancelled first). The open-order cap cannot bind: one out, one in."""
    market = ex.markets[req.pair.symbol]
    price, _ = resolved_prices(req, market)
    if req.ordertype == "limit" and req.post_only and ex._would_take(req, price):
        return E_POST_ONLY_ORDER
    asset, amount = needed(req, market)
    held_asset = order.pair.quote if order.side == "buy" else order.pair.base
    freed = order.hold if asset == held_asset else Decimal(0)
    if ex.available(asset) + freed < amount:
        return E_FUNDS
    return None
