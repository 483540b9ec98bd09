"""Stand-ins shared by the engine unit tests: a strategy that never trades and a feed that
only knows XLM/USD."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence

from tests.instruments import XLM

from krakenbot.domain.commands import Intent
from krakenbot.domain.events import Event, MarketEvent, StateEvent
from krakenbot.domain.instrument import Instrument
from krakenbot.strategy.base import StrategyView


class Quiet:
    name = "quiet"
    symbols = frozenset({"XLM/USD"})

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        return []


class NoFeed:
    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        return {"XLM/USD": XLM}

    async def events(self) -> AsyncIterator[MarketEvent | StateEvent]:
        for item in ():
            yield item
