"""Typed order requests and results for Kraken REST trading and order queries.

Owns: AddOrder parameter rendering (post-only limit, market, stop-loss, IOC, GTD, validate,
deadline, cl_ord_id), AddOrder results, AmendOrder requests and results, and the trade
records of TradesHistory with their paging.
The order records of OpenOrders / ClosedOrders / QueryOrders live in rest_order_info.py and
are re-exported here.
Must not import: I/O, the clock, layers above `domain`.
Facts: API.md §5.2–5.3 (docs.kraken.com/rest: AddOrder, OpenOrders, ClosedOrders,
QueryOrders, TradesHistory). ClosedOrders/TradesHistory return 50 rows a page and `count`
is the grand total; `ofs` pages through them.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from krakenbot.domain.commands import AmendOrder, PlaceOrder
from krakenbot.domain.construct import slot_constructor
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.instrument import Instrument
from krakenbot.kraken.rest_codec import CodecError, dec, epoch_ns
from krakenbot.kraken.rest_order_info import (
    OrderInfo,
    OrderList,
    OrdersPage,
    opt_int,
    parse_closed_orders,
    parse_open_orders,
    parse_order,
    parse_query_orders,
)
from krakenbot.kraken.rest_values import codec_boundary
from krakenbot.kraken.signing import ParamValue, form_value, param_text

PAGE_SIZE = 50
# The order types krakenbot places: a stop-loss is the protective stop (orders/protection.py).
_PLACEABLE = frozenset({OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LOSS})
# A relative `expiretm=+<n>` must be at least 5 s (the simulator enforces the same floor).
MIN_EXPIRE_S = 5


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """One order as the client sends it. `pair` is a REST id or altname (e.g. "XLMUSD")."""

    pair: str
    side: Side
    order_type: OrderType
    volume: Decimal
    cl_ord_id: str
    price: Decimal | None = None
    post_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    validate: bool = False
    deadline_s: float | None = None  # Kraken's `deadline` relative to send; None: client default
    expire_s: int | None = None  # GTD: `expiretm=+<n>`, n seconds after Kraken accepts it

    def __post_init__(self) -> None:
        if self.deadline_s is not None and not 2.0 <= self.deadline_s <= 60.0:
            raise ValueError("deadline_s must be within Kraken's 2…60 s")
        if self.volume <= 0:
            raise ValueError("volume must be positive")
        if self.order_type not in _PLACEABLE:
            # Other trigger / iceberg orders need fields this request has no room for yet.
            raise ValueError(f"cannot place {self.order_type} orders (market, limit, stop-loss)")
        if self.order_type is not OrderType.MARKET and (self.price is None or self.price <= 0):
            raise ValueError(f"a {self.order_type} order needs a positive price")
        if self.order_type is OrderType.MARKET and self.price is not None:
            raise ValueError("a market order takes no price")
        if self.post_only and self.order_type is not OrderType.LIMIT:
            raise ValueError("post-only applies to limit orders only")
        if (self.time_in_force is TimeInForce.GTD) != (self.expire_s is not None):
            raise ValueError("a GTD order, and only a GTD order, carries expire_s")
        if self.expire_s is not None and self.expire_s < MIN_EXPIRE_S:
            raise ValueError(f"expire_s must be at least {MIN_EXPIRE_S} s (Kraken's minimum)")
        if not self.cl_ord_id:
            raise ValueError("every order carries a cl_ord_id")


def order_request(cmd: PlaceOrder, instrument: Instrument) -> OrderRequest:
    """The REST request for a venue command, checked against the pair's exchange rules.

    Raises ValueError (with Kraken's own error text) instead of sending an order Kraken
    would refuse: off-tick price, off-lot volume, below ordermin / costmin."""
    # Kraken's `price` is the limit price, or a stop-loss's trigger price (docs: AddOrder).
    price = cmd.trigger_price if cmd.order_type is OrderType.STOP_LOSS else cmd.limit_price
    problem = instrument.violation(price, cmd.qty)
    if problem is not None:
        raise ValueError(f"{cmd.cl_ord_id}: {problem}")
    expire_s = None
    if cmd.time_in_force is TimeInForce.GTD and cmd.expire_s is not None:
        expire_s = max(MIN_EXPIRE_S, math.ceil(cmd.expire_s))
    return OrderRequest(
        pair=instrument.altname,
        side=cmd.side,
        order_type=cmd.order_type,
        volume=cmd.qty,
        cl_ord_id=cmd.cl_ord_id,
        price=price,
        post_only=cmd.post_only,
        time_in_force=cmd.time_in_force,
        deadline_s=cmd.deadline_s,
        expire_s=expire_s,
    )


def rfc3339(ns: int) -> str:
    """RFC3339 UTC with milliseconds (`2024-07-21T09:53:59.050Z`, the form of the docs'
    deadline example), as AddOrder's and add_order's `deadline` accept."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return f"{_whole_second(seconds)}.{rest // 1_000_000:03d}Z"


@functools.lru_cache(maxsize=8)
def _whole_second(seconds: int) -> str:
    # Formatting the date costs more than the rest of an order's encoding; orders sent
    # within one second share it.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def add_order_params(req: OrderRequest, deadline_ns: int | None) -> dict[str, ParamValue]:
    params: dict[str, ParamValue] = {
        "ordertype": req.order_type.value,
        "type": req.side.value,
        "volume": req.volume,
        "pair": req.pair,
    }
    if req.price is not None:
        params["price"] = req.price
    if req.post_only:
        params["oflags"] = "post"
    if req.order_type is OrderType.STOP_LOSS:
        # Triggered by the last trade (Kraken's default, stated): every pair has one, while
        # `index` fails with "Index unavailable" on pairs without an index (API.md §4).
        params["trigger"] = "last"
    if req.time_in_force is not TimeInForce.GTC:
        # REST spells it upper case (docs: AddOrder `timeinforce`).
        params["timeinforce"] = req.time_in_force.value.upper()
    if req.expire_s is not None:
        params["expiretm"] = f"+{req.expire_s}"
    params["cl_ord_id"] = req.cl_ord_id
    if deadline_ns is not None:
        params["deadline"] = rfc3339(deadline_ns)
    if req.validate:
        params["validate"] = True
    return params


# REST spells the time in force upper case (docs: AddOrder `timeinforce`); GTC is the default.
_TIF_FIELD = {TimeInForce.IOC: "&timeinforce=IOC", TimeInForce.GTD: "&timeinforce=GTD"}


def add_order_form(req: OrderRequest, deadline_ns: int) -> str:
    """AddOrder's form body after `nonce=<n>`: byte for byte what `encode_form` makes of
    `add_order_params(req, deadline_ns)` (a property test holds them equal), written out
    directly, since the REST order path renders it on every send (after any rate wait)."""
    price = "" if req.price is None else f"&price={param_text(req.price)}"
    body = (
        f"&ordertype={req.order_type.value}&type={req.side.value}"
        f"&volume={param_text(req.volume)}&pair={form_value(req.pair)}{price}"
    )
    if req.post_only:
        body += "&oflags=post"
    if req.order_type is OrderType.STOP_LOSS:
        body += "&trigger=last"
    body += _TIF_FIELD.get(req.time_in_force, "")
    if req.expire_s is not None:
        body += f"&expiretm={form_value(f'+{req.expire_s}')}"
    body += f"&cl_ord_id={form_value(req.cl_ord_id)}&deadline={form_value(rfc3339(deadline_ns))}"
    return body + "&validate=true" if req.validate else body


@dataclass(frozen=True, slots=True)
class AmendRequest:
    """One AmendOrder (docs: rest-api/amend-order): the order by exactly one of `txid` /
    `cl_ord_id`; `order_qty` is the new total quantity; None leaves a field unchanged."""

    pair: str  # for the trading-rate counter (Kraken's request names no pair for spot)
    txid: str | None = None
    cl_ord_id: str | None = None
    order_qty: Decimal | None = None
    limit_price: Decimal | None = None
    trigger_price: Decimal | None = None
    deadline_s: float | None = None

    def __post_init__(self) -> None:
        if (self.txid is None) == (self.cl_ord_id is None):
            raise ValueError("amend by exactly one of txid or cl_ord_id")
        changes = (self.order_qty, self.limit_price, self.trigger_price)
        if all(v is None for v in changes):
            raise ValueError("an amend must change the quantity or a price")
        if any(v is not None and v <= 0 for v in changes):
            raise ValueError("amended quantity and prices must be positive")
        if self.deadline_s is not None and not 2.0 <= self.deadline_s <= 60.0:
            raise ValueError("deadline_s must be within Kraken's 2…60 s")


def amend_request(cmd: AmendOrder, instrument: Instrument) -> AmendRequest:
    """The REST request for a venue amend, checked against the pair's tick and lot."""
    for price in (cmd.limit_price, cmd.trigger_price):
        if price is not None and not instrument.is_on_tick(price):
            raise ValueError(f"{cmd.cl_ord_id}: EOrder:Tick size check failed")
    if cmd.qty is not None:
        problem = instrument.violation(None, cmd.qty)
        if problem is not None:
            raise ValueError(f"{cmd.cl_ord_id}: {problem}")
    return AmendRequest(
        pair=instrument.altname,
        txid=cmd.order_id,
        cl_ord_id=None if cmd.order_id else cmd.cl_ord_id,
        order_qty=cmd.qty,
        limit_price=cmd.limit_price,
        trigger_price=cmd.trigger_price,
    )


def amend_order_params(req: AmendRequest, deadline_ns: int | None) -> dict[str, ParamValue]:
    params: dict[str, ParamValue] = {}
    if req.txid is not None:
        params["txid"] = req.txid
    if req.cl_ord_id is not None:
        params["cl_ord_id"] = req.cl_ord_id
    for name, value in (
        ("order_qty", req.order_qty),
        ("limit_price", req.limit_price),
        ("trigger_price", req.trigger_price),
    ):
        if value is not None:
            params[name] = value
    if deadline_ns is not None:
        params["deadline"] = rfc3339(deadline_ns)
    return params


def parse_amend_order(result: Any) -> str:
    """AmendOrder's result: `{"amend_id": "TEZA4R-..."}` → the amend id."""
    if not isinstance(result, dict) or not isinstance(result.get("amend_id"), str):
        raise CodecError("AmendOrder: expected {amend_id}")
    return str(result["amend_id"])


@dataclass(frozen=True, slots=True)
class AddOrderResult:
    txids: tuple[str, ...]  # empty for validate=true
    description: str
    close_description: str | None
    cl_ord_id: str
    # True when the order was found by cl_ord_id after an ambiguous send (not from the ack).
    recovered: bool = False
    # True when the ack itself already reached the event stream (WS add_order ack).
    announced: bool = False

    @property
    def txid(self) -> str | None:
        return self.txids[0] if self.txids else None


# Built on every order's answer path (WS ack and REST reply alike).
new_add_order_result = slot_constructor(AddOrderResult)


@codec_boundary("AddOrder")
def parse_add_order(result: Any, cl_ord_id: str) -> AddOrderResult:
    if not isinstance(result, dict):
        raise CodecError("AddOrder: expected an object", cl_ord_id=cl_ord_id)
    descr = result.get("descr") or {}
    txid = result.get("txid", [])
    if type(txid) is list and len(txid) == 1 and type(txid[0]) is str:
        txids: tuple[str, ...] = (txid[0],)  # the usual answer: one order
    else:
        txids = (txid,) if isinstance(txid, str) else tuple(str(t) for t in txid)
    close = descr.get("close")
    return new_add_order_result(txids, str(descr.get("order", "")), close or None, cl_ord_id)


@dataclass(frozen=True, slots=True)
class TradeInfo:
    trade_txid: str
    order_txid: str
    pair: str  # REST id, e.g. "XXLMZUSD"
    side: Side
    order_type: str
    price: Decimal
    volume: Decimal
    cost: Decimal
    fee: Decimal
    time_ns: int
    maker: bool | None
    trade_id: int | None
    position_txid: str | None = None
    misc: str = ""


@dataclass(frozen=True, slots=True)
class TradesPage:
    trades: tuple[TradeInfo, ...]
    count: int  # grand total across pages

    @property
    def size(self) -> int:
        """Entries on this page (what `ofs` pages over)."""
        return len(self.trades)


def parse_trade(trade_txid: str, t: Any) -> TradeInfo:
    if not isinstance(t, dict):
        raise CodecError(f"trade {trade_txid}: expected an object")
    try:
        maker = t.get("maker")
        return TradeInfo(
            trade_txid=trade_txid,
            order_txid=str(t["ordertxid"]),
            pair=str(t["pair"]),
            side=Side(t["type"]),
            order_type=str(t.get("ordertype", "")),
            price=dec(t["price"]),
            volume=dec(t["vol"]),
            cost=dec(t["cost"]),
            fee=dec(t["fee"]),
            time_ns=epoch_ns(t["time"]),
            maker=bool(maker) if maker is not None else None,
            trade_id=opt_int(t.get("trade_id")),
            position_txid=t.get("postxid") or None,
            misc=str(t.get("misc", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"trade {trade_txid}: malformed ({exc})") from exc


@codec_boundary("TradesHistory")
def parse_trades_history(result: Any) -> TradesPage:
    if not isinstance(result, dict) or not isinstance(result.get("trades", {}), dict):
        raise CodecError("TradesHistory: expected {trades: {…}, count}")
    trades = tuple(parse_trade(k, v) for k, v in result.get("trades", {}).items())
    return TradesPage(trades, int(result.get("count", len(trades))))


__all__ = [
    "PAGE_SIZE",
    "AddOrderResult",
    "AmendRequest",
    "OrderInfo",
    "OrderList",
    "OrderRequest",
    "OrdersPage",
    "TradeInfo",
    "TradesPage",
    "add_order_form",
    "add_order_params",
    "amend_order_params",
    "amend_request",
    "order_request",
    "parse_add_order",
    "parse_amend_order",
    "parse_closed_orders",
    "parse_open_orders",
    "parse_order",
    "parse_query_orders",
    "parse_trade",
    "parse_trades_history",
    "rfc3339",
]
