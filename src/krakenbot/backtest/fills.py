"""The backtest's fill model, the arithmetic part: a candle's price path, when it crosses a
price, and the one-tick book a candle or a print implies (pure; prices in integer units of
the pair's price precision, times in ns).

Owns: `BarPath`, `quote_units` and `print_book`. The venue (backtest/venue.py) decides with
them; the README states the model ("Backtest: the fill model").

A candle is only four numbers, so the path inside it is an assumption, the simulator's own
(sim/replay.py `intra_candle`): open → the extreme nearer the open → the other extreme →
close, straight lines, at thirds of the candle, the close one nanosecond before the candle
ends (everything in a candle happens before the next one begins). A resting order fills
when the path trades *through* its price (a buy when the path goes a tick below it), at its
price; a stop fires when the path reaches its trigger. Nothing in a candle says how much
rested at a price ahead of us, so touching the price exactly fills nothing.

The book a candle or a trade implies is the tightest there is: one tick wide, the bid at
the price rounded down to the tick (a print by a buyer was at the ask: the bid is a tick
below it). A taker gets the whole quantity at the touch: the candle says nothing about
depth either, and the daemon's orders are small (MAX_TRADE_SIZE).
Imports: stdlib only.
"""

from __future__ import annotations

_THIRDS = 3


class BarPath:
    """The assumed price path of one candle [start_ns, end_ns): four knots, straight lines."""

    __slots__ = ("_times", "end_ns", "high", "low", "prices", "start_ns")

    def __init__(self, start_ns: int, end_ns: int, ohlc: tuple[int, int, int, int]) -> None:
        o, h, lo, c = ohlc
        self.start_ns = start_ns
        self.end_ns = end_ns
        self._times: tuple[int, int, int, int] | None = None  # `times`, when first asked
        # The extreme nearer the open comes first: up candles dip first, down candles spike.
        self.prices = prices = (o, lo, h, c) if c >= o else (o, h, lo, c)
        # The path's whole range (straight lines between knots): a price outside it is
        # never reached, whatever the start time (what the venue asks first, every candle).
        self.low = min(prices)
        self.high = max(prices)

    @property
    def times(self) -> tuple[int, int, int, int]:
        """The knots' times (worked out when first asked: most candles never are)."""
        times = self._times
        if times is None:
            start_ns = self.start_ns
            last = max(start_ns, self.end_ns - 1)
            span = last - start_ns
            times = (start_ns, start_ns + span // _THIRDS, start_ns + 2 * span // _THIRDS, last)
            self._times = times
        return times

    def covers(self, t_ns: int) -> bool:
        return self.start_ns <= t_ns < self.end_ns

    def price_at(self, t_ns: int) -> int:
        """The path's price at `t_ns` (rounded down to a unit; clamped to the candle)."""
        times, prices = self.times, self.prices
        if t_ns <= times[0]:
            return prices[0]
        for i in range(_THIRDS):
            t0, t1 = times[i], times[i + 1]
            if t_ns <= t1:
                if t1 == t0:
                    return prices[i + 1]
                p0, p1 = prices[i], prices[i + 1]
                return p0 + (p1 - p0) * (t_ns - t0) // (t1 - t0)
        return prices[-1]

    def first_at_or_below(self, level: int, from_ns: int) -> int | None:
        """The first time ≥ `from_ns` inside the candle at which the path is at or below
        `level`, or None."""
        return self._first(level, from_ns, 1)

    def first_at_or_above(self, level: int, from_ns: int) -> int | None:
        return self._first(level, from_ns, -1)

    def _first(self, level: int, from_ns: int, sign: int) -> int | None:
        # sign 1: look for p <= level; sign -1: p >= level (the same on negated prices).
        times = self.times
        prices = [sign * p for p in self.prices]
        level *= sign
        for i in range(_THIRDS):
            t0, t1 = times[i], times[i + 1]
            if t1 < from_ns:
                continue
            p0, p1 = prices[i], prices[i + 1]
            start = max(from_ns, t0)
            if t1 == t0:  # two knots at one instant (a candle a few ns wide): both trade
                if p0 <= level or p1 <= level:
                    return start
                continue
            # p(start) <= level, compared exactly: p(t) = p0 + (p1 - p0)(t - t0)/(t1 - t0).
            span = t1 - t0
            if p0 * span + (p1 - p0) * (start - t0) <= level * span:
                return start
            if p1 <= level:  # falls through `level` inside this segment: the first instant
                offset = -((p0 - level) * span // (p1 - p0))  # ceil((p0-level)·span/(p0-p1))
                return max(start, t0 + offset)
        return None


def quote_units(price: int, tick: int) -> tuple[int, int]:
    """(bid, ask) of the one-tick book around a traded `price`: the bid rounded down to the
    tick, the ask a tick above it."""
    bid = price - price % tick
    return bid, bid + tick


def print_book(price: int, tick: int, buyer_took: bool) -> tuple[int, int]:
    """(bid, ask) after a print at `price`: a buyer took the ask, a seller hit the bid."""
    if buyer_took:
        ask = price + (-price % tick)
        return ask - tick, ask
    return quote_units(price, tick)


__all__ = ["BarPath", "print_book", "quote_units"]
