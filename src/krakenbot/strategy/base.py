"""The strategy contract: `Strategy` and the read-only `StrategyView` it decides from (the
engine's implementation is `engine.view.LiveView`).

Owns: the protocols the engine implements and strategies consume. Imports: domain only.
Time reaches a strategy only inside events (`BookTop.recv_ns`, `TimerTick.now_ns`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from krakenbot.domain.commands import Intent
from krakenbot.domain.events import BookTop, Event
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.working import WorkingOrder


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
