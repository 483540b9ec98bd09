"""A plain-value `StrategyView` for strategy tests: books, instruments, positions, average
entries, opening times and working orders given directly (the engine's view is
`engine.view.LiveView`, fed by the portfolio)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.domain.events import BookTop
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.working import WorkingOrder


@dataclass(frozen=True, slots=True)
class SnapshotView:
    """A plain-value `StrategyView`."""

    books: Mapping[str, BookTop] = field(default_factory=dict)
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    positions: Mapping[str, Decimal] = field(default_factory=dict)
    entries: Mapping[str, Decimal] = field(default_factory=dict)
    opened: Mapping[str, int] = field(default_factory=dict)
    working: Sequence[WorkingOrder] = ()

    def book(self, symbol: str) -> BookTop | None:
        return self.books.get(symbol)

    def instrument(self, symbol: str) -> Instrument | None:
        return self.instruments.get(symbol)

    def position(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, Decimal(0))

    def avg_entry(self, symbol: str) -> Decimal | None:
        return self.entries.get(symbol)

    def position_opened_ns(self, symbol: str) -> int | None:
        return self.opened.get(symbol)

    def working_orders(self, symbol: str) -> Sequence[WorkingOrder]:
        return tuple(w for w in self.working if w.symbol == symbol)
