from hypothesis import given
from hypothesis import strategies as st

from krakenbot.kraken.ratelimit import (
    NS,
    TIER_LIMITS,
    KeyState,
    RateModel,
    Tier,
    amend_cost,
    cancel_cost,
    edit_cost,
    rest_cost,
)


def test_rest_costs_follow_the_docs() -> None:
    assert rest_cost("Balance") == 1
    assert rest_cost("TradesHistory") == 2 and rest_cost("Ledgers") == 2
    assert rest_cost("AddOrder") == 0 and rest_cost("CancelOrder") == 0


def test_age_based_penalties_and_the_docs_worked_example() -> None:
    assert [cancel_cost(a) for a in (0, 5, 10, 15, 45, 90, 300)] == [8, 6, 5, 4, 2, 1, 0]
    assert cancel_cost(None) == 8  # unknown age: the worst case
    assert [amend_cost(a) for a in (0, 5, 10, 15)] == [4, 3, 2, 1]
    assert [edit_cost(a) for a in (0, 5, 10, 15, 45, 90)] == [7, 6, 5, 3, 2, 1]
    # docs: add (+1) → amend 7 s later (+1 +2) → cancel 36 s after the amend (+4) = 8
    assert 1 + amend_cost(7) + cancel_cost(36) == 8


def test_rest_counter_waits_then_decays() -> None:
    model = RateModel(TIER_LIMITS[Tier.STARTER])
    state = KeyState()
    t = 10 * NS
    sent = 0
    while model.rest_wait_s(state, "Balance", t, query=False) == 0:
        model.charge_rest(state, "Balance", t)
        sent += 1
    assert sent == 14  # 15 max minus our safety margin of 1
    wait = model.rest_wait_s(state, "Balance", t, query=False)
    assert abs(wait - 1 / 0.33) < 1e-9
    assert model.rest_wait_s(state, "Balance", t + int(wait * NS) + 1, query=False) == 0
    # Queries keep a reserve for order lookups.
    assert model.rest_wait_s(KeyState(), "Balance", t, query=True) == 0


def test_kraken_saying_rate_limited_fills_the_model() -> None:
    model = RateModel(TIER_LIMITS[Tier.PRO])
    state = KeyState()
    model.on_rest_limited(state, 0)
    assert model.rest_wait_s(state, "Balance", 0, query=False) > 0
    model.on_trade_limited(state, "XLM/USD", 0)
    assert model.trade_wait_s(state, "XLM/USD", 1, 0) > 0


def test_observed_counter_raises_but_never_lowers_the_model() -> None:
    model = RateModel(TIER_LIMITS[Tier.INTERMEDIATE])
    state = KeyState()
    model.charge_trade(state, "XLM/USD", 10, 0)
    model.observe_trading_counter(state, "XLM/USD", 3, 0)
    assert state.pair("XLM/USD").level == 10
    model.observe_trading_counter(state, "XLM/USD", 50, 0)
    assert state.pair("XLM/USD").level == 50


def test_clock_stepping_back_gives_no_decay() -> None:
    model = RateModel(TIER_LIMITS[Tier.STARTER])
    state = KeyState()
    model.charge_trade(state, "P", 30, 100 * NS)
    assert model.trade_wait_s(state, "P", 1, 50 * NS) == 0
    assert state.pair("P").level == 30


@given(st.lists(st.tuples(st.integers(0, 5 * NS), st.integers(0, 3)), max_size=300))
def test_following_the_waits_never_exceeds_the_threshold(steps: list[tuple[int, int]]) -> None:
    limits = TIER_LIMITS[Tier.STARTER]
    model = RateModel(limits)
    state = KeyState()
    t = 0
    for gap, cost in steps:
        t += gap
        cancel = cost == 3
        wait = model.trade_wait_s(state, "P", cost, t, cancel=cancel)
        t += int(wait * NS) + 1
        assert model.trade_wait_s(state, "P", cost, t, cancel=cancel) == 0
        model.charge_trade(state, "P", cost, t)
        assert state.pair("P").level <= limits.trade_threshold


def test_state_round_trips_through_json() -> None:
    state = KeyState(nonce_high_water=123)
    state.rest.level = 4.5
    state.pair("XLM/USD").level = 7
    again = KeyState.from_json(state.to_json())
    assert again.to_json() == state.to_json()


def test_new_orders_leave_room_for_a_worst_case_cancel() -> None:
    limits = TIER_LIMITS[Tier.STARTER]
    model = RateModel(limits)
    state = KeyState()
    while model.trade_wait_s(state, "P", 1, 0) == 0:
        model.charge_trade(state, "P", 1, 0)
    assert state.pair("P").level == limits.trade_threshold - 2 - 8
    assert model.trade_wait_s(state, "P", cancel_cost(0), 0, cancel=True) == 0
