"""The WS add_order encoder (`encode_order`, written as one string) gives byte for byte what
the previous one gave (ws_order_before.py: a list of parts joined), for every order type,
side, time in force, price, expiry, flag, id and token, escaping included."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from tests.property import ws_order_before as before

from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.kraken.rest_orders import OrderRequest
from krakenbot.kraken.ws_requests import encode_order

NOW = 1_700_000_000_123_456_789
_dec = st.decimals(min_value=Decimal("0.00000001"), max_value=Decimal(10**9), places=8)
_text = st.text(st.characters(codec="utf-8"), min_size=1, max_size=20)


@st.composite
def _orders(draw: st.DrawFn) -> OrderRequest:
    order_type = draw(st.sampled_from([OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LOSS]))
    tif = draw(st.sampled_from(list(TimeInForce)))
    priced = order_type is not OrderType.MARKET
    return OrderRequest(
        pair="XLMUSD",
        side=draw(st.sampled_from(list(Side))),
        order_type=order_type,
        volume=draw(_dec),
        cl_ord_id=draw(_text),
        price=draw(_dec) if priced else None,
        time_in_force=tif,
        expire_s=draw(st.integers(5, 86_400)) if tif is TimeInForce.GTD else None,
        post_only=draw(st.booleans()) if order_type is OrderType.LIMIT else False,
        validate=draw(st.booleans()),
    )


@given(
    req=_orders(),
    symbol=_text,
    token=_text,
    req_id=st.integers(0, 2**63),
    deadline_ns=st.integers(NOW, NOW + 60 * 10**9),
)
def test_encode_order_is_byte_for_byte_the_previous_encoder(
    req: OrderRequest, symbol: str, token: str, req_id: int, deadline_ns: int
) -> None:
    kw = {"token": token, "req_id": req_id, "deadline_ns": deadline_ns, "now_ns": NOW}
    assert encode_order(req, symbol, **kw) == before.encode_order(req, symbol, **kw)  # type: ignore[arg-type]
