"""The engine with a ledger that stops accepting writes: unhealthy at the first failure, no
new order while failing, `run_ledger_watch` raises after the grace period (ManualClock) and a
write that succeeds again clears everything. Paper venue, real ledger, injected failures."""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal as D
from pathlib import Path

import pytest
from enginekit import build_engine
from test_engine_core import LIMITS, XLM, NoFeed, top

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import Intent, OrderIntent
from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.events import BookTop, CancelRejected, Event
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.ledger_watch import LedgerUnwritableError
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.engine.services import run_ledger_watch
from krakenbot.paper.venue import PaperVenue
from krakenbot.resilience.breaker import CircuitBreaker
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits
from krakenbot.store import LedgerRepository, open_ledger
from krakenbot.strategy.base import StrategyView

S = 1_000_000_000
GRACE_S = 30.0


class BuyOnEveryBook:
    name = "buy_on_every_book"
    symbols = frozenset({"XLM/USD"})

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if not isinstance(event, BookTop) or view.working_orders("XLM/USD"):
            return []
        return [
            OrderIntent(
                symbol="XLM/USD",
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                qty=D("30"),
                limit_price=D("0.289"),
                post_only=True,
                tag="entry",
            )
        ]


class Switchable:
    """The real ledger whose writes fail like a locked SQLite file while `broken` (and,
    when `until_ns` is set, only until that monotonic time). The first failing write of a
    run first waits `first_wait_s` (SQLite's busy timeout; store/lock_wait.py: later ones
    fail fast until a write gets through)."""

    WRITES = frozenset(
        {"insert_order", "add_order", "update_order", "insert_fill", "record_event", "set_state"}
        | {"record_metrics", "open_learning_entry", "close_learning_entry"}
    )

    def __init__(self, inner: LedgerRepository) -> None:
        self.inner = inner
        self.broken = False
        self.until_ns: int | None = None
        self.first_wait_s = 0.0
        self.locked_out = False
        self.attempts = 0
        self.clock: ManualClock | None = None

    def __getattr__(self, name: str) -> object:
        target = getattr(self.inner, name)
        if name not in self.WRITES:
            return target

        async def write(*args: object, **kw: object) -> object:
            self.attempts += 1
            if self._broken():
                if not self.locked_out and self.clock is not None:
                    self.clock.advance(self.first_wait_s)
                self.locked_out = True
                raise sqlite3.OperationalError("database is locked")
            self.locked_out = False
            return await target(*args, **kw)

        return write

    def _broken(self) -> bool:
        if not self.broken:
            return False
        return (
            self.until_ns is None or self.clock is None or self.clock.monotonic_ns() < self.until_ns
        )


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[tuple[Engine, Switchable, ManualClock]]:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    ledger = Switchable(LedgerRepository(db, clock))
    ledger.clock = clock
    engine = build_engine(
        strategy=BuyOnEveryBook(),
        gate=RiskGate(LIMITS),
        policy=BreakerPolicy(BreakerLimits()),
        breaker=CircuitBreaker(clock, threshold=5, cooldown_s=300),
        venue=PaperVenue({"XLM/USD": XLM}, {"USD": D("100")}, clock=clock),
        feed=NoFeed(),
        repo=ledger,  # type: ignore[arg-type]
        clock=clock,
        rng=random.Random(1),
        instruments={"XLM/USD": XLM},
        balances={"USD": D("100")},
        config=EngineConfig(
            require_private_ws=False, ledger_failure_grace_s=GRACE_S, ledger_check_s=1.0
        ),
    )
    await engine.load()
    try:
        yield engine, ledger, clock
    finally:
        await engine.quiesce(1.0)
        await db.close()


async def _fail_a_write(engine: Engine, ledger: Switchable, clock: ManualClock) -> None:
    ledger.broken = True
    await engine.post(CancelRejected("kbx", "OX", "EOrder:Unknown order", clock.now_ns()))


