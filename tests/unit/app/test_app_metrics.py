"""The daemon's Prometheus metrics: the cheap histogram, the figures read from the engine's
health at scrape time, tick-to-order from the frame's receipt to the wire, bounded state,
and labels only from fixed sets (never an order id)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tests.metrics_check import assert_labels_allowed, parse, value

from krakenbot.app.metrics import LABEL_VALUES, DaemonMetrics, StackSource, Timings
from krakenbot.app.notifier import NotifierCounts
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.effects import SendOrder
from krakenbot.domain.enums import ConnectionState, OrderType, Side, TradingState
from krakenbot.domain.events import BookTop
from krakenbot.domain.portfolio import PnlReport
from krakenbot.engine.health import EngineCounts, EngineHealth
from krakenbot.net.ws_config import SessionStats
from krakenbot.resilience.breaker import BreakerState

NS = 1_000_000_000
NOW = 1_700_000_000 * NS
PAIRS = ("XLM/USD", "BTC/USD")


def _health(**changes: object) -> EngineHealth:
    health = EngineHealth(
        trading_state=TradingState.REDUCING,
        breaker_state=BreakerState.OPEN,
        last_market_data_ns=NOW - 2 * NS,
        book_verified=True,
        ws_public=ConnectionState.CONNECTED,
        ws_private=ConnectionState.RECONNECTING,
        open_orders=2,
        pnl=PnlReport(
            positions={"XLM/USD": Decimal("25.5")},
            marks={"XLM/USD": Decimal("0.28")},
            realized=Decimal("1.25"),
            realized_today=Decimal("0.05"),
            unrealized=Decimal("-0.15"),
        ),
        counts=EngineCounts(orders=7, fills=3, denials=4, reconnects=3, reconciles=2),
        exposure=Decimal("7.14"),
        denials_by_rule={"exposure": 3, "market_data": 1},
        reconnects_by_channel={"public": 2, "private": 1},
        ledger_failures=5,
    )
    return replace(health, **changes)  # type: ignore[arg-type]


def _metrics(health: EngineHealth | None = None) -> DaemonMetrics:
    stats = {
        "public": SessionStats(frames=900, book_failures=2),
        "private": SessionStats(frames=40),
    }
    source = StackSource(
        health=lambda: health or _health(),
        pairs=PAIRS,
        max_exposure_usd=Decimal("10"),
        rest=None,
        sessions=stats,
        now_ns=lambda: NOW,
    )
    return DaemonMetrics(source)


def _send(cl_ord_id: str, tick_ns: int) -> SendOrder:
    command = PlaceOrder(
        cl_ord_id, "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("30"), Decimal("0.28")
    )
    return SendOrder(command, tick_ns)


def test_timings_are_cumulative_buckets_in_seconds() -> None:
    timings = Timings((0.001, 0.01))
    for ns in (500_000, 1_000_000, 5_000_000, 2 * NS, -30):  # a clock step back counts as 0
        timings.observe_ns(ns)
    assert timings.buckets() == [("0.001", 3.0), ("0.01", 4.0), ("+Inf", 5.0)]
    assert timings.count == 5 and timings.sum_ns == 2_006_500_000


def test_figures_come_from_the_engines_health_at_scrape_time() -> None:
    samples = parse(_metrics().render().decode())
    assert value(samples, "krakenbot_trading_state") == 1  # REDUCING
    assert value(samples, "krakenbot_breaker_state") == 2  # open
    assert value(samples, "krakenbot_orders_submitted_total") == 7
    assert value(samples, "krakenbot_fills_total") == 3
    assert value(samples, "krakenbot_risk_denials_total", rule="exposure") == 3
    assert value(samples, "krakenbot_risk_denials_total", rule="balance") == 0
    assert value(samples, "krakenbot_position", pair="XLM/USD") == 25.5
    assert value(samples, "krakenbot_position", pair="BTC/USD") == 0
    assert value(samples, "krakenbot_exposure_usd") == 7.14
    assert value(samples, "krakenbot_max_exposure_usd") == 10
    assert value(samples, "krakenbot_realized_pnl_usd") == 1.25
    assert value(samples, "krakenbot_unrealized_pnl_usd") == -0.15
    assert value(samples, "krakenbot_daily_pnl_usd") == -0.10
    assert value(samples, "krakenbot_market_data_age_seconds") == 2.0
    assert value(samples, "krakenbot_ws_connected", channel="private") == 0
    assert value(samples, "krakenbot_ws_reconnects_total", channel="public") == 2
    assert value(samples, "krakenbot_book_checksum_failures_total") == 2
    assert value(samples, "krakenbot_ledger_write_failures_total") == 5
    assert_labels_allowed(samples, PAIRS)


def test_an_unknown_price_is_nan_not_zero() -> None:
    health = _health(
        exposure=None, pnl=PnlReport(positions={"XLM/USD": Decimal(1)}, unrealized=None)
    )
    samples = parse(_metrics(health).render().decode())
    for name in (
        "krakenbot_exposure_usd",
        "krakenbot_unrealized_pnl_usd",
        "krakenbot_daily_pnl_usd",
    ):
        assert value(samples, name) != value(samples, name)  # NaN


def test_tick_to_order_runs_from_the_frames_receipt_to_the_wire_and_never_names_the_order() -> None:
    metrics = _metrics()
    metrics.order_handed(_send("kb1700000000000123", NOW - 3_000_000))
    metrics.on_wire("kb1700000000000123", NOW - 1_000_000)  # 2 ms after the frame
    metrics.on_wire("kb1700000000000999", NOW)  # not one that answers market data: no sample
    metrics.acked("rest", 0.040)
    book = BookTop("XLM/USD", (), (), True, NOW - NS, recv_ns=NOW - 5_000)
    metrics.event_taken("public", book, NOW)
    metrics.event_taken("private", book, NOW)
    text = metrics.render().decode()
    samples = parse(text)
    assert value(samples, "krakenbot_tick_to_order_seconds_count") == 1
    assert value(samples, "krakenbot_tick_to_order_seconds_sum") == 0.002
    assert value(samples, "krakenbot_tick_to_order_seconds_bucket", le="0.0025") == 1
    assert value(samples, "krakenbot_order_ack_seconds_count", transport="rest") == 1
    assert value(samples, "krakenbot_order_ack_seconds_count", transport="websocket") == 0
    assert value(samples, "krakenbot_ws_message_lag_seconds_sum", channel="public") == 5e-6
    assert "kb1700000000000123" not in text and "kb1700000000000999" not in text
    assert_labels_allowed(samples, PAIRS)


def test_orders_that_never_reach_a_wire_are_not_remembered_without_bound() -> None:
    metrics = _metrics()
    for i in range(5000):  # paper mode: handed to the venue, never on a wire
        metrics.order_handed(_send(f"kb{i:018d}", NOW))
    assert len(metrics._ticks) <= 1024


def test_notifier_counters_are_labelled_by_target_kind_and_outcome() -> None:
    metrics = _metrics()
    metrics.notifications = lambda: {"webhook": NotifierCounts(sent=3, failed=1, dropped=2)}
    samples = parse(metrics.render().decode())
    assert value(samples, "krakenbot_notifications_total", target="webhook", result="sent") == 3
    assert value(samples, "krakenbot_notifications_total", target="webhook", result="dropped") == 2
    assert value(samples, "krakenbot_notifications_queued", target="webhook") == 0
    assert_labels_allowed(samples, PAIRS)


def test_two_daemons_in_one_process_keep_their_own_registries() -> None:
    one, two = _metrics(), _metrics(_health(counts=EngineCounts(orders=1)))
    assert value(parse(one.render().decode()), "krakenbot_orders_submitted_total") == 7
    assert value(parse(two.render().decode()), "krakenbot_orders_submitted_total") == 1


def test_the_label_allow_list_itself_holds_no_open_ended_names() -> None:
    assert set(LABEL_VALUES) == {"transport", "channel", "rule", "target", "result"}
    assert all(values and len(values) < 50 for values in LABEL_VALUES.values())
