"""Kraken WebSocket v2 request encoders (pure).

Owns: the JSON text of `subscribe`, `unsubscribe`, `ping` and the trading methods `add_order`,
`amend_order`, `cancel_order`, `cancel_all`, `cancel_all_orders_after`, `batch_add`, with
Kraken v2 field names (docs.kraken.com/api/docs/websocket-v2/add_order etc.; API.md 7.6).
Imports: stdlib, domain and kraken only. Money is written as bare JSON numbers from the
Decimal's exact text (never a float). Tokens go into `params.token`; these strings must never
be logged. The daemon's order path (`encode_order`, `encode_amend`) renders the same checked
requests as REST (kraken/rest_orders.py) in WS spelling, straight into one string: it is the
hot path of every order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import OrderType, TimeInForce
from krakenbot.kraken.rest_orders import AmendRequest, OrderRequest, rfc3339

JsonValue = str | int | bool | Decimal | None | Sequence["JsonValue"] | Mapping[str, "JsonValue"]

# add_order `deadline` must lie in now+500 ms .. now+60 s (docs: websocket-v2/add_order).
MIN_DEADLINE_S = 0.5
MAX_DEADLINE_S = 60.0
BATCH_MIN, BATCH_MAX = 2, 15  # docs: websocket-v2/batch_add


def dump(value: JsonValue) -> str:
    """Compact JSON with Decimals as exact bare numbers (`Decimal("0.10")` -> `0.10`)."""
    if isinstance(value, bool) or value is None:
        return "true" if value is True else "false" if value is False else "null"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("non-finite Decimal cannot be sent")
        return f"{value:f}"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(k)}:{dump(v)}" for k, v in value.items()) + "}"
    return "[" + ",".join(dump(v) for v in value) + "]"


def _request(method: str, params: Mapping[str, JsonValue] | None, req_id: int | None) -> str:
    body: dict[str, JsonValue] = {"method": method}
    if params is not None:
        body["params"] = params
    if req_id is not None:
        body["req_id"] = req_id
    return dump(body)


def encode_subscribe(
    channel: str,
    *,
    symbols: Sequence[str] | None = None,
    token: str | None = None,
    req_id: int | None = None,
    **options: bool | int | str,
) -> str:
    """e.g. `encode_subscribe("book", symbols=["XLM/USD"], depth=10)`;
    executions: `encode_subscribe("executions", token=t, snap_orders=True, snap_trades=True,
    ratecounter=True)`."""
    return _request("subscribe", _sub_params(channel, symbols, token, options), req_id)


def encode_unsubscribe(
    channel: str,
    *,
    symbols: Sequence[str] | None = None,
    token: str | None = None,
    req_id: int | None = None,
    **options: bool | int | str,
) -> str:
    return _request("unsubscribe", _sub_params(channel, symbols, token, options), req_id)


def _sub_params(
    channel: str,
    symbols: Sequence[str] | None,
    token: str | None,
    options: Mapping[str, bool | int | str],
) -> dict[str, JsonValue]:
    params: dict[str, JsonValue] = {"channel": channel}
    if symbols is not None:
        params["symbol"] = list(symbols)
    params.update(options)
    if token is not None:
        params["token"] = token
    return params


def encode_ping(req_id: int | None = None) -> str:
    return _request("ping", None, req_id)


def _order_fields(order: PlaceOrder) -> dict[str, JsonValue]:
    if order.qty <= 0:
        raise ValueError("order_qty must be positive")
    if order.order_type not in (OrderType.LIMIT, OrderType.MARKET):
        raise ValueError(f"cannot place {order.order_type} orders (market and limit only)")
    fields: dict[str, JsonValue] = {
        "order_type": order.order_type.value,
        "side": order.side.value,
        "order_qty": order.qty,
    }
    if order.order_type is OrderType.LIMIT:
        if order.limit_price is None or order.limit_price <= 0:
            raise ValueError("a limit order needs a positive limit_price")
        fields["limit_price"] = order.limit_price
    elif order.limit_price is not None:
        raise ValueError("a market order takes no limit_price")
    if order.time_in_force is not TimeInForce.GTC:
        fields["time_in_force"] = order.time_in_force.value  # lower case on add_order
    if order.post_only:
        fields["post_only"] = True
    fields["cl_ord_id"] = order.cl_ord_id
    return fields


def _deadline(deadline_s: float | None, now_ns: int) -> str | None:
    if deadline_s is None:
        return None
    if not MIN_DEADLINE_S <= deadline_s <= MAX_DEADLINE_S:
        raise ValueError(f"deadline must be {MIN_DEADLINE_S}..{MAX_DEADLINE_S} s ahead")
    return rfc3339(now_ns + round(deadline_s * 1_000_000_000))


def encode_add_order(
    order: PlaceOrder,
    *,
    token: str,
    now_ns: int,
    req_id: int | None = None,
    validate: bool = False,
) -> str:
    params = _order_fields(order)
    params["symbol"] = order.symbol
    deadline = _deadline(order.deadline_s, now_ns)
    if deadline is not None:
        params["deadline"] = deadline
    if validate:
        params["validate"] = True
    params["token"] = token
    return _request("add_order", params, req_id)


def encode_batch_add(
    orders: Sequence[PlaceOrder],
    *,
    token: str,
    now_ns: int,
    req_id: int | None = None,
    deadline_s: float | None = None,
    validate: bool = False,
) -> str:
    """All orders must share one symbol; 2..15 orders (docs: websocket-v2/batch_add)."""
    if not BATCH_MIN <= len(orders) <= BATCH_MAX:
        raise ValueError(f"batch_add takes {BATCH_MIN}..{BATCH_MAX} orders")
    symbols = {o.symbol for o in orders}
    if len(symbols) != 1:
        raise ValueError("batch_add orders must share one symbol")
    params: dict[str, JsonValue] = {
        "symbol": orders[0].symbol,
        "orders": [_order_fields(o) for o in orders],
    }
    deadline = _deadline(deadline_s, now_ns)
    if deadline is not None:
        params["deadline"] = deadline
    if validate:
        params["validate"] = True
    params["token"] = token
    return _request("batch_add", params, req_id)


def encode_cancel_order(
    *,
    token: str,
    order_ids: Sequence[str] = (),
    cl_ord_ids: Sequence[str] = (),
    req_id: int | None = None,
) -> str:
    if not order_ids and not cl_ord_ids:
        raise ValueError("cancel_order needs an order_id or a cl_ord_id")
    params: dict[str, JsonValue] = {}
    if order_ids:
        params["order_id"] = list(order_ids)
    if cl_ord_ids:
        params["cl_ord_id"] = list(cl_ord_ids)
    params["token"] = token
    return _request("cancel_order", params, req_id)


def encode_cancel_all(*, token: str, req_id: int | None = None) -> str:
    return _request("cancel_all", {"token": token}, req_id)


def encode_cancel_all_orders_after(timeout_s: int, *, token: str, req_id: int | None = None) -> str:
    """Dead man's switch: cancel everything unless re-armed within `timeout_s` (0 disarms)."""
    if not 0 <= timeout_s < 86400:
        raise ValueError("timeout must be 0..86399 s")
    return _request("cancel_all_orders_after", {"timeout": timeout_s, "token": token}, req_id)