async def test_one_failed_write_makes_the_engine_unhealthy_and_refuses_new_orders(
    rig: tuple[Engine, Switchable, ManualClock],
) -> None:
    engine, ledger, clock = rig
    assert engine.healthy()
    await _fail_a_write(engine, ledger, clock)
    assert not engine.healthy()
    health = engine.health()
    assert "record_event" in health.ledger_error and "locked" in health.ledger_error
    attempts = ledger.attempts
    await engine.post(top(clock, "0.289", "0.291"))  # the strategy wants to buy
    assert engine.core.ledger_refusals == 1 and ledger.attempts == attempts  # not even tried
    assert engine.core.registry.all() == [] and engine.executor.orders_sent == 0


async def test_writes_failing_for_the_grace_period_stop_the_engine(
    rig: tuple[Engine, Switchable, ManualClock],
) -> None:
    engine, ledger, clock = rig
    await _fail_a_write(engine, ledger, clock)
    started = clock.monotonic_ns()
    with pytest.raises(LedgerUnwritableError, match=r"record_event|set_state"):
        async with asyncio.timeout(5):
            await run_ledger_watch(engine)
    waited = (clock.monotonic_ns() - started) / S
    assert GRACE_S <= waited <= GRACE_S + 1.5
    failing = engine.ledger.failing
    assert failing is not None and failing.count > 1  # it kept probing meanwhile


async def test_the_grace_counts_from_the_failed_attempt_not_from_its_busy_timeout(
    rig: tuple[Engine, Switchable, ManualClock],
) -> None:
    engine, ledger, clock = rig
    ledger.first_wait_s = 5.0  # the first locked write gives up after the busy timeout
    started = clock.monotonic_ns()
    await _fail_a_write(engine, ledger, clock)
    failing = engine.ledger.failing
    assert failing is not None and failing.since_ns == started  # attempted then
    assert (failing.last_ns - started) / S == 5.0  # gave up then
    with pytest.raises(LedgerUnwritableError):
        async with asyncio.timeout(5):
            await run_ledger_watch(engine)
    # Stopped when the grace ran out after the first attempt: not 5 s later (when it gave
    # up) nor at the next check after that.
    assert (clock.monotonic_ns() - started) / S == GRACE_S


async def test_a_lock_gone_when_the_grace_runs_out_stops_nothing(
    rig: tuple[Engine, Switchable, ManualClock],
) -> None:
    engine, ledger, clock = rig
    started = clock.monotonic_ns()
    ledger.until_ns = started + int(GRACE_S * S)  # released just as the grace runs out
    await _fail_a_write(engine, ledger, clock)
    watch = asyncio.create_task(run_ledger_watch(engine))
    async with asyncio.timeout(10):  # real time: the probe is real SQLite I/O
        while engine.ledger.failing is not None:
            assert not watch.done(), "stopped although the last probe could write"
            await asyncio.sleep(0)
    assert clock.monotonic_ns() - started == int(GRACE_S * S)  # the probe at the deadline
    assert "ledger writable again" in engine.reconcile_reasons
    engine.request_stop("test over")
    async with asyncio.timeout(5):
        await watch  # returns quietly on stop


async def test_a_write_that_succeeds_again_clears_the_condition(
    rig: tuple[Engine, Switchable, ManualClock],
) -> None:
    engine, ledger, clock = rig
    await _fail_a_write(engine, ledger, clock)
    ledger.broken = False
    watch = asyncio.create_task(run_ledger_watch(engine))
    async with asyncio.timeout(10):  # bounded in real time: the probe is real SQLite I/O
        for _ in itertools.count():
            if engine.ledger.failing is None:
                break
            await asyncio.sleep(0)
    assert engine.healthy() and engine.health().ledger_error == ""
    # What could not be recorded meanwhile (a fill report) is fetched from the exchange.
    assert "ledger writable again" in engine.reconcile_reasons
    assert await ledger.inner.get_state("ledger_probe") is not None
    clock.advance(2 * GRACE_S)
    await asyncio.sleep(0)
    assert not watch.done()  # cleared: nothing is overdue however long it runs
    await engine.post(top(clock, "0.289", "0.291"))
    assert len(engine.core.registry.all()) == 1  # trading resumed
    engine.request_stop("test over")
    async with asyncio.timeout(5):
        await watch  # returns quietly on stop
