"""The WS add_order encoder as it was before it was made faster (commit 8dba752), kept as the
reference tests/property/test_ws_order_encode.py holds the fast one to, byte for byte: a list
of parts joined, every string through `_text`. Helpers that did not change are imported."""

from __future__ import annotations

from krakenbot.domain.enums import OrderType, TimeInForce
from krakenbot.kraken.rest_orders import OrderRequest, rfc3339
from krakenbot.kraken.ws_requests import _number, _text


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
    refused after it, which bounds how long an unanswered send stays ambiguous)."""
    parts = [
        f'{{"method":"add_order","params":{{"order_type":"{req.order_type.value}"',
        f',"side":"{req.side.value}","order_qty":{_number(req.volume)}',
        f',"symbol":{_text(symbol)}',
    ]
    if req.order_type is OrderType.STOP_LOSS:
        assert req.price is not None  # OrderRequest checks it
        parts.append(
            f',"triggers":{{"reference":"last","price":{_number(req.price)},"price_type":"static"}}'
        )
    elif req.price is not None:
        parts.append(f',"limit_price":{_number(req.price)}')
    if req.time_in_force is not TimeInForce.GTC:
        parts.append(f',"time_in_force":"{req.time_in_force.value}"')
    if req.expire_s is not None:
        parts.append(f',"expire_time":"{rfc3339(now_ns + req.expire_s * 1_000_000_000)}"')
    if req.post_only:
        parts.append(',"post_only":true')
    if req.validate:
        parts.append(',"validate":true')
    parts.append(
        f',"cl_ord_id":{_text(req.cl_ord_id)},"deadline":"{rfc3339(deadline_ns)}"'
        f',"token":{_text(token)}}},"req_id":{req_id}}}'
    )
    return "".join(parts)
