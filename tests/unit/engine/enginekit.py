"""Stand-ins shared by the engine unit tests: a strategy that never trades, a feed that
only knows XLM/USD, a loaded engine over a paper venue on a ManualClock (`paper_engine`), and
`quiet_engine` (an engine that never trades, over any venue, with USD 100 and small limits)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal

from tests.instruments import XLM

from krakenbot.clock import Clock, ManualClock
from krakenbot.domain.commands import Intent
from krakenbot.domain.events import BookTop, Event, MarketEvent, PriceLevel, StateEvent
from krakenbot.domain.instrument import Instrument
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.core import EngineCore
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.paper.venue import PaperVenue
from krakenbot.ports import MarketFeed, Repository, Venue
from krakenbot.resilience.breaker import CircuitBreaker
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits, RiskLimits
from krakenbot.store import LedgerRepository
from krakenbot.strategy.base import Strategy, StrategyView

START_NS = 1_763_776_800_000_000_000
LIMITS = RiskLimits(
    allowed_symbols=frozenset({"XLM/USD"}),
    max_trade_usd=Decimal("10"),
    min_order_usd=Decimal("1"),
    max_total_exposure_usd=Decimal("10"),
    max_positions=1,
    max_daily_loss_usd=Decimal("5"),
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


def xlm_top(now_ns: int, bid: str, ask: str) -> BookTop:
    """A verified XLM/USD top of book received at `now_ns`."""
    return BookTop(
        "XLM/USD",
        (PriceLevel(Decimal(bid), Decimal("100")),),
        (PriceLevel(Decimal(ask), Decimal("100")),),
        True,
        now_ns,
        now_ns,
    )


def build_engine(
    *,
    strategy: Strategy,
    gate: RiskGate,
    policy: BreakerPolicy,
    breaker: CircuitBreaker,
    venue: Venue,
    feed: MarketFeed,
    repo: Repository,
    clock: Clock,
    rng: random.Random,
    instruments: Mapping[str, Instrument],
    balances: Mapping[str, Decimal] | None = None,
    config: EngineConfig | None = None,
) -> Engine:
    """A core and its runner, wired as app/stack.py wires them."""
    core = EngineCore(
        strategies=(strategy,),
        gate=gate,
        policy=policy,
        instruments=instruments,
        rng=rng,
        balances=balances,
        config=config,
        started_ns=clock.now_ns(),
    )
    return Engine(core, venue=venue, feed=feed, repo=repo, clock=clock, breaker=breaker)


async def paper_engine(
    venue: PaperVenue,
    repo: LedgerRepository,
    clock: ManualClock,
    *,
    breaker: BreakerLimits | None = None,
    limits: RiskLimits = LIMITS,
) -> Engine:
    """A loaded engine whose start-up balances are the venue's (as the stack does)."""
    engine = build_engine(
        strategy=Quiet(),
        gate=RiskGate(limits),
        policy=BreakerPolicy(breaker or BreakerLimits()),
        breaker=CircuitBreaker(clock, threshold=5, cooldown_s=300),
        venue=venue,
        feed=NoFeed(),
        repo=repo,
        clock=clock,
        rng=random.Random(1),
        instruments={"XLM/USD": XLM},
        balances=await venue.balances(),
        config=EngineConfig(),
    )
    await engine.load()
    return engine


def quiet_engine(venue: Venue, repo: LedgerRepository, clock: ManualClock) -> Engine:
    """An engine that never trades by itself, over `venue`, with USD 100 and small limits."""
    return build_engine(
        strategy=Quiet(),
        gate=RiskGate(LIMITS),
        policy=BreakerPolicy(BreakerLimits()),
        breaker=CircuitBreaker(clock, threshold=5, cooldown_s=300),
        venue=venue,
        feed=NoFeed(),
        repo=repo,
        clock=clock,
        rng=random.Random(1),
        instruments={"XLM/USD": XLM},
        balances={"USD": Decimal("100")},
    )
