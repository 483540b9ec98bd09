"""The strategy contract: `Strategy`, the read-only `StrategyView` it decides from, and a
frozen `SnapshotView` implementation.

Owns: the protocols the engine implements and strategies consume. Imports: domain only.
Time reaches a strategy only inside events (`BookTop.recv_ns`, `TimerTick.now_ns`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable

from krakenbot.domain.commands import Intent
from krakenbot.domain.events import BookTop, Event
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.portfolio import WorkingOrder


class StrategyView(Protocol):
    """What a strategy may read: market (books, instruments) and account (positions,
    average entry, our working orders). Read-only by construction: no method changes
    anything."""

    def book(self, symbol: str) -> BookTop | None: ...

    def instrument(self, symbol: str) -> Instrument | None: ...

    def position(self, symbol: str) -> Decimal: ...

    def avg_entry(self, symbol: str) -> Decimal | None: ...

    def position_opened_ns(self, symbol: str) -> int | None: ...

    def working_orders(self, symbol: str) -> Sequence[WorkingOrder]: ...


@runtime_checkable
class Strategy(Protocol):
    name: str

    @property
    def symbols(self) -> frozenset[str]:
        """The pairs this strategy trades (the engine subscribes to their books)."""
        ...

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        """Decide synchronously; return order intents and cancels (possibly none).

        Order matters: the engine submits the returned items in sequence, so a cancel
        listed before an exit reaches the venue first."""
        ...


@dataclass(frozen=True, slots=True)
class SnapshotView:
    """A plain-value `StrategyView` (used by tests and usable by the engine)."""

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
