"""The REST order path renders AddOrder's body directly (`add_order_form`); it must be byte for
byte the generic encoding of `add_order_params` -- and so what `urlencode` gives -- for every
order krakenbot can place."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

from hypothesis import given
from hypothesis import strategies as st

from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.kraken.rest_orders import OrderRequest, add_order_form, add_order_params
from krakenbot.kraken.signing import encode_form, form_body, param_text

_amounts = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal(10**9), places=8, allow_nan=False
)
_text = st.text(min_size=1, max_size=40)


@st.composite
def _orders(draw: st.DrawFn) -> OrderRequest:
    order_type = draw(st.sampled_from([OrderType.LIMIT, OrderType.MARKET, OrderType.STOP_LOSS]))
    tif = draw(st.sampled_from(list(TimeInForce)))
    return OrderRequest(
        pair=draw(st.sampled_from(["XLMUSD", "XXLMZUSD", "XBT/USD"]) | _text),
        side=draw(st.sampled_from(list(Side))),
        order_type=order_type,
        volume=draw(_amounts),
        cl_ord_id=draw(st.uuids().map(str) | _text),
        price=None if order_type is OrderType.MARKET else draw(_amounts),
        post_only=order_type is OrderType.LIMIT and draw(st.booleans()),
        time_in_force=tif,
        validate=draw(st.booleans()),
        expire_s=draw(st.integers(5, 10**6)) if tif is TimeInForce.GTD else None,
    )


@given(_orders(), st.integers(0, 4 * 10**18), st.integers(1, 2**63))
def test_the_direct_form_is_the_generic_encoding(
    req: OrderRequest, deadline_ns: int, nonce: int
) -> None:
    params = add_order_params(req, deadline_ns)
    body = form_body(nonce, add_order_form(req, deadline_ns))
    assert body == encode_form(nonce, params)
    as_text = {k: param_text(v) for k, v in params.items()}
    assert body == urlencode({"nonce": nonce, **as_text})
