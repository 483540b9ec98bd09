"""The order records of Kraken's OpenOrders, ClosedOrders and QueryOrders (pure).

Owns: `OrderInfo` (one order as Kraken reports it, every field typed), `parse_order`, and
the list parsers that keep an order they cannot read as an `UnreadableOrder` instead of
failing the whole reply. Imports: stdlib, domain and kraken only.

Every order Kraken can report is read (docs: rest-api/get-open-orders, get-closed-orders,
query-orders-info; the three share one order object): all ten order types, relative and
percentage prices in `descr.price` / `descr.price2` (a real trailing stop prints
`"+50.0000%"`), `stopprice` / `limitprice` of trigger orders, `trigger` (`last` when
absent), the conditional close description `descr.close`, `starttm` / `expiretm`, margin
fields (`descr.leverage`, `margin`) and any `misc` / `oflags` words. One unreadable order in
a reply must not hide the others or stop the daemon: it is listed in `unreadable` with the
reason, and the caller decides (reconciliation halts trading if it is ours, reports it if not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from krakenbot.domain.enums import OrderType, Side, TriggerReference
from krakenbot.domain.order import Listing, UnreadableOrder
from krakenbot.domain.order_terms import OrderPrice
from krakenbot.kraken.order_fields import parse_flags, parse_leverage, parse_price, parse_trigger
from krakenbot.kraken.rest_codec import CodecError, dec, epoch_ns
from krakenbot.kraken.rest_values import codec_boundary

STATUSES = ("pending", "open", "closed", "canceled", "expired")
_ZERO_PRICE = OrderPrice(Decimal(0))


@dataclass(frozen=True, slots=True)
class OrderInfo:
    txid: str
    status: str  # pending | open | closed | canceled | expired
    pair: str  # descr.pair: the altname, e.g. "XLMUSD"
    side: Side
    order_type: OrderType
    price: OrderPrice  # descr.price: limit price, or the trigger price / offset of triggers
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
    price2: OrderPrice = _ZERO_PRICE  # descr.price2: the limit leg of *-limit triggers
    stop_price: Decimal | None = None  # `stopprice`: the current trigger price
    limit_price: Decimal | None = None  # `limitprice`: the limit once a *-limit triggered
    trigger: TriggerReference | None = None  # None: Kraken printed none (means `last`)
    description: str = ""  # descr.order, e.g. "buy 10.00000000 XRPUSD @ trailing stop +50%"
    close: str | None = None  # descr.close: the conditional close, when one is attached
    leverage: Decimal | None = None  # descr.leverage "5:1" → 5; None for "none"
    margin: bool | None = None
    start_ns: int | None = None
    expire_ns: int | None = None
    refid: str | None = None
    sender_sub_id: str | None = None
    aclass: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status in ("pending", "open")

    @property
    def post_only(self) -> bool:
        return "post" in self.oflags

    @property
    def limit_leg(self) -> Decimal | None:
        """The absolute limit price this order rests (or will rest) at, when known."""
        if self.order_type in (OrderType.LIMIT, OrderType.ICEBERG):
            return self.price.absolute
        if self.order_type.has_limit_leg:
            if self.limit_price:
                return self.limit_price
            if self.price2.is_absolute and self.price2.value:
                return self.price2.value
        return None

    @property
    def trigger_price(self) -> Decimal | None:
        """The price that fires a trigger order, when known (None for other types)."""
        if not self.order_type.is_triggered:
            return None
        if self.stop_price:
            return self.stop_price
        return self.price.absolute or None


def opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _opt_time(value: Any) -> int | None:
    """Kraken prints 0 (or "0") for "not set"."""
    if value is None or value == "" or dec(value) == 0:
        return None
    return epoch_ns(value)


def _opt_dec(value: Any) -> Decimal | None:
    return None if value is None or value == "" else dec(value)


def _opt_text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _opt_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).lower()
    if text not in ("true", "false"):
        raise ValueError(f"not a boolean: {value!r}")
    return text == "true"


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise ValueError(f"unknown status {value!r}")
    return str(value)


def parse_order(txid: str, o: Any) -> OrderInfo:
    if not isinstance(o, dict):
        raise CodecError(f"order {txid}: expected an object")
    try:
        d = o["descr"]
        if not isinstance(d, dict):
            raise TypeError("descr is not an object")
        return OrderInfo(
            txid=txid,
            status=_status(o["status"]),
            pair=str(d["pair"]),
            side=Side(d["type"]),
            order_type=OrderType(d["ordertype"]),
            price=parse_price(d.get("price", "0")),
            volume=dec(o["vol"]),
            volume_exec=dec(o["vol_exec"]),
            cost=dec(o.get("cost", "0")),
            fee=dec(o.get("fee", "0")),
            avg_price=dec(o.get("price", "0")),
            oflags=parse_flags(o.get("oflags")),
            open_ns=epoch_ns(o["opentm"]),
            close_ns=_opt_time(o.get("closetm")),
            cl_ord_id=_opt_text(o.get("cl_ord_id")),
            userref=opt_int(o.get("userref")),
            reason=_opt_text(o.get("reason")),
            misc=str(o.get("misc", "") or ""),
            time_in_force=_opt_text(o.get("time_in_force")),
            trades=tuple(str(t) for t in o.get("trades", ()) or ()),
            price2=parse_price(d.get("price2", "0") or "0"),
            stop_price=_opt_dec(o.get("stopprice")),
            limit_price=_opt_dec(o.get("limitprice")),
            trigger=parse_trigger(o.get("trigger")),
            description=str(d.get("order", "") or ""),
            close=_opt_text(d.get("close")),
            leverage=parse_leverage(d.get("leverage")),
            margin=_opt_bool(o.get("margin")),
            start_ns=_opt_time(o.get("starttm")),
            expire_ns=_opt_time(o.get("expiretm")),
            refid=_opt_text(o.get("refid")),
            sender_sub_id=_opt_text(o.get("sender_sub_id")),
            aclass=_opt_text(d.get("aclass")),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise CodecError(f"order {txid}: malformed ({exc!r})") from exc


OrderList = Listing[OrderInfo]


def _unreadable(txid: str, o: Any, error: str) -> UnreadableOrder:
    fields = o if isinstance(o, dict) else {}
    cl_ord_id, status = fields.get("cl_ord_id"), fields.get("status")
    return UnreadableOrder(
        order_id=str(txid),
        cl_ord_id=cl_ord_id if isinstance(cl_ord_id, str) and cl_ord_id else None,
        status=status if isinstance(status, str) else "",
        error=error,
    )


def parse_orders(entries: Iterable[tuple[str, Any]]) -> OrderList:
    """Each `txid: order` entry → an OrderInfo, or an UnreadableOrder with the reason."""
    readable: list[OrderInfo] = []
    unreadable: list[UnreadableOrder] = []
    for txid, o in entries:
        try:
            readable.append(parse_order(str(txid), o))
        except CodecError as exc:
            unreadable.append(_unreadable(txid, o, str(exc)))
    return OrderList(readable, unreadable)


def with_cl_ord_id(found: OrderList, cl_ord_id: str) -> OrderList:
    """Only the entries carrying `cl_ord_id` (readable or not)."""
    return OrderList(
        (o for o in found if o.cl_ord_id == cl_ord_id),
        (u for u in found.unreadable if u.cl_ord_id == cl_ord_id),
    )


def readable(found: OrderList) -> OrderList:
    """`found` when every entry could be read; else CodecError (outcome unknown: a lookup
    for one of our orders must never read "unreadable" as "absent")."""
    if found.unreadable:
        first = found.unreadable[0]
        raise CodecError(f"order {first.order_id} could not be read: {first.error}")
    return found


@codec_boundary("OpenOrders")
def parse_open_orders(result: Any) -> OrderList:
    if not isinstance(result, dict) or not isinstance(result.get("open", {}), dict):
        raise CodecError("OpenOrders: expected {open: {…}}")
    return parse_orders(result.get("open", {}).items())


@codec_boundary("QueryOrders")
def parse_query_orders(result: Any) -> OrderList:
    if not isinstance(result, dict):
        raise CodecError("QueryOrders: expected an object")
    return parse_orders(result.items())


@dataclass(frozen=True, slots=True)
class OrdersPage:
    orders: OrderList
    count: int  # grand total across pages

    @property
    def size(self) -> int:
        """Entries on this page, readable or not (what `ofs` pages over)."""
        return len(self.orders) + len(self.orders.unreadable)


@codec_boundary("ClosedOrders")
def parse_closed_orders(result: Any) -> OrdersPage:
    if not isinstance(result, dict) or not isinstance(result.get("closed", {}), dict):
        raise CodecError("ClosedOrders: expected {closed: {…}, count}")
    found = parse_orders(result.get("closed", {}).items())
    try:
        count = int(result.get("count", len(found) + len(found.unreadable)))
    except (TypeError, ValueError) as exc:
        raise CodecError(f"ClosedOrders: bad count ({exc!r})") from exc
    return OrdersPage(found, count)
