"""The candle path of the fill model: its shape, its prices, and the first instant it
reaches a price (checked against brute force over every nanosecond of small candles)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.backtest.fills import BarPath, print_book, quote_units


def _exact(path: BarPath, t: int) -> Fraction:
    times, prices = path.times, path.prices
    if t <= times[0]:
        return Fraction(prices[0])
    for i in range(3):
        t0, t1 = times[i], times[i + 1]
        if t <= t1:
            if t1 == t0:
                return Fraction(prices[i + 1])
            return prices[i] + Fraction(prices[i + 1] - prices[i]) * (t - t0) / (t1 - t0)
    return Fraction(prices[-1])


def test_an_up_candle_dips_first_and_a_down_candle_spikes_first() -> None:
    up = BarPath(0, 61, (100, 110, 95, 105))
    assert up.prices == (100, 95, 110, 105)
    assert up.times == (0, 20, 40, 60)  # the close one ns before the candle ends
    down = BarPath(0, 61, (100, 110, 95, 98))
    assert down.prices == (100, 110, 95, 98)


def test_price_at_follows_straight_lines_between_the_knots() -> None:
    path = BarPath(1000, 1061, (100, 110, 90, 105))  # up: 100 → 90 → 110 → 105
    assert path.price_at(1000) == 100
    assert path.price_at(1010) == 95
    assert path.price_at(1020) == 90
    assert path.price_at(1030) == 100
    assert path.price_at(1060) == 105
    assert path.price_at(5000) == 105  # clamped
    assert path.covers(1060) and not path.covers(1061) and not path.covers(999)


def test_first_instant_at_or_below_a_level() -> None:
    path = BarPath(0, 61, (100, 110, 90, 105))  # 100 → 90 (t 0..20) → 110 (t 40) → 105
    assert path.first_at_or_below(95, 0) == 10
    assert path.first_at_or_below(100, 0) == 0
    assert path.first_at_or_below(89, 0) is None
    assert path.first_at_or_below(95, 25) == 25  # on the way up from the low
    assert path.first_at_or_below(95, 26) is None
    assert path.first_at_or_above(110, 0) == 40
    assert path.first_at_or_above(106, 45) == 45  # already above when asked
    assert path.first_at_or_above(111, 0) is None


@settings(max_examples=300, deadline=None)
@given(
    prices=st.tuples(*(st.integers(0, 40) for _ in range(4))),
    width=st.integers(1, 40),
    level=st.integers(-2, 42),
    start=st.integers(0, 45),
)
def test_the_first_crossing_is_the_first_nanosecond_that_reaches_the_level(
    prices: tuple[int, int, int, int], width: int, level: int, start: int
) -> None:
    o, _, _, c = prices
    h, lo = max(prices), min(prices)
    path = BarPath(0, width, (o, h, lo, c))
    instants = range(start, width)

    def seen(t: int) -> list[Fraction]:  # knots that share an instant are all traded then
        knots = [Fraction(p) for p, k in zip(path.prices, path.times, strict=True) if k == t]
        return [_exact(path, t), *knots]

    below = next((t for t in instants if min(seen(t)) <= level), None)
    above = next((t for t in instants if max(seen(t)) >= level), None)
    assert path.first_at_or_below(level, start) == below
    assert path.first_at_or_above(level, start) == above
    for t in range(width):
        assert path.price_at(t) == int(_exact(path, t) // 1)


@settings(max_examples=300, deadline=None)
@given(
    ohlc=st.tuples(*(st.integers(0, 40) for _ in range(4))),
    width=st.integers(1, 40),
    level=st.integers(-2, 42),
    start=st.integers(0, 45),
)
def test_a_level_outside_the_candles_range_is_never_reached(
    ohlc: tuple[int, int, int, int], width: int, level: int, start: int
) -> None:
    # The venue skips the walk when its level lies outside [low, high]: the walk must agree
    # (any four numbers, even a high below the open: the range is the knots').
    path = BarPath(0, width, ohlc)
    assert (path.low, path.high) == (min(ohlc), max(ohlc))
    if level < path.low:
        assert path.first_at_or_below(level, start) is None
    if level > path.high:
        assert path.first_at_or_above(level, start) is None


def test_the_one_tick_book_of_a_price_and_of_a_print() -> None:
    assert quote_units(1005, 10) == (1000, 1010)
    assert quote_units(1000, 10) == (1000, 1010)
    assert print_book(1000, 10, buyer_took=True) == (990, 1000)  # the buyer took the ask
    assert print_book(1000, 10, buyer_took=False) == (1000, 1010)  # the seller hit the bid
    assert print_book(1003, 10, buyer_took=True) == (1000, 1010)


def test_knots_sharing_an_instant_all_count_the_open_included() -> None:
    # Three nanoseconds wide: the open and the first extreme share instant 0; the open
    # alone reaches the level there (hypothesis found this: the open was skipped).
    assert BarPath(0, 3, (1, 2, 0, 0)).first_at_or_below(1, 0) == 0
    assert BarPath(0, 3, (1, 1, 0, 1)).first_at_or_above(1, 0) == 0
