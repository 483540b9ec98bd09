"""What the dashboard shows is what `status --json`, the history listings and the portfolio
say: the snapshot only picks, and the PnL curve is the portfolio's realized PnL fill by fill."""

from __future__ import annotations

import json
from decimal import Decimal as D

from krakenbot.app.dashboard_snapshot import (
    EquityCurve,
    LedgerView,
    build_snapshot,
    equity_doc,
    equity_now,
)
from krakenbot.app.history import fill_listing, order_listing, records
from krakenbot.app.status_model import StatusReport
from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import LedgerEvent, OrderRecord
from krakenbot.domain.portfolio import Portfolio

NS = 1_000_000_000
T0 = 1_763_776_800 * NS


def _fill(trade_id: str, side: Side, qty: str, price: str, at_s: int, fee: str = "0.01") -> Fill:
    q, p = D(qty), D(price)
    return Fill(
        trade_id=trade_id,
        order_id="OTX",
        cl_ord_id="kb1",
        symbol="XLM/USD",
        side=side,
        price=p,
        qty=q,
        cost=q * p,
        fee=D(fee),
        fee_asset="USD",
        liquidity=Liquidity.MAKER,
        exchange_ns=T0 + at_s * NS,
    )


FILLS = [
    _fill("T1", Side.BUY, "30", "0.29", 0),
    _fill("T2", Side.SELL, "10", "0.30", 10),
    _fill("T3", Side.SELL, "20", "0.28", 5),  # found late by reconciliation: earlier time
]


def test_the_curve_is_the_portfolios_realized_pnl_after_each_fill() -> None:
    curve = EquityCurve()
    assert curve.add(FILLS[:2]) and not curve.add([FILLS[0]])  # a trade id once
    assert curve.add(FILLS[2:])
    reference = Portfolio()
    expected = []
    for f in FILLS:
        reference.record(f)
        expected.append(reference.realized_total)
    assert [v for _, v in curve.points] == expected
    assert expected[-1] == Portfolio(FILLS).realized_total  # the one truth
    times = [t for t, _ in curve.points]
    assert times == sorted(times) and times[-1] == T0 + 10 * NS  # drawn after the others
    assert equity_doc(curve)["points"][0] == [T0 / NS, float(expected[0])]


def test_the_curve_keeps_the_newest_points_only() -> None:
    curve = EquityCurve(max_points=3)
    curve.add(_fill(f"T{i}", Side.BUY, "1", "0.3", i) for i in range(10))
    assert len(curve.points) == 3 and curve.points[-1][0] == T0 + 9 * NS


def _report(**changes: object) -> StatusReport:
    base: dict[str, object] = {
        "running": True,
        "source": "daemon",
        "mode": "sim",
        "trading_state": "REDUCING",
        "position": {"XLM/USD": "20.00000000"},
        "avg_entry": {"XLM/USD": "0.290333"},
        "marks": {"XLM/USD": "0.2811"},
        "position_pnl": {"XLM/USD": "-0.18466"},
        "total_pnl": "0.09667",
        "unrealized_pnl": "-0.18466",
        "books": {"XLM/USD": {"bid": "0.2810", "ask": "0.2812", "verified": True}},
        "rate_limits": {"rest": {"level": 2.5, "limit": 20.0}},
    }
    base.update(changes)
    return StatusReport(**base)  # type: ignore[arg-type]


ORDER = OrderRecord(
    cl_ord_id="kb1",
    txid="OTX",
    symbol="XLM/USD",
    side=Side.SELL,
    order_type=OrderType.STOP_LOSS,
    limit_price=D("0.2816"),
    qty=D("20"),
    status=OrderStatus.OPEN,
    filled_qty=D("0"),
    avg_fill_price=None,
    time_in_force=TimeInForce.GTC,
    post_only=False,
    tag="protect",
    reason=None,
    created_ns=T0,
    updated_ns=T0,
)
PAUSED = LedgerEvent(
    7,
    "trading_state",
    T0 + 60 * NS,
    {"from": "ACTIVE", "to": "REDUCING", "reason": "operator (dashboard): pause"},
)
DENIED = LedgerEvent(8, "risk_denied", T0, {"rule": "max_positions", "reason": "<b>one</b>"})


def test_the_snapshot_picks_from_status_the_listings_and_the_ledger() -> None:
    report = _report()
    view = LedgerView(
        open_orders=(ORDER,),
        fills=tuple(FILLS),
        events=(DENIED, PAUSED),
        denials=(DENIED,),
        state_change=PAUSED,
    )
    doc = build_snapshot(report, view, seq=3, now_ns=T0 + 61 * NS)
    assert doc["status"] == report.to_json()  # what `status --json` prints
    assert doc["why"] == {
        "trading_state": "REDUCING",
        "reason": "operator (dashboard): pause",
        "since": "2025-11-22T02:01:00.000000Z",
    }
    assert doc["orders"] == records(
        order_listing([ORDER], open_only=True, since_ns=None, pair=None)
    )
    newest_first = records(fill_listing(reversed(FILLS), since_ns=None, pair=None))
    assert doc["fills"] == newest_first and doc["fills"][0]["trade_id"] == "T3"
    assert doc["positions"] == [
        {
            "pair": "XLM/USD",
            "qty": "20.00000000",
            "avg_entry": "0.290333",
            "mark": "0.2811",
            "unrealized_pnl": "-0.18466",
        }
    ]
    assert doc["books"] == [{"pair": "XLM/USD", "bid": "0.2810", "ask": "0.2812", "verified": True}]
    assert doc["rates"] == [{"counter": "rest", "level": 2.5, "limit": 20.0}]
    assert [e["kind"] for e in doc["events"]] == ["trading_state", "risk_denied"]
    assert doc["denials"][0]["detail"] == "rule=max_positions; reason=<b>one</b>"  # text
    assert doc["equity_now"] == [(T0 + 61 * NS) / NS, "-0.08799"]
    json.dumps(doc)  # plain JSON all through


def test_the_reason_is_shown_only_for_the_state_it_explains() -> None:
    doc = build_snapshot(
        _report(trading_state="ACTIVE"), LedgerView(state_change=PAUSED), seq=1, now_ns=T0
    )
    assert doc["why"]["reason"] == "" and doc["why"]["since"] is None


def test_equity_now_is_unknown_while_a_position_has_no_price() -> None:
    assert equity_now(_report(unrealized_pnl=None)) is None
    assert equity_now(_report(total_pnl="x")) is None
    assert equity_now(_report(total_pnl="1.5", unrealized_pnl="-0.25")) == "1.25"
