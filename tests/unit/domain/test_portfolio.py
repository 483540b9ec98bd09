from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side
from krakenbot.domain.events import Fill
from krakenbot.domain.order import Order
from krakenbot.domain.portfolio import PnlReport, Portfolio, split_symbol, utc_day
from krakenbot.domain.working import WorkingOrder, exposure
from krakenbot.errors import InvariantError

DAY1 = 1_763_769_600_000_000_000  # 2025-11-22T00:00:00Z
HOUR = 3_600_000_000_000


def fill(
    trade_id: str,
    side: Side,
    qty: str,
    price: str,
    fee: str = "0",
    at: int = DAY1,
    symbol: str = "XLM/USD",
    fee_asset: str = "USD",
) -> Fill:
    q, p = D(qty), D(price)
    return Fill(
        trade_id=trade_id,
        order_id="O1",
        cl_ord_id=None,
        symbol=symbol,
        side=side,
        price=p,
        qty=q,
        cost=q * p,
        fee=D(fee),
        fee_asset=fee_asset,
        liquidity=Liquidity.MAKER,
        exchange_ns=at,
    )


def test_utc_day_and_symbol() -> None:
    assert utc_day(DAY1) == date(2025, 11, 22)
    assert utc_day(DAY1 - 1) == date(2025, 11, 21)
    assert split_symbol("XLM/USD") == ("XLM", "USD")
    with pytest.raises(InvariantError):
        split_symbol("XLMUSD")


def test_round_trip_realized_with_fees() -> None:
    p = Portfolio()
    assert p.apply_fill(fill("T1", Side.BUY, "40", "0.25", fee="0.025"))
    assert p.position("XLM/USD") == D("40")
    assert p.avg_entry("XLM/USD") == D("0.250625")  # (10 + 0.025) / 40
    assert p.opened_ns("XLM/USD") == DAY1
    p.apply_fill(fill("T2", Side.SELL, "40", "0.26", fee="0.026", at=DAY1 + HOUR))
    # proceeds 10.4 - 0.026 fee - cost 10.025 = 0.349
    assert p.realized_total == D("0.349")
    assert p.realized_on(date(2025, 11, 22)) == D("0.349")
    assert p.position("XLM/USD") == 0
    assert p.avg_entry("XLM/USD") is None
    assert p.opened_ns("XLM/USD") is None
    assert p.fees_total == D("0.051")
    assert p.positions() == {}


def test_average_cost_partial_closes() -> None:
    p = Portfolio()
    p.apply_fill(fill("A", Side.BUY, "10", "1.00"))
    p.apply_fill(fill("B", Side.BUY, "10", "2.00", at=DAY1 + 5))
    p.apply_fill(fill("C", Side.SELL, "15", "3.00"))
    # average cost 1.50: 15 * (3.00 - 1.50)
    assert p.realized_total == D("22.5")
    assert p.position("XLM/USD") == D("5")
    assert p.avg_entry("XLM/USD") == D("1.5")
    assert p.opened_ns("XLM/USD") == DAY1  # the round trip's start: the time stop's clock
    assert p.unrealized("XLM/USD", D("2.5")) == D("5")


def test_duplicate_fill_ignored() -> None:
    p = Portfolio()
    f = fill("T1", Side.BUY, "10", "1")
    assert p.apply_fill(f) and not p.apply_fill(f)
    assert p.position("XLM/USD") == D("10") and p.seen("T1") and not p.seen("T2")


def test_sell_through_zero_opens_short_and_buy_back_realizes() -> None:
    p = Portfolio()
    p.apply_fill(fill("A", Side.BUY, "10", "1.00"))
    p.apply_fill(fill("B", Side.SELL, "15", "1.20", fee="0.15"))  # fee 0.01 per unit
    # long close: 10 * (1.20 - 0.01) - 10 = 1.9
    assert p.realized_total == D("1.9")
    assert p.position("XLM/USD") == D("-5")
    assert p.avg_entry("XLM/USD") == D("1.19")
    assert p.unrealized("XLM/USD", D("1.00")) == D("0.95")
    p.apply_fill(fill("C", Side.BUY, "5", "1.00", fee="0.05"))
    # short close: 5 * 1.19 - 5 * (1.00 + 0.01) = 0.9
    assert p.realized_total == D("2.8")
    assert p.position("XLM/USD") == 0


