"""The market pump handles each event in its own task (`post(in_place=True)`, issue 14: no
task to start before an order's row is written), and stopping it still never cuts the
handling of an event short: the row is committed and the order sent, however often the
service is cancelled meanwhile, and the pump takes no further event."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal as D
from pathlib import Path

from enginekit import START_NS, build_engine, xlm_top
from test_executor import LIMITS, FakeVenue
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import Intent, OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.events import BookTop, Event, MarketEvent, StateEvent
from krakenbot.domain.instrument import Instrument
from krakenbot.engine import services
from krakenbot.engine.runner import EngineRunner
from krakenbot.resilience.breaker import CircuitBreaker
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits
from krakenbot.store import LedgerRepository, open_ledger
from krakenbot.strategy.base import StrategyView


class Buyer:
    """Buys on every book; notes the task each decision ran in."""

    name = "buyer"
    symbols = frozenset({"XLM/USD"})

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[object] | None] = []

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if not isinstance(event, BookTop):
            return []
        self.tasks.append(asyncio.current_task())
        qty = D("20") + len(self.tasks)  # each order its own
        return [
            OrderIntent(
                "XLM/USD", Side.BUY, OrderType.LIMIT, qty, D("0.289"), post_only=True, tag="t"
            )
        ]


class Books:
    """Two books, then nothing (the pump waits for more)."""

    def __init__(self) -> None:
        self.never = asyncio.Event()

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        return {"XLM/USD": XLM}

    async def events(self) -> AsyncIterator[MarketEvent | StateEvent]:
        yield xlm_top(START_NS, "0.289", "0.291")
        yield xlm_top(START_NS + 1, "0.289", "0.291")
        await self.never.wait()


class HeldLedger:
    """The real ledger; an order's row write waits for `release` and notes its task."""

    def __init__(self, inner: LedgerRepository) -> None:
        self.inner = inner
        self.release = asyncio.Event()
        self.entered = asyncio.Event()
        self.tasks: list[asyncio.Task[object] | None] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def add_order(self, order: PlaceOrder, **kw: object) -> None:
        self.tasks.append(asyncio.current_task())
        self.entered.set()
        await self.release.wait()
        await self.inner.add_order(order, **kw)  # type: ignore[arg-type]


async def _engine(tmp_path: Path) -> tuple[EngineRunner, Buyer, HeldLedger, FakeVenue, object]:
    clock = ManualClock(start_ns=START_NS)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    buyer, ledger, venue = Buyer(), HeldLedger(repo), FakeVenue(repo=repo)
    runner = build_engine(
        strategy=buyer,
        gate=RiskGate(LIMITS),
        policy=BreakerPolicy(BreakerLimits()),
        breaker=CircuitBreaker(clock, threshold=5, cooldown_s=300),
        venue=venue,
        feed=Books(),
        repo=ledger,  # type: ignore[arg-type]
        clock=clock,
        rng=random.Random(3),
        instruments={"XLM/USD": XLM},
        balances={"USD": D("100")},
    )
    return runner, buyer, ledger, venue, db


async def test_a_market_event_is_handled_and_its_row_written_in_the_pumps_own_task(
    tmp_path: Path,
) -> None:
    runner, buyer, ledger, venue, db = await _engine(tmp_path)
    service = asyncio.ensure_future(services.run_market(runner))
    async with asyncio.timeout(5):
        await ledger.entered.wait()
    assert ledger.tasks == buyer.tasks[:1]  # no task started in between
    ledger.release.set()
    runner.request_stop("test over")
    async with asyncio.timeout(5):
        await service
    await runner.quiesce(1.0)
    assert len(venue.placed) == 1 and venue.persisted_before_send == [True]
    await db.close()  # type: ignore[attr-defined]


async def test_stopping_the_market_pump_never_cuts_an_event_short(tmp_path: Path) -> None:
    runner, buyer, ledger, venue, db = await _engine(tmp_path)
    service = asyncio.ensure_future(services.run_market(runner))
    async with asyncio.timeout(5):
        await ledger.entered.wait()  # the first book's order: its row being written
    runner.request_stop("stop")
    await asyncio.sleep(0)
    service.cancel()  # as a TaskGroup would, and again
    await asyncio.sleep(0)
    service.cancel()
    await asyncio.sleep(0.01)
    assert venue.placed == [] and runner.inflight  # still handling, nothing cut
    ledger.release.set()
    async with asyncio.timeout(5):
        await asyncio.gather(service, return_exceptions=True)
        while runner.inflight:  # noqa: ASYNC110 - bounded: the handling finishes
            await asyncio.sleep(0.001)
    await runner.quiesce(1.0)
    # The order's row was committed and the order sent; the second book was never taken.
    assert len(venue.placed) == 1 and venue.persisted_before_send == [True]
    assert len(buyer.tasks) == 1 and runner.executor.sending == set()
    assert not runner.lock.locked()
    await db.close()  # type: ignore[attr-defined]
