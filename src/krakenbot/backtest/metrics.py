"""The figures of a run report, from its round trips and its equity curve (pure).

Owns: `EquityPoint`, `Metrics` and `compute`. Trades, wins, fees and exposure come from the
portfolio's round trips (domain/portfolio.py is the one place PnL is computed; this module
never recomputes a fill's PnL); returns, drawdown, Sharpe and Sortino from the equity curve,
which the caller samples at a regular step (a bar, say: the ratios are annualised with that
step). Must not import: I/O, the clock, anything above `domain`.

Definitions (kept plain on purpose; the README states them with the report):
- trades: round trips closed (flat → flat); a win realized more than 0 after fees.
- total return: last equity / first equity − 1; annualised: compounded over a 365-day year.
- max drawdown: the largest fall from a running peak, as a fraction of that peak, and how
  long the longest stretch under a previous peak lasted.
- Sharpe / Sortino: the mean of the step returns over their standard deviation (Sortino: over
  the downside deviation, the root mean square of the negative returns), times √(steps in a
  year); risk-free rate 0; None when there are fewer than two returns or no dispersion.
- fees: the quote value of every fee of every round trip (open ones included).
- exposure: the share of the run's time during which a position was open.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from krakenbot.domain.portfolio import RoundTrip

YEAR_NS = 365 * 86_400 * 1_000_000_000
ZERO = Decimal(0)


class EquityPoint(NamedTuple):  # a tuple: one is built every bar (a dataclass costs more)
    time_ns: int
    equity: Decimal  # cash plus positions at their marks, in the quote currency


@dataclass(frozen=True, slots=True)
class Metrics:
    trades: int
    wins: int
    win_rate: Decimal | None  # None: no closed trade
    realized: Decimal
    total_return: Decimal | None  # None: no equity, or it started at zero
    annualised_return: float | None
    max_drawdown: Decimal  # fraction of the peak, 0 ≤ x ≤ 1
    max_drawdown_ns: int  # longest time below a previous peak
    sharpe: float | None
    sortino: float | None
    fees: Decimal
    exposure: Decimal | None  # fraction of the run with a position open; None: empty run


def _drawdown(equity: Sequence[EquityPoint]) -> tuple[Decimal, int]:
    """(largest fall from a running peak as a fraction of it, longest time under a peak).
    Under one peak the fall is largest at the lowest point (a correctly rounded division
    is monotonic), so it is divided out only at a new low; the same answer as at every
    point, bit for bit, for a fraction of the divisions."""
    worst, longest = ZERO, 0
    peak: EquityPoint | None = None
    low: Decimal | None = None  # the lowest equity since the peak (None: none below it)
    for point in equity:
        if peak is None or point.equity >= peak.equity:
            peak, low = point, None
            continue
        if peak.equity > 0 and (low is None or point.equity < low):
            low = point.equity
            worst = max(worst, (peak.equity - low) / peak.equity)
        longest = max(longest, point.time_ns - peak.time_ns)
    return worst, longest


def _ratios(equity: Sequence[EquityPoint]) -> tuple[float | None, float | None]:
    # An unchanged equity (flat: most steps) is a return of exactly 0.0, as the division gives.
    returns = [
        0.0 if b.equity == a.equity else float(b.equity / a.equity - 1)
        for a, b in itertools.pairwise(equity)
        if a.equity
    ]
    if len(returns) < 2:
        return None, None
    steps = [b.time_ns - a.time_ns for a, b in itertools.pairwise(equity)]
    step_ns = statistics.median(steps)
    if step_ns <= 0:
        return None, None
    per_year = math.sqrt(YEAR_NS / step_ns)
    mean = statistics.fmean(returns)
    sd = statistics.pstdev(returns)
    downside = math.sqrt(statistics.fmean([min(r, 0.0) ** 2 for r in returns]))
    sharpe = mean / sd * per_year if sd > 0 else None
    sortino = mean / downside * per_year if downside > 0 else None
    return sharpe, sortino


def _exposure(trips: Sequence[RoundTrip], start_ns: int, end_ns: int) -> Decimal | None:
    if end_ns <= start_ns:
        return None
    spans = sorted((max(t.opened_ns, start_ns), min(t.closed_ns or end_ns, end_ns)) for t in trips)
    held, reach = 0, start_ns
    for opened, hi in spans:
        lo = max(opened, reach)
        if hi > lo:
            held += hi - lo
            reach = hi
    return Decimal(held) / Decimal(end_ns - start_ns)


def compute(
    trips: Sequence[RoundTrip], equity: Sequence[EquityPoint], *, start_ns: int, end_ns: int
) -> Metrics:
    """The report's figures for a run over [start_ns, end_ns)."""
    closed = [t for t in trips if t.closed_ns is not None]
    wins = sum(1 for t in closed if t.realized > 0)
    total: Decimal | None = None
    annual: float | None = None
    if equity and equity[0].equity > 0:
        total = equity[-1].equity / equity[0].equity - 1
        span = equity[-1].time_ns - equity[0].time_ns
        if span > 0 and total > -1:
            try:
                annual = float(1 + total) ** (YEAR_NS / span) - 1
            except OverflowError:  # a big move over minutes does not annualise
                annual = None
    worst, longest = _drawdown(equity)
    sharpe, sortino = _ratios(equity)
    return Metrics(
        trades=len(closed),
        wins=wins,
        win_rate=Decimal(wins) / len(closed) if closed else None,
        realized=sum((t.realized for t in closed), ZERO),
        total_return=total,
        annualised_return=annual,
        max_drawdown=worst,
        max_drawdown_ns=longest,
        sharpe=sharpe,
        sortino=sortino,
        fees=sum((t.fees for t in trips), ZERO),
        exposure=_exposure(trips, start_ns, end_ns),
    )