def test_fee_in_base_reduces_the_position_not_the_cash() -> None:
    p = Portfolio()
    p.apply_fill(fill("A", Side.BUY, "10", "2", fee="0.1", fee_asset="XLM"))  # fcib buy
    assert p.position("XLM/USD") == D("9.9")  # Kraken credits 10 - 0.1
    assert p.cost_basis("XLM/USD") == D("20")  # all of it was paid
    assert p.fees_total == D("0.2")  # valued at the fill price, for the reports
    p.apply_fill(fill("B", Side.SELL, "4.9", "3", fee="0.1", fee_asset="XLM"))  # fcib sell
    assert p.position("XLM/USD") == D("4.9")  # 4.9 sold and 0.1 taken as the fee
    # 5 of 9.9 left the position: proceeds 14.7 less 5/9.9 of the cost
    assert p.realized_total == D("14.7") - D("20") * D("5") / D("9.9")
    left = D("14.7") - D("20") * D("4.9") / D("9.9")
    assert abs(p.unrealized("XLM/USD", D("3")) - left) < D("1e-24")
    assert p.fees_total == D("0.5")


def test_quote_fee_under_krakens_rest_asset_code() -> None:
    p = Portfolio()
    p.apply_fill(fill("A", Side.BUY, "10", "2", fee="0.05", fee_asset="ZUSD"))
    assert p.cost_basis("XLM/USD") == D("20.05") and p.position("XLM/USD") == D("10")


def test_third_asset_fee_is_reported_apart_and_bad_fills_raise() -> None:
    p = Portfolio()
    assert p.apply_fill(fill("A", Side.BUY, "10", "2", fee="12", fee_asset="KFEE"))
    assert p.cost_basis("XLM/USD") == D("20") and p.fees_total == 0
    assert p.other_fees == {"KFEE": D("12")}
    with pytest.raises(InvariantError, match="non-positive"):
        p.apply_fill(fill("B", Side.BUY, "0", "2"))
    with pytest.raises(InvariantError, match="non-positive"):
        p.apply_fill(fill("C", Side.BUY, "1", "-2"))
    with pytest.raises(InvariantError, match="beyond its quantity"):
        p.apply_fill(fill("E", Side.BUY, "1", "2", fee="1", fee_asset="XLM"))
    assert not p.seen("B") and not p.seen("E")
    # a zero fee in any asset is fine
    assert p.apply_fill(fill("D", Side.BUY, "1", "2", fee="0", fee_asset=""))


def test_daily_pnl_by_utc_day() -> None:
    p = Portfolio()
    p.apply_fill(fill("A", Side.BUY, "10", "1.0", at=DAY1 - HOUR))
    p.apply_fill(fill("B", Side.SELL, "5", "0.8", at=DAY1 - 1))  # -1 yesterday
    p.apply_fill(fill("C", Side.SELL, "2", "1.5", at=DAY1 + HOUR))  # +1 today
    today, yesterday = date(2025, 11, 22), date(2025, 11, 21)
    assert p.realized_on(yesterday) == D("-1")
    assert p.realized_on(today) == D("1")
    assert p.realized_on(date(2025, 11, 23)) == 0
    # `profit --by day` lists these, oldest first; they add up to the total.
    assert p.realized_by_day() == {yesterday: D("-1"), today: D("1")}
    assert list(p.realized_by_day()) == [yesterday, today]
    assert sum(p.realized_by_day().values()) == p.realized_total
    # 3 left at cost 1.0, marked at 0.5: -1.5 unrealized
    assert p.daily_pnl(today, {"XLM/USD": D("0.5")}) == D("-0.5")
    assert p.daily_pnl(today, {}) is None
    assert p.unrealized_total({"XLM/USD": D("1")}) == 0


def test_multiple_symbols() -> None:
    p = Portfolio()
    p.apply_fill(fill("A", Side.BUY, "10", "1", symbol="XLM/USD"))
    p.apply_fill(fill("B", Side.BUY, "0.001", "50000", symbol="BTC/USD"))
    assert p.positions() == {"XLM/USD": D("10"), "BTC/USD": D("0.001")}
    marks = {"XLM/USD": D("1.1"), "BTC/USD": D("49000")}
    assert p.unrealized_total(marks) == D("1") + D("-1")
    assert p.position("ETH/USD") == 0 and p.cost_basis("ETH/USD") == 0


def _working(side: Side, qty: str, price: str | None, reduces: bool = False) -> WorkingOrder:
    return WorkingOrder(
        cl_ord_id="kb1",
        symbol="XLM/USD",
        side=side,
        order_type=OrderType.LIMIT if price else OrderType.MARKET,
        remaining_qty=D(qty),
        limit_price=D(price) if price else None,
        reduces_position=reduces,
    )


