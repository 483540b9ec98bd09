"""Stand-ins shared by the engine unit tests: a strategy that never trades, a feed that
only knows XLM/USD, a loaded engine over a paper venue on a ManualClock (`paper_engine`),
`quiet_engine` (an engine that never trades, over any venue, with USD 100 and small limits),
`Kit` (such an engine driven step by step: books, orders, venue reports pumped by hand) and
`NoStops` (a paper venue that refuses every protective stop)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from decimal import Decimal as D

from tests.instruments import XLM

from krakenbot.clock import Clock, ManualClock
from krakenbot.domain.commands import Intent, OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, Event, MarketEvent, PriceLevel, StateEvent, TimerTick
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import Order
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.core import EngineCore
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.errors import RejectedError
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.paper.venue import PaperVenue
from krakenbot.ports import MarketFeed, OrderJournal, Repository, Venue
from krakenbot.resilience.breaker import CircuitBreaker
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits, RiskLimits
from krakenbot.store import LedgerRepository
from krakenbot.strategy.base import Strategy, StrategyView

START_NS = 1_763_776_800_000_000_000
SYM = "XLM/USD"
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
    journal: OrderJournal | None = None,
) -> Engine:
    """A core and its runner, wired as app/trading_stack.py wires them."""
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
    return Engine(
        core, venue=venue, feed=feed, repo=repo, clock=clock, breaker=breaker, journal=journal
    )


async def paper_engine(
    venue: PaperVenue,
    repo: LedgerRepository,
    clock: ManualClock,
    *,
    breaker: BreakerLimits | None = None,
    limits: RiskLimits = LIMITS,
    journal: OrderJournal | None = None,
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
        journal=journal,
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


class Kit:
    def __init__(
        self, engine: Engine, venue: PaperVenue, repo: LedgerRepository, clock: ManualClock
    ) -> None:
        self.engine, self.venue, self.repo, self.clock = engine, venue, repo, clock

    async def settle(self) -> None:
        """Let every send finish and every venue report reach the engine."""
        for _ in range(20):
            await self.engine.drain(1.0)
            queue = self.venue._queue
            if queue.empty():
                return
            while not queue.empty():
                await self.engine.post(queue.get_nowait())

    async def book(self, bid: str, ask: str) -> None:
        book = xlm_top(self.clock.now_ns(), bid, ask)
        self.venue.on_book(book)
        await self.engine.post(book)
        await self.settle()

    async def thin_book(self, bid: str, ask: str, ask_qty: str) -> None:
        """A book whose best ask (at or below our bid) shows only `ask_qty`."""
        now = self.clock.now_ns()
        book = BookTop(
            SYM,
            (PriceLevel(D(bid), D("100")),),
            (PriceLevel(D(ask), D(ask_qty)),),
            True,
            now,
            now,
        )
        self.venue.on_book(book)
        await self.engine.post(book)
        await self.settle()

    async def thin_book_bid(self, bid: str, bid_qty: str) -> None:
        """A book whose best bid shows only `bid_qty` (an IOC sell takes no more)."""
        now = self.clock.now_ns()
        book = BookTop(
            SYM,
            (PriceLevel(D(bid), D(bid_qty)),),
            (PriceLevel(D(bid) + D("0.001"), D("100")),),
            True,
            now,
            now,
        )
        self.venue.on_book(book)
        await self.engine.post(book)
        await self.settle()

    async def tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        await self.engine.post(TimerTick(self.clock.now_ns()))
        await self.settle()

    async def buy(self, qty: str, price: str) -> None:
        intent = OrderIntent(SYM, Side.BUY, OrderType.LIMIT, D(qty), D(price), post_only=True)
        await self.engine.submit([intent])
        await self.settle()

    async def sell_ioc(self, qty: str, price: str, tag: str = "stop_loss") -> None:
        intent = OrderIntent(
            SYM,
            Side.SELL,
            OrderType.LIMIT,
            D(qty),
            D(price),
            time_in_force=TimeInForce.IOC,
            reduces_position=True,
            tag=tag,
        )
        await self.engine.submit([intent])
        await self.settle()

    def stops(self) -> list[Order]:
        return [o for o in self.engine.core.registry.live() if o.tag == PROTECT_TAG]

    async def long(self, qty: str = "30") -> Order:
        """An entry at 0.289 that fills; returns the protective stop that follows."""
        await self.book("0.289", "0.291")
        await self.buy(qty, "0.289")
        await self.book("0.287", "0.288")  # the market trades through the bid: filled
        [stop] = self.stops()
        return stop


class NoStops(PaperVenue):
    """Kraken refuses the protective stop (say the funds are held elsewhere)."""

    async def place(self, command: PlaceOrder) -> None:
        if command.order_type is OrderType.STOP_LOSS:
            raise RejectedError("EOrder:Insufficient funds", endpoint="AddOrder")
        await super().place(command)
