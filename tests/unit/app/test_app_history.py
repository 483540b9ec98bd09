"""The listings of `trades`, `orders` and `profit` (app/history.py): filters, `--since`, and
figures that are the portfolio's own (never a second computation of PnL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from krakenbot.app.history import (
    Kind,
    Since,
    fill_listing,
    order_listing,
    parse_since,
    profit_listing,
    records,
    trip_listing,
)
from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import Fill
from krakenbot.domain.ledger import OrderRecord
from krakenbot.domain.portfolio import Portfolio

DAY1 = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
HOUR = 3_600_000_000_000


def fill(tid: str, side: Side, qty: str, price: str, at: int, symbol: str = "XLM/USD") -> Fill:
    q, p = D(qty), D(price)
    return Fill(tid, "O" + tid, "kb" + tid, symbol, side, p, q, q * p, D("0.01"), "USD",
                Liquidity.MAKER, at)  # fmt: skip


FILLS = [
    fill("1", Side.BUY, "100", "0.10", DAY1 + HOUR),
    fill("2", Side.SELL, "100", "0.12", DAY1 + 2 * HOUR),  # +2 - 0.02 fees: +1.98
    fill("3", Side.BUY, "1", "100", DAY1 + 3 * HOUR, "BTC/USD"),
    fill("4", Side.SELL, "1", "90", DAY1 + 26 * HOUR, "BTC/USD"),  # -10.02, on Jan 2
    fill("5", Side.BUY, "50", "0.11", DAY1 + 27 * HOUR),  # open at exit
]


def test_since_takes_dates_times_and_spans() -> None:
    assert parse_since("2026-01-01") == Since(at_ns=DAY1)
    assert parse_since("2026-01-01T01:00") == Since(at_ns=DAY1 + HOUR)
    assert parse_since("2026-01-01T02:00+01:00") == Since(at_ns=DAY1 + HOUR)
    assert parse_since("2026-01-01T01:00:00Z") == Since(at_ns=DAY1 + HOUR)
    assert parse_since("12h").resolve(DAY1 + 24 * HOUR) == DAY1 + 12 * HOUR
    assert parse_since("2w").resolve(DAY1) == DAY1 - 14 * 24 * HOUR
    assert parse_since("30m").resolve(DAY1) == DAY1 - HOUR // 2
    for bad in ("yesterday", "12x", "", "-5d", "2026-13-01"):
        with pytest.raises(ValueError):
            parse_since(bad)


def test_round_trips_are_the_portfolios_and_filters_only_pick() -> None:
    trips = Portfolio(FILLS).round_trips()
    listing = trip_listing(trips, since_ns=None, pair=None)
    assert [r["id"] for r in listing.rows] == [1, 2, 3]
    assert [r["realized_pnl"] for r in listing.rows] == [t.realized for t in trips]
    assert listing.rows[0]["realized_pnl"] == D("1.98")
    assert listing.rows[2]["status"] == "OPEN" and listing.rows[2]["closed"] is None
    assert listing.total == {"round_trips": 3, "closed": 2, "open": 1}
    # Since Jan 2: the BTC trip (closed then) and the open one; not the XLM trip closed Jan 1.
    since = trip_listing(trips, since_ns=DAY1 + 24 * HOUR, pair=None)
    assert [r["id"] for r in since.rows] == [2, 3]
    assert [r["id"] for r in trip_listing(trips, since_ns=None, pair="XLM/USD").rows] == [1, 3]


def test_fills_and_orders_filters() -> None:
    fills = fill_listing(FILLS, since_ns=DAY1 + 3 * HOUR, pair="BTC/USD")
    assert [r["trade_id"] for r in fills.rows] == ["3", "4"]
    orders = [
        OrderRecord("kb1", "O1", "XLM/USD", Side.BUY, OrderType.LIMIT, D("0.1"), D("100"),
                    OrderStatus.FILLED, D("100"), D("0.1"), TimeInForce.GTC, True, "entry",
                    None, DAY1, DAY1),
        OrderRecord("kb2", None, "XLM/USD", Side.SELL, OrderType.LIMIT, D("0.2"), D("100"),
                    OrderStatus.OPEN, D("0"), None, TimeInForce.GTC, True, "take_profit",
                    None, DAY1 + HOUR, DAY1 + HOUR),
    ]  # fmt: skip
    assert [r["order"] for r in order_listing(orders, open_only=True, since_ns=None,
                                              pair=None).rows] == ["kb2"]  # fmt: skip
    listing = order_listing(orders, open_only=False, since_ns=DAY1 + 1, pair=None)
    assert [r["order"] for r in listing.rows] == ["kb2"]
    assert listing.total == {"orders": 1, "open": 1}


def test_a_stop_loss_order_s_price_is_its_trigger() -> None:
    """Kraken's `price` of a stop-loss is its trigger (the ledger's row keeps it so); the
    listing — `orders`, the dashboard's open orders — shows it in the price column."""
    stop = OrderRecord("kb3", "O3", "XLM/USD", Side.SELL, OrderType.STOP_LOSS, None, D("100"),
                       OrderStatus.OPEN, D("0"), None, TimeInForce.GTC, False, "protect",
                       None, DAY1, DAY1, trigger_price=D("0.0970"))  # fmt: skip
    [row] = order_listing([stop], open_only=True, since_ns=None, pair=None).rows
    assert row["price"] == D("0.0970") and row["type"] == "stop-loss"


