"""Stand-ins shared by the engine unit tests: a strategy that never trades, a feed that only
knows XLM/USD, and `quiet_engine` (an engine with both, small limits and a given venue)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal as D

from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import Intent
from krakenbot.domain.events import Event, MarketEvent, StateEvent
from krakenbot.domain.instrument import Instrument
from krakenbot.engine.engine import Engine
from krakenbot.ports import Venue
from krakenbot.resilience.breaker import CircuitBreaker
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits, RiskLimits
from krakenbot.store import LedgerRepository
from krakenbot.strategy.base import StrategyView

SMALL_LIMITS = RiskLimits(
    allowed_symbols=frozenset({"XLM/USD"}),
    max_trade_usd=D("10"),
    min_order_usd=D("1"),
    max_total_exposure_usd=D("10"),
    max_positions=1,
    max_daily_loss_usd=D("5"),
)


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


def quiet_engine(venue: Venue, repo: LedgerRepository, clock: ManualClock) -> Engine:
    """An engine that never trades by itself, over `venue`, with USD 100 and small limits."""
    return Engine(
        strategy=Quiet(),
        gate=RiskGate(SMALL_LIMITS),
        policy=BreakerPolicy(BreakerLimits()),
        breaker=CircuitBreaker(clock, threshold=5, cooldown_s=300),
        venue=venue,
        feed=NoFeed(),
        repo=repo,
        clock=clock,
        rng=random.Random(1),
        instruments={"XLM/USD": XLM},
        balances={"USD": D("100")},
    )
