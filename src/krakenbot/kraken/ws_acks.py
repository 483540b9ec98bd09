"""Kraken WebSocket v2 acknowledgements (pure): subscribe/unsubscribe acks and the trading
methods' responses (add_order, amend_order, cancel_order, cancel_all, cancel_all_orders_after,
batch_add, batch_cancel, ...).

Owns: `subscription_ack` and `method_response`, which `ws_codec.decode` calls for frames with
a `method`. Imports: stdlib and kraken only; no I/O. Docs: websocket-v2 subscribe and the
trading pages (API.md 7.2, 7.6): `result` is an object, or a list for batch_add; a failing
subscription may put `symbol` at the top level and omit `result`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from krakenbot.kraken.ws_messages import MethodResponse, OrderRef, SubscriptionAck
from krakenbot.kraken.ws_scalars import opt_int, opt_str, string


def _warnings(result: object) -> tuple[str, ...]:
    if type(result) is dict:
        warnings = result.get("warnings")
        if type(warnings) is list:
            return tuple(str(w) for w in warnings)
    return ()


def subscription_ack(msg: Mapping[str, Any], recv_ns: int) -> SubscriptionAck:
    result = msg.get("result")
    res: Mapping[str, Any] = result if type(result) is dict else {}
    # A failing subscription may put `symbol` at top level and omit `result` (API.md 7.2).
    symbol = res.get("symbol", msg.get("symbol"))
    return SubscriptionAck(
        method=string(msg["method"]),
        success=msg.get("success") is True,
        channel=opt_str(res.get("channel")),
        symbol=opt_str(symbol),
        error=opt_str(msg.get("error")),
        req_id=opt_int(msg.get("req_id")),
        maxratecount=opt_int(res.get("maxratecount")),
        warnings=_warnings(result),
        recv_ns=recv_ns,
    )


def _order_ref(row: Mapping[str, Any]) -> OrderRef:
    return OrderRef(
        order_id=opt_str(row.get("order_id")),
        cl_ord_id=opt_str(row.get("cl_ord_id")),
        order_userref=opt_int(row.get("order_userref")),
    )


def method_response(msg: Mapping[str, Any], recv_ns: int) -> MethodResponse:
    result = msg.get("result")
    orders: tuple[OrderRef, ...] = ()
    count = None
    trigger = current = amend_id = None
    if type(result) is list:  # batch_add: one entry per order, in request order
        orders = tuple(_order_ref(r) for r in result)
    elif type(result) is dict:
        if "order_id" in result or "cl_ord_id" in result or "order_userref" in result:
            orders = (_order_ref(result),)
        count = opt_int(result.get("count"))
        trigger = opt_str(result.get("triggerTime"))
        current = opt_str(result.get("currentTime"))
        amend_id = opt_str(result.get("amend_id"))
    return MethodResponse(
        method=string(msg["method"]),
        success=msg.get("success") is True,
        error=opt_str(msg.get("error")),
        req_id=opt_int(msg.get("req_id")),
        orders=orders,
        count=count,
        trigger_time=trigger,
        current_time=current,
        warnings=_warnings(result),
        recv_ns=recv_ns,
        amend_id=amend_id,
    )