# ---- the daemon's order path -------------------------------------------------------------


def _text(value: str) -> str:
    """A JSON string; our ids and Kraken's tokens are plain ASCII, so this rarely escapes."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=True)


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError("non-finite Decimal cannot be sent")
    return f"{value:f}"


_STOP_LOSS, _GTC = OrderType.STOP_LOSS, TimeInForce.GTC


def encode_order(
    req: OrderRequest,
    symbol: str,
    *,
    token: str,
    req_id: int,
    deadline_ns: int,
    now_ns: int,
) -> str:
    """`add_order` for a checked order request (docs: websocket-v2/add_order, API.md 7.6):
    `limit_price` for a limit; a stop-loss's trigger under `triggers` (reference `last`, as on
    REST: every pair has a last trade, not every pair an index); `time_in_force` in lower
    case; a GTD order's `expire_time` as RFC3339 (`expire_s` after now: the WS form is an
    absolute time, REST's `expiretm=+n` is relative); the `deadline` always (the request is
    refused after it, which bounds how long an unanswered send stays ambiguous).
    Written as one string in the fields' fixed order, the optional ones empty when absent
    (every order is encoded here, on the way to the socket)."""
    order_type, price, tif = req.order_type, req.price, req.time_in_force
    if order_type is _STOP_LOSS:
        assert price is not None  # OrderRequest checks it
        priced = (
            f',"triggers":{{"reference":"last","price":{_number(price)},"price_type":"static"}}'
        )
    else:
        priced = "" if price is None else f',"limit_price":{_number(price)}'
    flags = "" if tif is _GTC else f',"time_in_force":"{tif.value}"'
    if req.expire_s is not None:
        flags += f',"expire_time":"{rfc3339(now_ns + req.expire_s * 1_000_000_000)}"'
    if req.post_only:
        flags += ',"post_only":true'
    if req.validate:
        flags += ',"validate":true'
    return (
        f'{{"method":"add_order","params":{{"order_type":"{order_type.value}"'
        f',"side":"{req.side.value}","order_qty":{_number(req.volume)}'
        f',"symbol":{_text(symbol)}{priced}{flags}'
        f',"cl_ord_id":{_text(req.cl_ord_id)},"deadline":"{rfc3339(deadline_ns)}"'
        f',"token":{_text(token)}}},"req_id":{req_id}}}'
    )


def encode_amend(req: AmendRequest, *, token: str, req_id: int, deadline_ns: int) -> str:
    """`amend_order` (docs: websocket-v2/amend_order): the order by `order_id` or
    `cl_ord_id`, the new total `order_qty` and/or absolute prices, and a `deadline`."""
    if req.txid is not None:
        parts = [f'{{"method":"amend_order","params":{{"order_id":{_text(req.txid)}']
    else:
        assert req.cl_ord_id is not None  # AmendRequest checks exactly one
        parts = [f'{{"method":"amend_order","params":{{"cl_ord_id":{_text(req.cl_ord_id)}']
    for name, value in (
        ("order_qty", req.order_qty),
        ("limit_price", req.limit_price),
        ("trigger_price", req.trigger_price),
    ):
        if value is not None:
            parts.append(f',"{name}":{_number(value)}')
    parts.append(
        f',"deadline":"{rfc3339(deadline_ns)}","token":{_text(token)}}},"req_id":{req_id}}}'
    )
    return "".join(parts)
