"""The market a backtest replays, as loaded (pure data, no I/O).

Owns: `BarSeries` (one pair's candles as columns: open times, integer open/high/low/close in
units of the pair's price precision, volumes) and `EventTape` (recorded or downloaded market
events in time order: book tops, trades, tickers; `synthetic_book` when there is no recorded
book and the one-tick book a print implies stands in for it), `Tape` (either), its span,
`candle_event_count` and `event_time`. The loaders (app/backtest/inputs.py) build them;
backtest/loop.py replays them. Imports: domain.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from krakenbot.domain.events import BookTop, MarketTrade, Ticker

MarketInput = BookTop | MarketTrade | Ticker


@dataclass(frozen=True, slots=True)
class BarSeries:
    symbol: str
    interval_ns: int
    open_ns: array[int]  # candle open times, ascending
    o: array[int]  # prices in units of 10^-price_decimals
    h: array[int]
    lo: array[int]
    c: array[int]
    volume: Sequence[Decimal]

    def __len__(self) -> int:
        return len(self.open_ns)

    def ohlc(self, i: int) -> tuple[int, int, int, int]:
        return self.o[i], self.h[i], self.lo[i], self.c[i]


@dataclass(frozen=True, slots=True)
class EventTape:
    events: Sequence[MarketInput]  # ascending `event_time`
    synthetic_book: bool = False  # no recorded book: each trade implies a one-tick book
    symbols: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.events)


Tape = Sequence[BarSeries] | EventTape


def event_time(event: MarketInput) -> int:
    return event.recv_ns or event.exchange_ns


def tape_span(tape: Tape) -> tuple[int, int]:
    """[first, end) of the market time a tape covers (0, 0 when it is empty)."""
    if isinstance(tape, EventTape):
        if not tape.events:
            return 0, 0
        return event_time(tape.events[0]), event_time(tape.events[-1]) + 1
    series = [s for s in tape if len(s)]
    if not series:
        return 0, 0
    first = min(s.open_ns[0] for s in series)
    end = max(s.open_ns[-1] + s.interval_ns for s in series)
    return first, end


def tape_size(tape: Tape) -> int:
    """Market items in the tape: candles, or events."""
    if isinstance(tape, EventTape):
        return len(tape)
    return sum(len(s) for s in tape)


__all__ = ["BarSeries", "EventTape", "MarketInput", "Tape", "event_time", "tape_size", "tape_span"]
