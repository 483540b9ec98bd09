"""The strategy contract: `Strategy` and the read-only `StrategyView` it decides from (the
engine's implementation is `engine.view.LiveView`).

Owns: the protocols the engine implements and strategies consume. Imports: domain only.
Time reaches a strategy only inside events (`BookTop.recv_ns`, `TimerTick.now_ns`).

A strategy may also say when a timer tick could next make it act: `next_due(now_ns, view)
-> int | None` (see `Timed`). A backtest then posts only the ticks that something is due on
(engine/ticks.py `due`); a strategy without it is asked on every tick, as before.
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


@runtime_checkable
class Timed(Protocol):
    """The optional part of a strategy: when a `TimerTick` could next make it act."""

    def next_due(self, now_ns: int, view: StrategyView) -> int | None:
        """Asked just before a tick at `now_ns`, no other event having come since: a time
        at or before `now_ns` when the tick could make `on_event` return something; a later
        time when no tick can before then; None when no tick can until another event (a
        book, an order report) reaches the strategy. It must never answer later than the
        truth (a tick left out would change the run); earlier only costs a tick."""
        ...
