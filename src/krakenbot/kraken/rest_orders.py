"""Typed order requests and results for Kraken REST trading and order queries.

Owns: AddOrder parameter rendering (post-only limit, market, IOC, validate, deadline,
cl_ord_id), AddOrder results, and the order / trade records of OpenOrders, ClosedOrders,
QueryOrders and TradesHistory with their paging.
Must not import: I/O, the clock, layers above `domain`.
Facts: API.md §5.2–5.3 (docs.kraken.com/rest: AddOrder, OpenOrders, ClosedOrders,
QueryOrders, TradesHistory). ClosedOrders/TradesHistory return 50 rows a page and `count`
is the grand total; `ofs` pages through them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.instrument import Instrument
from krakenbot.kraken.rest_codec import CodecError, dec, epoch_ns
from krakenbot.kraken.rest_values import codec_boundary
from krakenbot.kraken.signing import ParamValue

PAGE_SIZE = 50


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

    def __post_init__(self) -> None:
        if self.deadline_s is not None and not 2.0 <= self.deadline_s <= 60.0:
            raise ValueError("deadline_s must be within Kraken's 2…60 s")
        if self.volume <= 0:
            raise ValueError("volume must be positive")
        if self.order_type is OrderType.LIMIT and (self.price is None or self.price <= 0):
            raise ValueError("a limit order needs a positive price")
        if self.order_type is OrderType.MARKET and self.price is not None:
            raise ValueError("a market order takes no price")
        if self.post_only and self.order_type is not OrderType.LIMIT:
            raise ValueError("post-only applies to limit orders only")
        if not self.cl_ord_id:
            raise ValueError("every order carries a cl_ord_id")


def order_request(cmd: PlaceOrder, instrument: Instrument) -> OrderRequest:
    """The REST request for a venue command, checked against the pair's exchange rules.

    Raises ValueError (with Kraken's own error text) instead of sending an order Kraken
    would refuse: off-tick price, off-lot volume, below ordermin / costmin."""
    problem = instrument.violation(cmd.limit_price, cmd.qty)
    if problem is not None:
        raise ValueError(f"{cmd.cl_ord_id}: {problem}")
    return OrderRequest(
        pair=instrument.altname,
        side=cmd.side,
        order_type=cmd.order_type,
        volume=cmd.qty,
        cl_ord_id=cmd.cl_ord_id,
        price=cmd.limit_price,
        post_only=cmd.post_only,
        time_in_force=cmd.time_in_force,
        deadline_s=cmd.deadline_s,
    )


def rfc3339(ns: int) -> str:
    """RFC3339 UTC with milliseconds, as AddOrder's `deadline` accepts."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 1_000_000_000))
    return f"{whole}.{(ns // 1_000_000) % 1000:03d}Z"


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
    if req.time_in_force is not TimeInForce.GTC:
        # REST spells it upper case (docs: AddOrder `timeinforce`).
        params["timeinforce"] = req.time_in_force.value.upper()
    params["cl_ord_id"] = req.cl_ord_id
    if deadline_ns is not None:
        params["deadline"] = rfc3339(deadline_ns)
    if req.validate:
        params["validate"] = True
    return params


@dataclass(frozen=True, slots=True)
class AddOrderResult:
    txids: tuple[str, ...]  # empty for validate=true
    description: str
    close_description: str | None
    cl_ord_id: str
    # True when the order was found by cl_ord_id after an ambiguous send (not from the ack).
    recovered: bool = False

    @property
    def txid(self) -> str | None:
        return self.txids[0] if self.txids else None


@codec_boundary("AddOrder")
def parse_add_order(result: Any, cl_ord_id: str) -> AddOrderResult:
    if not isinstance(result, dict):
        raise CodecError("AddOrder: expected an object", cl_ord_id=cl_ord_id)
    descr = result.get("descr") or {}
    txid = result.get("txid", [])
    txids = (txid,) if isinstance(txid, str) else tuple(str(t) for t in txid)
    close = descr.get("close")
    return AddOrderResult(txids, str(descr.get("order", "")), close or None, cl_ord_id)


@dataclass(frozen=True, slots=True)
class OrderInfo:
    txid: str
    status: str  # pending | open | closed | canceled | expired
    pair: str  # descr.pair: the altname, e.g. "XLMUSD"
    side: Side
    order_type: str  # Kraken's ordertype text (limit, market, stop-loss, …)
    price: Decimal  # descr.price: limit price (0 for market)
    volume: Decimal
    volume_exec: Decimal
    cost: Decimal
    fee: Decimal
    avg_price: Decimal
    oflags: tuple[str, ...]
    open_ns: int
    close_ns: int | None
    cl_ord_id: str | None = None
    userref: int | None = None
    reason: str | None = None
    misc: str = ""
    time_in_force: str | None = None
    trades: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status in ("pending", "open")

    @property
    def post_only(self) -> bool:
        return "post" in self.oflags


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def parse_order(txid: str, o: Any) -> OrderInfo:
    if not isinstance(o, dict):
        raise CodecError(f"order {txid}: expected an object")
    try:
        d = o["descr"]
        close = o.get("closetm")
        return OrderInfo(
            txid=txid,
            status=str(o["status"]),
            pair=str(d["pair"]),
            side=Side(d["type"]),
            order_type=str(d["ordertype"]),
            price=dec(d.get("price", "0")),
            volume=dec(o["vol"]),
            volume_exec=dec(o["vol_exec"]),
            cost=dec(o.get("cost", "0")),
            fee=dec(o.get("fee", "0")),
            avg_price=dec(o.get("price", "0")),
            oflags=tuple(f for f in str(o.get("oflags", "")).split(",") if f),
            open_ns=epoch_ns(o["opentm"]),
            close_ns=epoch_ns(close) if close not in (None, "", 0) else None,
            cl_ord_id=o.get("cl_ord_id") or None,
            userref=_opt_int(o.get("userref")),
            reason=o.get("reason") or None,
            misc=str(o.get("misc", "")),
            time_in_force=o.get("time_in_force"),
            trades=tuple(str(t) for t in o.get("trades", ()) or ()),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CodecError(f"order {txid}: malformed ({exc})") from exc


@codec_boundary("OpenOrders")
def parse_open_orders(result: Any) -> tuple[OrderInfo, ...]:
    if not isinstance(result, dict) or not isinstance(result.get("open", {}), dict):
        raise CodecError("OpenOrders: expected {open: {…}}")
    return tuple(parse_order(t, o) for t, o in result.get("open", {}).items())


@codec_boundary("QueryOrders")
def parse_query_orders(result: Any) -> tuple[OrderInfo, ...]:
    if not isinstance(result, dict):
        raise CodecError("QueryOrders: expected an object")
    return tuple(parse_order(t, o) for t, o in result.items())


@dataclass(frozen=True, slots=True)
class OrdersPage:
    orders: tuple[OrderInfo, ...]
    count: int  # grand total across pages


@codec_boundary("ClosedOrders")
def parse_closed_orders(result: Any) -> OrdersPage:
    if not isinstance(result, dict) or not isinstance(result.get("closed", {}), dict):
        raise CodecError("ClosedOrders: expected {closed: {…}, count}")
    orders = tuple(parse_order(t, o) for t, o in result.get("closed", {}).items())
    return OrdersPage(orders, int(result.get("count", len(orders))))


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
    count: int


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
            trade_id=_opt_int(t.get("trade_id")),
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