def test_profit_by_day_and_by_pair_add_up_to_the_portfolio_report() -> None:
    portfolio = Portfolio(FILLS)
    marks = {"XLM/USD": D("0.13")}
    by_day = profit_listing(portfolio, by="day", marks=marks, today=date(2026, 1, 2))
    assert [(r["day"], r["realized_pnl"], r["closed"], r["won"]) for r in by_day.rows] == [
        (date(2026, 1, 1), D("1.98"), 1, 1),
        (date(2026, 1, 2), D("-10.02"), 1, 0),
    ]
    report = portfolio.report(date(2026, 1, 2), marks)
    assert by_day.total["realized_pnl"] == report.realized == D("-8.04")
    assert by_day.total["realized_today"] == report.realized_today == D("-10.02")
    assert (
        by_day.total["unrealized_pnl"]
        == report.unrealized
        == portfolio.unrealized("XLM/USD", D("0.13"))
    )
    assert by_day.total["fees"] == report.fees
    by_pair = profit_listing(portfolio, by="pair", marks=marks, today=date(2026, 1, 2))
    rows = {r["pair"]: r for r in by_pair.rows}
    assert rows["BTC/USD"]["realized_pnl"] == D("-10.02") and rows["BTC/USD"]["position"] == 0
    assert rows["XLM/USD"]["realized_pnl"] == D("1.98")
    assert rows["XLM/USD"]["unrealized_pnl"] == portfolio.unrealized("XLM/USD", D("0.13"))
    assert sum(r["fees"] for r in by_pair.rows) == report.fees  # type: ignore[misc]
    unknown = profit_listing(portfolio, by="pair", marks={}, today=date(2026, 1, 2))
    assert {r["pair"]: r["unrealized_pnl"] for r in unknown.rows}["XLM/USD"] is None
    assert unknown.total["unrealized_pnl"] is None  # unknown, never a made-up zero


def test_records_are_exact() -> None:
    tiny = fill("9", Side.BUY, "0.00000001", "0.1", DAY1)
    listing = fill_listing([tiny], since_ns=None, pair=None)
    (record,) = records(listing)
    assert record["volume"] == "0.00000001"  # never 1E-8
    assert record["time"] == "2026-01-01T00:00:00.000000Z" and record["time_ns"] == DAY1
    assert record["cost"] == "0.000000001"
    assert {c.kind for c in listing.columns} >= {Kind.TIME, Kind.QTY, Kind.PRICE, Kind.FEE}
