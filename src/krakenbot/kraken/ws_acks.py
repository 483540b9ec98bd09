"""Kraken WebSocket v2 acknowledgements (pure): subscribe/unsubscribe acks and the trading
methods' responses (add_order, amend_order, cancel_order, cancel_all, cancel_all_orders_after,
batch_add, batch_cancel, ...).

Owns: `subscription_ack` and `method_response`, which `ws_codec.decode` calls for frames with
a `method`, and `fast_method_response`, the reader's shortcut for a trading method's answer
(the ack an order's caller waits for). Imports: stdlib, orjson and kraken only; no I/O.
Docs: websocket-v2 subscribe and the trading pages (API.md 7.2, 7.6): `result` is an object,
or a list for batch_add; a failing subscription may put `symbol` at the top level and omit
`result`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from krakenbot.domain.construct import slot_constructor
from krakenbot.kraken.ws_messages import MethodResponse, OrderRef, SubscriptionAck
from krakenbot.kraken.ws_scalars import DECODE_ERRORS, opt_int, opt_str, string

# Frames a trading method's answer starts with (Kraken writes `method` first, or `error`
# first on a refusal: ws_add_order_ack_*__real_roq.json); anything else is decoded in full.
ACK_PREFIXES = ('{"method":"', '{"error":"')
_NOT_TRADING = frozenset({"subscribe", "unsubscribe", "pong"})


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
    # Positional (order_id, cl_ord_id, order_userref): every order's ack is built here.
    return OrderRef(
        opt_str(row.get("order_id")),
        opt_str(row.get("cl_ord_id")),
        opt_int(row.get("order_userref")),
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
    # Positional, in MethodResponse's field order (method, success, error, req_id, orders,
    # count, trigger_time, current_time, warnings, recv_ns, amend_id): every ack is built here.
    return MethodResponse(
        string(msg["method"]),
        msg.get("success") is True,
        opt_str(msg.get("error")),
        opt_int(msg.get("req_id")),
        orders,
        count,
        trigger,
        current,
        _warnings(result),
        recv_ns,
        amend_id,
    )


_new_response = slot_constructor(MethodResponse)
_new_ref = slot_constructor(OrderRef)


# The usual answer to an order, in the canonical form Kraken's and the simulator's acks take
# (docs: websocket-v2/add_order, cancel_order; ws_add_order_ack_success__real_roq.json): ids
# that need no escaping, `req_id` first or last, the two timestamps. One C-level match reads
# it; anything else (an error, warnings, another key, another order) is left to orjson below.
_ID = r"[A-Za-z0-9_-]{1,64}+"
_REQ_ID = r'(?:,"req_id":(0|[1-9][0-9]{0,17}+))?+'
_ACK_RE = re.compile(
    r'\{"method":"(add_order|cancel_order)"'
    + _REQ_ID
    + r',"result":\{(?:"order_id":"('
    + _ID
    + r')"(?:,"cl_ord_id":"('
    + _ID
    + r')")?+|"cl_ord_id":"('
    + _ID
    + r')","order_id":"('
    + _ID
    + r')")\},"success":(true|false),"time_in":"[0-9T:.Z-]{1,40}+"'
    r',"time_out":"[0-9T:.Z-]{1,40}+"' + _REQ_ID + r"\}"
)
_ack_match = _ACK_RE.fullmatch


def canonical_ack(text: str, recv_ns: int) -> MethodResponse | None:
    """`fast_method_response`'s first try: the canonical one-order ack read by one regular
    expression (a caller is waiting on it, and every line of Python on this path costs
    several times its warm price here: the order path runs with cold caches); None for
    anything else. Built exactly as `method_response` builds it."""
    m = _ack_match(text)
    if m is None:
        return None
    method, first_req, order_id, cl_ord_id, cl_first, order_second, success, last_req = m.groups()
    if first_req is not None and last_req is not None:
        return None  # a repeated key: the full decoders say which one counts
    if order_id is None:
        order_id, cl_ord_id = order_second, cl_first
    req = first_req if last_req is None else last_req
    return _new_response(
        method,
        success == "true",
        None,
        None if req is None else int(req),
        (_new_ref(order_id, cl_ord_id, None),),
        None,
        None,
        None,
        (),
        recv_ns,
        None,
    )


def fast_method_response(text: str, recv_ns: int) -> MethodResponse | None:
    """A trading method's answer, decoded as `ws_codec.decode` would decode it, or None when
    the frame is anything else or anything unusual (then decode it in full; that path owns
    every failure report). Acks carry no money: their numbers are ids and counts, read only
    as JSON integers, so orjson's floats (it turns integers past 64 bits into floats too)
    never become a value: such a frame is declined here and takes the exact path. A
    `warnings` list is left to the exact path as well (its entries are printed with str()).
    A float at the top level or in `result` is declined too: it may be a number the exact
    path's bounds refuse (kraken.numbers). The usual answer (one object `result`, or none) is
    built here field by field, with the same checks `method_response` makes (an ack is on
    every order's critical path: its caller waits); a batch's list goes through
    `method_response` itself."""
    canonical = canonical_ack(text, recv_ns)
    if canonical is not None:
        return canonical
    try:
        msg = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if type(msg) is not dict or "channel" in msg:
        return None
    get = msg.get
    method = get("method")
    if type(method) is not str or method in _NOT_TRADING or float in map(type, msg.values()):
        return None  # (a float: maybe a number the exact path refuses; let it say so)
    result = get("result")
    if type(result) is not dict:
        if result is not None:
            try:
                return method_response(msg, recv_ns)
            except DECODE_ERRORS:
                return None
        result = _EMPTY
    elif "warnings" in result or float in map(type, result.values()):
        return None
    error, req_id, success = get("error"), get("req_id"), get("success")
    if not (error is None or type(error) is str) or not (req_id is None or type(req_id) is int):
        return None
    rget = result.get
    orders: tuple[OrderRef, ...] = ()
    if "order_id" in result or "cl_ord_id" in result or "order_userref" in result:
        order_id, cl_ord_id, userref = rget("order_id"), rget("cl_ord_id"), rget("order_userref")
        if (
            not (order_id is None or type(order_id) is str)
            or not (cl_ord_id is None or type(cl_ord_id) is str)
            or not (userref is None or type(userref) is int)
        ):
            return None
        orders = (_new_ref(order_id, cl_ord_id, userref),)
    count, trigger, current, amend_id = (
        rget("count"),
        rget("triggerTime"),
        rget("currentTime"),
        rget("amend_id"),
    )
    if (
        not (count is None or type(count) is int)
        or not (trigger is None or type(trigger) is str)
        or not (current is None or type(current) is str)
        or not (amend_id is None or type(amend_id) is str)
    ):
        return None
    # In MethodResponse's field order, as method_response builds it.
    return _new_response(
        method,
        success is True,
        error,
        req_id,
        orders,
        count,
        trigger,
        current,
        (),
        recv_ns,
        amend_id,
    )


_EMPTY: dict[str, Any] = {}
