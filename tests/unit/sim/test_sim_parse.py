"""Bad input never crashes the simulator's request parsing: it becomes a Kraken error."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.sim.model import OrderRequest
from krakenbot.sim.pairs import PairIndex, make_pairs
from krakenbot.sim.parse import check_deadline, parse_rest_order, parse_ws_order
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
        ]
    ),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
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
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(rest_keys, values, max_size=11))
def test_rest_order_params_never_crash(params: dict[str, object]) -> None:
    out = parse_rest_order(params, INDEX, NOW)
    assert isinstance(out, OrderRequest | str)
    if isinstance(out, OrderRequest):
        assert out.volume >= 0 and out.side in ("buy", "sell")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(ws_keys, values, max_size=12))
def test_ws_order_params_never_crash(params: dict[str, object]) -> None:
    out = parse_ws_order(params, INDEX, NOW)
    assert isinstance(out, OrderRequest | str)


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
