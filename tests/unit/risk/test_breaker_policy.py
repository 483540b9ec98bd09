from __future__ import annotations

from decimal import Decimal as D

from riskkit import NOW, S, book

from krakenbot.domain.enums import Channel, ConnectionState
from krakenbot.domain.events import ConnectionChanged, OrderRejected, TimerTick
from krakenbot.risk.breaker import BreakerPolicy, Cause, Trip
from krakenbot.risk.limits import BreakerLimits

LIMITS = BreakerLimits(
    window_s=60.0,
    max_ws_disconnects=3,
    max_order_failures=2,
    max_balance_mismatches=1,
    price_jump_pct=D("5"),
    price_window_s=10.0,
)


def test_counts_within_window_then_trips() -> None:
    p = BreakerPolicy(LIMITS)
    assert p.record(Cause.WS_DISCONNECT, NOW) is None
    assert p.record(Cause.WS_DISCONNECT, NOW + 10 * S) is None
    trip = p.record(Cause.WS_DISCONNECT, NOW + 20 * S, "x")
    assert trip == Trip(Cause.WS_DISCONNECT, 3, "x", NOW + 20 * S)


def test_old_occurrences_expire() -> None:
    p = BreakerPolicy(LIMITS)
    p.record(Cause.ORDER_FAILURE, NOW)
    assert p.record(Cause.ORDER_FAILURE, NOW + 60 * S) is None  # the first fell out
    assert p.record(Cause.ORDER_FAILURE, NOW + 61 * S) is not None


def test_a_refusal_by_our_own_breaker_is_not_an_exchange_failure() -> None:
    p = BreakerPolicy(LIMITS)  # two order failures trip
    for i in range(5):
        refused = OrderRejected(f"kb{i}", "not sent: circuit breaker is open", "place", NOW, True)
        assert p.on_event(refused) is None
    assert p.on_event(OrderRejected("kbx", "EOrder:Insufficient funds", "place", NOW)) is None
    assert p.on_event(OrderRejected("kby", "EGeneral:Internal error", "place", NOW)) is not None


def test_a_post_only_order_the_market_reached_first_is_not_a_failure() -> None:
    p = BreakerPolicy(LIMITS)  # two order failures trip
    for i in range(5):
        crossed = OrderRejected(f"kb{i}", "EOrder:Post only order", "place", NOW + i * S)
        assert p.on_event(crossed) is None
    assert p.on_event(OrderRejected("kbx", "EService:Unavailable", "place", NOW)) is None
    assert p.on_event(OrderRejected("kby", "EService:Unavailable", "place", NOW)) is not None


def test_one_balance_mismatch_trips() -> None:
    trip = BreakerPolicy(LIMITS).record(Cause.BALANCE_MISMATCH, NOW, "USD off by 3")
    assert trip is not None and trip.cause is Cause.BALANCE_MISMATCH


def test_price_jump_up_and_down() -> None:
    p = BreakerPolicy(LIMITS)
    assert p.observe_price("XLM/USD", D("1.00"), NOW) is None
    assert p.observe_price("XLM/USD", D("1.04"), NOW + S) is None
    assert p.observe_price("XLM/USD", D("0.99"), NOW + 2 * S) is None
    up = p.observe_price("XLM/USD", D("1.05"), NOW + 3 * S)  # +6.06% from 0.99
    assert up is not None and up.cause is Cause.PRICE_JUMP and "0.99" in up.detail
    q = BreakerPolicy(LIMITS)
    q.observe_price("XLM/USD", D("1.00"), NOW)
    down = q.observe_price("XLM/USD", D("0.94"), NOW + S)
    assert down is not None and "1.00" in down.detail


def test_price_jump_outside_window_is_not_a_jump() -> None:
    p = BreakerPolicy(LIMITS)
    p.observe_price("XLM/USD", D("1.00"), NOW)
    assert p.observe_price("XLM/USD", D("1.20"), NOW + 10 * S) is None
    assert p.observe_price("BTC/USD", D("1.20"), NOW + 10 * S) is None
    assert p.observe_price("XLM/USD", D("0"), NOW + 11 * S) is None


def test_on_event_maps_the_seed_inputs() -> None:
    p = BreakerPolicy(LIMITS)
    down = ConnectionChanged(Channel.PUBLIC, ConnectionState.RECONNECTING, "reset", NOW)
    up = ConnectionChanged(Channel.PUBLIC, ConnectionState.CONNECTED, "", NOW)
    closed = ConnectionChanged(Channel.PRIVATE, ConnectionState.CLOSED, "1006", NOW)
    assert p.on_event(down) is None
    assert p.on_event(up) is None
    assert p.on_event(down) is None
    trip = p.on_event(closed)
    assert trip is not None and trip.cause is Cause.WS_DISCONNECT and trip.count == 3
    rejected = OrderRejected("kb1", "EService:Unavailable", recv_ns=NOW)
    assert p.on_event(rejected) is None
    assert p.on_event(rejected) is not None
    assert p.on_event(TimerTick(NOW)) is None
    assert p.on_event(book(bid="1.00", ask="1.00")) is None
    assert p.on_event(book(bid="0.80", ask="0.80", verified=False)) is None
    jump = p.on_event(book(bid="0.90", ask="0.90", recv_ns=NOW + S))
    assert jump is not None and jump.cause is Cause.PRICE_JUMP
    assert p.on_event(book(asks=())) is None
