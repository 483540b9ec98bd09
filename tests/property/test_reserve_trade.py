"""`RateModel.reserve_trade` (the WebSocket order path's one-pass charge) decides and charges
exactly as `trade_wait_s` followed, when it says 0, by `charge_trade` (the two-step form the
REST path and the model's other callers use): same wait, same counter afterwards."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from krakenbot.kraken.ratelimit import TIER_LIMITS, Counter, KeyState, RateModel, Tier

_levels = st.floats(0, 400, allow_nan=False)


@given(
    tier=st.sampled_from(list(Tier)),
    known=st.booleans(),
    level=_levels,
    at_ns=st.integers(0, 10**12),
    now_ns=st.integers(0, 10**12),
    cost=st.sampled_from([0, 1, 1.5, 8, 20]) | _levels,
    cancel=st.booleans(),
    margin=st.floats(0, 5, allow_nan=False),
)
def test_reserve_trade_is_wait_then_charge(
    tier: Tier,
    known: bool,
    level: float,
    at_ns: int,
    now_ns: int,
    cost: float,
    cancel: bool,
    margin: float,
) -> None:
    model = RateModel(TIER_LIMITS[tier], trade_margin=margin)
    one = KeyState(trading={"XLM/USD": Counter(level, at_ns)} if known else {})
    two = copy.deepcopy(one)
    wait = model.reserve_trade(one, "XLM/USD", cost, now_ns, cancel=cancel)
    expected = model.trade_wait_s(two, "XLM/USD", cost, now_ns, cancel=cancel)
    if expected <= 0:
        model.charge_trade(two, "XLM/USD", cost, now_ns)
    assert wait == expected
    assert one == two
