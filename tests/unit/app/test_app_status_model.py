from __future__ import annotations

from decimal import Decimal

from tests.instruments import XLM

from krakenbot.app.exitcodes import RunExit, StatusExit, exit_for_step
from krakenbot.app.status_model import (
    StatusReport,
    amount_decimals,
    amount_text,
    assess,
    from_engine_health,
    price_places,
    rounded,
)
from krakenbot.app.status_text import render_text
from krakenbot.domain.enums import ConnectionState, TradingState
from krakenbot.domain.events import BookTop, PriceLevel
from krakenbot.domain.portfolio import PnlReport
from krakenbot.engine.health import EngineCounts, EngineHealth, RateReading
from krakenbot.resilience.breaker import BreakerState

NS = 1_000_000_000


def _health(**changes: object) -> EngineHealth:
    base: dict[str, object] = {
        "trading_state": TradingState.ACTIVE,
        "breaker_state": BreakerState.CLOSED,
        "last_market_data_ns": 100 * NS,
        "book_verified": True,
        "ws_public": ConnectionState.CONNECTED,
        "ws_private": ConnectionState.CONNECTED,
        "open_orders": 1,
        "pnl": PnlReport(
            positions={"XLM/USD": Decimal("25.5")},
            marks={"XLM/USD": Decimal("0.2811")},
            realized=Decimal("1.25"),
            realized_today=Decimal("0.05"),
            unrealized=Decimal("-0.15"),
            fees=Decimal("0.04"),
        ),
        "counts": EngineCounts(orders=3, fills=2, reconnects=1),
    }
    base.update(changes)
    return EngineHealth(**base)  # type: ignore[arg-type]


def _report(health: EngineHealth, *, now_s: float = 101.0, healthy: bool = True) -> StatusReport:
    return from_engine_health(
        health,
        now_ns=int(now_s * NS),
        pid=42,
        mode="sim",
        started_ns=90 * NS,
        healthy=healthy,
        dms_state="armed",
        dms_trigger_time="2026-01-01T00:01:00Z",
        data_files={"database": "x.db"},
        stopping=False,
    )


def test_healthy_engine_is_healthy_and_round_trips_through_json() -> None:
    report = _report(_health())
    assert assess(report) == (StatusExit.HEALTHY, ())
    doc = report.to_json()
    assert doc["status"] == "healthy"
    assert doc["position"] == {"XLM/USD": "25.5"}
    assert doc["total_pnl"] == "1.25"
    assert (doc["daily_pnl"], doc["unrealized_pnl"]) == ("-0.1", "-0.15")
    assert doc["marks"] == {"XLM/USD": "0.2811"} and doc["fees"] == "0.04"
    assert doc["counts"]["reconnects"] == 1
    assert doc["uptime_s"] == 11.0
    again = StatusReport.from_json(doc)
    assert again == report
    assert "PID 42" in render_text(report)
    assert again.mark_prices() == {"XLM/USD": Decimal("0.2811")}


def test_marks_from_a_snapshot_are_read_with_care() -> None:
    report = StatusReport(
        running=False,
        source="database",
        marks={"XLM/USD": "0.28", "BTC/USD": "nan", "ETH/USD": "x", "ADA/USD": "-1"},
    )
    assert report.mark_prices() == {"XLM/USD": Decimal("0.28")}
    assert StatusReport(running=False, source="database", marks=[1]).mark_prices() == {}  # type: ignore[arg-type]


def test_a_position_without_a_price_has_unknown_unrealized_pnl() -> None:
    pnl = PnlReport(positions={"XLM/USD": Decimal("3")}, unrealized=None)
    report = _report(_health(pnl=pnl))
    assert (report.unrealized_pnl, report.daily_pnl) == (None, None)
    assert "unknown" in render_text(report)


def test_each_degradation_is_reported() -> None:
    cases = [
        _report(_health(trading_state=TradingState.HALTED)),
        _report(_health(breaker_state=BreakerState.OPEN)),
        _report(_health(), now_s=100 + 31),
        _report(_health(last_market_data_ns=0)),
        _report(_health(book_verified=False)),
        _report(_health(ws_public=ConnectionState.RECONNECTING)),
        _report(_health(ws_private=ConnectionState.STALE)),
        _report(_health(), healthy=False),
    ]
    for report in cases:
        verdict, problems = assess(report)
        assert verdict is StatusExit.DEGRADED, report
        assert problems


def test_paper_has_no_private_stream_and_stays_healthy() -> None:
    assert assess(_report(_health(ws_private=None)))[0] is StatusExit.HEALTHY


def test_not_running_is_exit_2() -> None:
    assert assess(StatusReport(running=False, source="database"))[0] is StatusExit.NOT_RUNNING


def test_start_up_steps_have_distinct_exit_statuses() -> None:
    steps = ["settings", "lock", "database", "nonce", "exchange", "reconcile", "websocket"]
    codes = [exit_for_step(s) for s in steps] + [exit_for_step("engine")]
    assert len(set(codes)) == len(codes)
    assert exit_for_step("lock") is RunExit.LOCKED and int(RunExit.LOCKED) == 3
    assert exit_for_step("settings") == 2
    assert exit_for_step("something-new") is RunExit.ENGINE


