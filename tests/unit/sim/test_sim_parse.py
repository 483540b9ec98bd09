"""Bad input never crashes the simulator's request parsing: it becomes a Kraken error."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.sim.exchange import Exchange
from krakenbot.sim.model import OrderRequest
from krakenbot.sim.order_params import parse_rest_order, parse_ws_order
from krakenbot.sim.pairs import PairIndex, make_pairs
from krakenbot.sim.parse import check_deadline
from krakenbot.sim.ratelimit import TIERS
from krakenbot.sim.rest import parse_params

INDEX = PairIndex(make_pairs(("XLM/USD", "BTC/USD")))
NOW = 1_700_000_000_000_000_000
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "buy",
            "sell",
            "limit",
            "market",
            "XLMUSD",
            "BTC/USD",
            "0.28",
            "40",
            "+5",
            "GTD",
            "gtd",
            "post",
            "1e5",
            "-1",
            "NaN",
            "stop-loss-limit",
            "trailing-stop",
            "iceberg",
            "+1.5%",
            "#2",
            "index",
            "pct",
            "viqc,fcib",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["reference", "price", "price_type", "order_type", "limit_price"]),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)
rest_keys = st.sampled_from(
    [
        "pair",
        "type",
        "ordertype",
        "volume",
        "price",
        "oflags",
        "timeinforce",
        "expiretm",
        "userref",
        "cl_ord_id",
        "validate",
        "price2",
        "trigger",
        "displayvol",
        "starttm",
        "leverage",
        "reduce_only",
        "close[ordertype]",
        "close[price]",
        "close[price2]",
        "close",
        "stptype",
    ]
)
ws_keys = st.sampled_from(
    [
        "symbol",
        "side",
        "order_type",
        "order_qty",
        "limit_price",
        "time_in_force",
        "expire_time",
        "post_only",
        "order_userref",
        "cl_ord_id",
        "validate",
        "fee_preference",
        "limit_price_type",
        "triggers",
        "effective_time",
        "display_qty",
        "cash_order_qty",
        "conditional",
        "margin",
        "no_mpp",
        "stp_type",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(rest_keys, values, max_size=16))
def test_rest_order_params_never_crash(params: dict[str, object]) -> None:
    out = parse_rest_order(params, INDEX, NOW)
    assert isinstance(out, OrderRequest | str)
    if isinstance(out, OrderRequest):
        assert out.volume >= 0 and out.side in ("buy", "sell")
        _placed_or_refused(out)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(ws_keys, values, max_size=16))
def test_ws_order_params_never_crash(params: dict[str, object]) -> None:
    out = parse_ws_order(params, INDEX, NOW)
    assert isinstance(out, OrderRequest | str)
    if isinstance(out, OrderRequest):
        _placed_or_refused(out, ws=True)


def _placed_or_refused(req: OrderRequest, *, ws: bool = False) -> None:
    """Whatever parsed, the exchange core places it or answers with a Kraken error; then
    the market moving both ways (triggers, trailing, fills) never raises either."""
    funds = {"USD": Decimal("10000"), "XLM": Decimal("10000"), "BTC": Decimal("1")}
    ex = Exchange(make_pairs(("XLM/USD", "BTC/USD")), TIERS["pro"], funds, random.Random(1), NOW)
    req = replace(req, pair=ex.index.resolve(req.pair.symbol) or req.pair)
    order, err = ex.add_order(req, NOW, ws=ws)
    assert (order is None) != (err is None)
    market = ex.markets[req.pair.symbol]
    for factor in ("1.2", "0.7", "1.0"):
        ex.set_mid(req.pair.symbol, market.spec.start_price * Decimal(factor), NOW + 1)
        ex.feed_trade(req.pair.symbol, NOW + 1, side="buy")
        ex.feed_trade(req.pair.symbol, NOW + 1, side="sell")
    ex.on_time(NOW + 10**12)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=200),
    st.sampled_from(["application/json", "application/x-www-form-urlencoded"]),
)
def test_bodies_never_crash(raw: bytes, ctype: str) -> None:
    out = parse_params(raw, ctype)
    assert out is None or isinstance(out, dict)


def test_deadline_rules() -> None:
    assert check_deadline(None, NOW, ws=False) is None
    assert check_deadline("garbage", NOW, ws=False) == "EGeneral:Invalid arguments:deadline"
    assert check_deadline("2020-01-01T00:00:00Z", NOW, ws=False) == "EService:Deadline elapsed"
    assert check_deadline("2100-01-01T00:00:00Z", NOW, ws=True) == (
        "EGeneral:Invalid arguments:deadline"
    )