def test_exposure_includes_working_entries_not_exits() -> None:
    positions = {"XLM/USD": D("40"), "BTC/USD": D("0")}
    marks = {"XLM/USD": D("0.25")}
    working = [_working(Side.BUY, "20", "0.24"), _working(Side.SELL, "40", "0.30", reduces=True)]
    assert exposure(positions, marks, working) == D("10") + D("4.8")
    assert exposure({"XLM/USD": D("-4")}, marks, []) == D("1")
    # market order is valued at the mark; without one exposure is unknown
    assert exposure({}, marks, [_working(Side.BUY, "4", None)]) == D("1")
    assert exposure({}, {}, [_working(Side.BUY, "4", None)]) is None
    assert exposure(positions, {}, []) is None


def test_working_order_of_order() -> None:
    o = Order(
        cl_ord_id="kb1",
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("40"),
        limit_price=D("0.25"),
        created_ns=9,
        status=OrderStatus.PARTIALLY_FILLED,
        filled_qty=D("15"),
        tag="entry",
        post_only=True,
    )
    w = WorkingOrder.of(o)
    assert w.remaining_qty == D("25") and w.tag == "entry" and w.created_ns == 9 and w.post_only


def test_round_trips_from_flat_to_flat() -> None:
    p = Portfolio()
    f = [
        fill("A", Side.BUY, "10", "1.0", fee="0.01", at=DAY1),
        fill("B", Side.BUY, "10", "1.2", fee="0.012", at=DAY1 + 1),
        fill("C", Side.SELL, "5", "1.3", fee="0.0065", at=DAY1 + 2),
        fill("D", Side.SELL, "15", "1.0", fee="0.015", at=DAY1 + 3),
        fill("E", Side.BUY, "4", "0.9", fee="0.1", fee_asset="XLM", at=DAY1 + 4),
    ]
    changed = [p.record(x) for x in f]
    first, second = p.round_trips()
    assert [len(c) for c in changed] == [1, 1, 1, 1, 1]
    assert changed[3] == (first,) and changed[4] == (second,)
    assert (first.seq, first.side, first.opened_ns, first.closed_ns) == (
        1,
        Side.BUY,
        DAY1,
        DAY1 + 3,
    )
    assert (first.volume, first.open_volume, first.entry_price) == (D("20"), 0, D("1.1"))
    assert first.exit_price == (D("5") * D("1.3") + D("15") * D("1.0")) / D("20")
    assert first.fees == D("0.0435")
    # cash in: -22.022; cash out: 6.4935 + 14.985 -> -0.5435 realized over the trip
    assert first.realized == D("-0.5435") == p.realized_total
    assert (second.seq, second.volume, second.open_volume) == (2, D("3.9"), D("3.9"))
    assert second.closed_ns is None and second.fees == D("0.09")
    assert (p.closed_count, p.winning_count) == (1, 0)
    assert p.record(f[0]) == ()  # a duplicate changes nothing


def test_report_is_what_every_reader_shows() -> None:
    p = Portfolio(
        [
            fill("A", Side.BUY, "10", "1.0", fee="0.01", at=DAY1 - HOUR),
            fill("B", Side.SELL, "4", "1.5", fee="0.006", at=DAY1 + HOUR),
            fill("K", Side.BUY, "1", "2", symbol="BTC/USD", fee="3", fee_asset="KFEE"),
        ]
    )
    today = date(2025, 11, 22)
    marks = {"XLM/USD": D("1.1"), "BTC/USD": D("3"), "ETH/USD": D("9")}
    report = p.report(today, marks)
    assert report == PnlReport(
        positions={"XLM/USD": D("6"), "BTC/USD": D("1")},
        marks={"XLM/USD": D("1.1"), "BTC/USD": D("3")},
        realized=D("5.994") - D("4.004"),  # 6 - 0.006 - 4/10 of 10.01
        realized_today=D("5.994") - D("4.004"),
        unrealized=D("6.6") - D("6.006") + 1,
        fees=D("0.016"),
        other_fees={"KFEE": D("3")},
        unrealized_by={"XLM/USD": D("6.6") - D("6.006"), "BTC/USD": D("1")},
        avg_entries={"XLM/USD": D("6.006") / 6, "BTC/USD": D("2")},
    )
    assert sum(report.unrealized_by.values()) == report.unrealized  # one truth, split by pair
    assert report.daily == report.realized_today + D("1.594")
    assert p.report(today, {"XLM/USD": D("1")}).daily is None  # BTC/USD has no mark
