"""The report's figures: trades and fees from the portfolio's round trips, returns, drawdown,
Sharpe and Sortino from the equity curve, exposure from the time positions were open."""

from __future__ import annotations

import itertools
import math
import statistics
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from krakenbot.backtest.metrics import YEAR_NS, EquityPoint, compute
from krakenbot.domain.enums import Liquidity, Side
from krakenbot.domain.events import Fill
from krakenbot.domain.portfolio import Portfolio

NS = 1_000_000_000
MIN = 60 * NS


def _fill(n: int, side: Side, price: str, qty: str, fee: str, at_min: int) -> Fill:
    p, q = Decimal(price), Decimal(qty)
    return Fill(
        f"T{n}",
        f"O{n}",
        None,
        "XLM/USD",
        side,
        p,
        q,
        p * q,
        Decimal(fee),
        "USD",
        Liquidity.MAKER,
        at_min * MIN,
    )


def _curve(values: list[str], step_ns: int = MIN) -> list[EquityPoint]:
    return [EquityPoint(i * step_ns, Decimal(v)) for i, v in enumerate(values)]


def test_trades_wins_fees_and_exposure_come_from_round_trips() -> None:
    portfolio = Portfolio(
        [
            _fill(1, Side.BUY, "0.30", "10", "0.01", 10),  # win: +0.20 - 0.02
            _fill(2, Side.SELL, "0.32", "10", "0.01", 20),
            _fill(3, Side.BUY, "0.30", "10", "0.01", 40),  # loss: -0.10 - 0.02
            _fill(4, Side.SELL, "0.29", "10", "0.01", 50),
            _fill(5, Side.BUY, "0.30", "10", "0.01", 80),  # still open at the end
        ]
    )
    m = compute(portfolio.round_trips(), _curve(["100"] * 101), start_ns=0, end_ns=100 * MIN)
    assert (m.trades, m.wins, m.win_rate) == (2, 1, Decimal("0.5"))
    assert m.realized == Decimal("0.06")
    assert m.fees == Decimal("0.05")
    assert m.exposure == Decimal("0.4")  # 10 + 10 + 20 minutes of 100


def test_returns_and_drawdown_from_the_equity_curve() -> None:
    curve = _curve(["100", "110", "99", "104.5", "121", "120"], step_ns=YEAR_NS // 5)
    m = compute([], curve, start_ns=0, end_ns=YEAR_NS)
    assert m.total_return == Decimal("0.2")
    assert m.annualised_return == pytest.approx(0.2)  # the curve spans exactly a year
    assert m.max_drawdown == Decimal("0.1")  # 110 → 99
    assert m.max_drawdown_ns == 2 * YEAR_NS // 5  # under 110 from step 1 until step 3
    assert (m.trades, m.win_rate, m.exposure) == (0, None, Decimal(0))


def test_sharpe_and_sortino_annualise_by_the_step() -> None:
    returns = [0.01, -0.005, 0.02, -0.01, 0.005]
    values = [Decimal(100)]
    for r in returns:
        values.append(values[-1] * Decimal(str(1 + r)))
    curve = [EquityPoint(i * 86_400 * NS, v) for i, v in enumerate(values)]
    m = compute([], curve, start_ns=0, end_ns=5 * 86_400 * NS)
    mean = sum(returns) / 5
    sd = math.sqrt(sum((r - mean) ** 2 for r in returns) / 5)
    down = math.sqrt(sum(min(r, 0) ** 2 for r in returns) / 5)
    assert m.sharpe == pytest.approx(mean / sd * math.sqrt(365))
    assert m.sortino == pytest.approx(mean / down * math.sqrt(365))


def test_degenerate_runs_give_none_not_errors() -> None:
    flat = compute([], _curve(["100", "100", "100"]), start_ns=0, end_ns=2 * MIN)
    assert (flat.sharpe, flat.sortino, flat.total_return) == (None, None, Decimal(0))
    empty = compute([], [], start_ns=0, end_ns=0)
    assert (empty.total_return, empty.annualised_return, empty.exposure) == (None, None, None)
    assert empty.max_drawdown == 0
    rocket = compute([], _curve(["1", "1000000"], step_ns=NS), start_ns=0, end_ns=NS)
    assert rocket.annualised_return is None  # does not annualise: no overflow error
    ruined = compute([], _curve(["100", "0", "0"]), start_ns=0, end_ns=2 * MIN)
    assert ruined.max_drawdown == 1 and ruined.total_return == -1


def _reference(curve: list[EquityPoint]) -> tuple[Decimal, int, float | None, float | None]:
    """Max drawdown (every point divided out) and Sharpe and Sortino (every step divided),
    as the figures were first written."""
    worst, longest = Decimal(0), 0
    peak: EquityPoint | None = None
    for point in curve:
        if peak is None or point.equity >= peak.equity:
            peak = point
            continue
        if peak.equity > 0:
            worst = max(worst, (peak.equity - point.equity) / peak.equity)
        longest = max(longest, point.time_ns - peak.time_ns)
    returns = [float(b.equity / a.equity - 1) for a, b in itertools.pairwise(curve) if a.equity]
    if len(returns) < 2:
        return worst, longest, None, None
    step_ns = statistics.median([b.time_ns - a.time_ns for a, b in itertools.pairwise(curve)])
    per_year = math.sqrt(YEAR_NS / step_ns)
    mean, sd = statistics.fmean(returns), statistics.pstdev(returns)
    downside = math.sqrt(statistics.fmean([min(r, 0.0) ** 2 for r in returns]))
    sharpe = mean / sd * per_year if sd > 0 else None
    sortino = mean / downside * per_year if downside > 0 else None
    return worst, longest, sharpe, sortino


equities = st.decimals(min_value=Decimal(0), max_value=Decimal(2000), places=8) | st.sampled_from(
    [Decimal("1000"), Decimal("1000.00"), Decimal("999.5"), Decimal("999.50000"), Decimal(0)]
)


@given(st.lists(equities, min_size=0, max_size=60))
@example([Decimal(v) for v in ("100", "90", "200", "100", "100.0", "150", "0", "50")])
@settings(max_examples=300)
def test_drawdown_and_ratios_match_dividing_at_every_point(values: list[Decimal]) -> None:
    """Dividing only at a new low under a peak, and not at all for an unchanged step, gives
    the same figures bit for bit (repeated values, equal values written differently, zero)."""
    curve = [EquityPoint(i * MIN, v) for i, v in enumerate(values)]
    worst, longest, sharpe, sortino = _reference(curve)
    got = compute([], curve, start_ns=0, end_ns=len(values) * MIN + 1)
    assert (got.max_drawdown, got.max_drawdown_ns) == (worst, longest)
    assert str(got.max_drawdown) == str(worst)
    assert (got.sharpe, got.sortino) == (sharpe, sortino)
