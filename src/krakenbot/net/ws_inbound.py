"""The one inbound event queue from the WebSocket session to the engine, with conflation.

Owns: `InboundQueue` — a FIFO of typed events in which market data may be *coalesced*: a
ticker/book/rate-counter put under a key replaces the still-unconsumed previous one for that
key (keeping its place in line), so a slow consumer sees the latest state instead of a growing
backlog. Executions, balances and state events are never dropped. `put*` never blocks and never
awaits, so the socket reader never waits for the consumer. `woke` tells the reader that a put
woke a waiting consumer, so it can yield once and let the engine decide on that event before
it decodes the frames buffered behind it. Imports: stdlib and domain only.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable
from dataclasses import dataclass

from krakenbot.domain.events import Event, MarketTrade

Thunk = Callable[[], Event]


class _Slot:
    """A place in line whose content the producer may still overwrite."""

    __slots__ = ("key", "value")

    def __init__(self, key: Hashable, value: Event | Thunk) -> None:
        self.key = key
        self.value = value


@dataclass(slots=True)
class QueueStats:
    put: int = 0
    coalesced: int = 0  # market updates replaced before the consumer saw them
    trades_dropped: int = 0  # public trades beyond `max_pending_trades`
    high_water: int = 0


class InboundQueue:
    """Single-consumer queue of `Event`s.

    - `put(event)`: must-deliver (never dropped).
    - `put_latest(key, event_or_thunk)`: conflated by key; a thunk is called when the consumer
      takes it, so an expensive view (a book's top-N) is built once per *consumed* update.
    - Public trades are must-deliver up to `max_pending_trades`; beyond that the newest trades
      are dropped and counted (market data only; a bot must never depend on every print).
    """

    def __init__(self, *, max_pending_trades: int = 10_000) -> None:
        self._items: deque[Event | _Slot] = deque()
        self._slots: dict[Hashable, _Slot] = {}
        self._nonempty = asyncio.Event()
        self._waiting = 0  # consumers blocked in get()
        self.woke = False  # a put woke a waiting consumer; the reader clears it
        self._pending_trades = 0
        self._max_pending_trades = max_pending_trades
        self.stats = QueueStats()

    def __len__(self) -> int:
        return len(self._items)

    def put(self, event: Event) -> None:
        if type(event) is MarketTrade:
            if self._pending_trades >= self._max_pending_trades:
                self.stats.trades_dropped += 1
                return
            self._pending_trades += 1
        self._items.append(event)
        self._wrote()

    def put_latest(self, key: Hashable, value: Event | Thunk) -> None:
        slot = self._slots.get(key)
        if slot is not None:
            slot.value = value
            self.stats.coalesced += 1
            self.stats.put += 1
            return
        slot = _Slot(key, value)
        self._slots[key] = slot
        self._items.append(slot)
        self._wrote()

    def _wrote(self) -> None:
        stats = self.stats
        stats.put += 1
        n = len(self._items)
        stats.high_water = max(stats.high_water, n)
        if self._waiting and not self._nonempty.is_set():
            self.woke = True
        self._nonempty.set()

    def get_nowait(self) -> Event:
        """Raises asyncio.QueueEmpty when nothing is pending."""
        if not self._items:
            raise asyncio.QueueEmpty
        item = self._items.popleft()
        if not self._items:
            self._nonempty.clear()
        if type(item) is _Slot:
            del self._slots[item.key]
            value = item.value
            return value() if callable(value) else value
        if type(item) is MarketTrade:
            self._pending_trades -= 1
        return item  # type: ignore[return-value]

    async def get(self) -> Event:
        while not self._items:
            self._waiting += 1
            try:
                await self._nonempty.wait()
            finally:
                self._waiting -= 1
        return self.get_nowait()

    async def events(self) -> AsyncIterator[Event]:
        """Every event, forever (until the consuming task is cancelled)."""
        while True:
            yield await self.get()

    def drain(self) -> list[Event]:
        """Everything pending, in order (for tests and shutdown)."""
        out: list[Event] = []
        while self._items:
            out.append(self.get_nowait())
        return out