def test_a_failing_ledger_is_a_named_problem() -> None:
    why = "ledger write failing: insert_fill: OperationalError('database is locked') (2 failed)"
    report = _report(_health(ledger_error=why), healthy=False)
    verdict, problems = assess(report)
    assert verdict is StatusExit.DEGRADED and problems == (why,)
    assert StatusReport.from_json(report.to_json()).ledger_error == why
    assert why in render_text(report)
    assert _report(_health()).ledger_error is None


def test_amounts_are_rounded_to_the_pairs_decimals() -> None:
    places = amount_decimals({"XLM/USD": XLM})
    assert places == {"XLM/USD": 8, "XLM": 8, "USD": 5}
    health = _health(
        pnl=PnlReport(
            positions={"XLM/USD": Decimal("0E-8")},
            marks={"XLM/USD": Decimal("0.281234567")},
            realized=Decimal("-0.000001"),
            realized_today=Decimal("-0.152704033496960000000000000"),
            unrealized=Decimal("0"),
            fees=Decimal("0.0123456"),
        )
    )
    report = from_engine_health(
        health,
        now_ns=101 * NS,
        pid=42,
        mode="sim",
        started_ns=90 * NS,
        healthy=True,
        dms_state="armed",
        dms_trigger_time=None,
        data_files={},
        stopping=False,
        decimals=places,
    )
    assert report.position == {"XLM/USD": "0.00000000"}
    assert report.daily_pnl == "-0.15270" and report.total_pnl == "0.00000"  # never "-0"
    assert report.unrealized_pnl == "0.00000" and report.fees == "0.01235"
    assert report.marks == {"XLM/USD": "0.281234567"}  # exact: a stopped status values at it
    text = render_text(report)
    assert "E-" not in text and "0.152704033" not in text
    # The decimals travel with the snapshot, so a stopped daemon's figures round the same.
    assert rounded(StatusReport.from_json(report.to_json())) == report


def test_amount_text_without_decimals_and_garbage() -> None:
    assert amount_text("0E-8", None) == "0"
    assert amount_text("-0.152704033496960000000000000", None) == "-0.15270403"
    assert amount_text("12.50", None) == "12.5"
    assert amount_text("1E+3", 2) == "1000.00"
    assert amount_text(None, 2) is None
    assert amount_text("n/a", 2) == "n/a" and amount_text("NaN", 2) == "NaN"
    assert amount_text("1" * 40, 8) == "1" * 40  # beyond Decimal's precision: left as is


def test_books_rates_and_each_positions_pnl_are_in_the_report() -> None:
    book = BookTop(
        "XLM/USD",
        (PriceLevel(Decimal("0.28100"), Decimal("120")),),
        (PriceLevel(Decimal("0.28120"), Decimal("80")),),
        True,
        99 * NS,
        100 * NS,
    )
    pnl = PnlReport(
        positions={"XLM/USD": Decimal("25.5")},
        marks={"XLM/USD": Decimal("0.2811")},
        realized_today=Decimal("0.0512345"),
        unrealized=Decimal("-0.1512345"),
        unrealized_by={"XLM/USD": Decimal("-0.1512345")},
        avg_entries={"XLM/USD": Decimal("0.287123456")},
    )
    health = _health(pnl=pnl, books={"XLM/USD": book}, rates=(RateReading("rest", 3.14159, 20.0),))
    report = from_engine_health(
        health,
        now_ns=101 * NS,
        pid=42,
        mode="sim",
        started_ns=90 * NS,
        healthy=True,
        dms_state=None,
        dms_trigger_time=None,
        data_files={},
        stopping=False,
        decimals=amount_decimals({"XLM/USD": XLM}),
        price_decimals=price_places({"XLM/USD": XLM}),
        dashboard_url="http://127.0.0.1:8787/dashboard",
    )
    assert report.books == {
        "XLM/USD": {
            "bid": "0.28100",
            "bid_qty": "120",
            "ask": "0.28120",
            "ask_qty": "80",
            "verified": True,
            "age_s": 1.0,
        }
    }
    assert report.rate_limits == {"rest": {"level": 3.14, "limit": 20.0}}
    assert report.position_pnl == {"XLM/USD": "-0.15123"} == {"XLM/USD": report.unrealized_pnl}
    assert report.avg_entry == {"XLM/USD": "0.287123"}  # the pair's price decimals
    assert report.realized_today == "0.05123"
    assert StatusReport.from_json(report.to_json()) == report


def test_notification_counters_are_in_the_report_and_its_text() -> None:
    counts = {"webhook": {"sent": 3, "failed": 1, "dropped": 0, "retried": 2, "queued": 0}}
    report = from_engine_health(
        _health(),
        now_ns=101 * NS,
        pid=1,
        mode="live",
        started_ns=0,
        healthy=True,
        dms_state=None,
        dms_trigger_time=None,
        data_files={},
        stopping=False,
        notifications=counts,
    )
    assert report.to_json()["notifications"] == counts
    assert StatusReport.from_json(report.to_json()).notifications == counts
    assert "notify webhook sent 3, failed 1, dropped 0, retried 2, queued 0" in render_text(report)
