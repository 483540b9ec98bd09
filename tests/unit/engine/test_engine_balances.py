"""Balance checks compare like with like: a fill the exchange's balances may or may not
contain yet is never a mismatch (issue 11, item 1), a real difference still trips the
breaker. Paper venue, real ledger, ManualClock; the venue's event stream is not consumed, so
fills reach the engine only through reconciliation, as after a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal as D
from pathlib import Path

import pytest
from enginekit import START_NS, paper_engine, xlm_top
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import OrderIntent
from krakenbot.domain.enums import OrderType, Side
from krakenbot.domain.events import Fill
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.paper.venue import PaperVenue
from krakenbot.resilience.breaker import BreakerState
from krakenbot.store import LedgerRepository, open_ledger

START = {"USD": D("100"), "XLM": D("0")}
BUY = OrderIntent("XLM/USD", Side.BUY, OrderType.LIMIT, D("30"), D("0.289"), post_only=True)


@pytest.fixture
async def ledger(tmp_path: Path) -> AsyncIterator[tuple[LedgerRepository, ManualClock]]:
    clock = ManualClock(start_ns=START_NS)
    db = await open_ledger(tmp_path / "t.db", clock)
    try:
        yield LedgerRepository(db, clock), clock
    finally:
        await db.close()


async def resting_buy(engine: Engine, venue: PaperVenue, clock: ManualClock) -> None:
    book = xlm_top(clock.now_ns(), "0.289", "0.291")
    venue.on_book(book)
    await engine.post(book)
    await engine.submit([BUY])
    await engine.drain(1.0)


def fill_it(venue: PaperVenue, clock: ManualClock) -> None:
    """The market trades through our bid: the paper venue fills the order at once."""
    venue.on_book(xlm_top(clock.now_ns(), "0.285", "0.287"))


async def test_a_fill_after_the_start_up_balances_is_no_mismatch(
    ledger: tuple[LedgerRepository, ManualClock],
) -> None:
    repo, clock = ledger
    venue = PaperVenue({"XLM/USD": XLM}, START, clock=clock)
    engine = await paper_engine(venue, repo, clock)  # start-up balances: before the fill
    await resting_buy(engine, venue, clock)
    fill_it(venue, clock)  # ... lands before the start-up reconciliation
    await engine.reconcile("start-up")
    assert engine.core.portfolio.position("XLM/USD") == D("30")
    assert engine.breaker.state is BreakerState.CLOSED
    assert await repo.events("balance_mismatch") == []
    assert engine.core.account.available() == await venue.balances()
    await engine.reconcile("periodic")  # comparable now: taken over, no mismatch
    assert engine.core.account.confirmed == await venue.balances()
    assert engine.breaker.state is BreakerState.CLOSED


async def test_a_fill_while_the_daemon_was_away_counts_once(
    ledger: tuple[LedgerRepository, ManualClock],
) -> None:
    repo, clock = ledger
    venue = PaperVenue({"XLM/USD": XLM}, START, clock=clock)
    await resting_buy(await paper_engine(venue, repo, clock), venue, clock)
    fill_it(venue, clock)  # the daemon is down; it restarts a second later
    clock.advance(1)
    engine = await paper_engine(venue, repo, clock)  # start-up balances include the fill
    await engine.reconcile("start-up")
    assert engine.core.portfolio.position("XLM/USD") == D("30")
    assert engine.core.account.available() == await venue.balances()  # not counted twice
    await engine.reconcile("periodic")
    assert engine.breaker.state is BreakerState.CLOSED
    assert await repo.events("balance_mismatch") == []


async def test_a_real_difference_still_trips_the_breaker(
    ledger: tuple[LedgerRepository, ManualClock],
) -> None:
    repo, clock = ledger
    venue = PaperVenue({"XLM/USD": XLM}, START, clock=clock)
    engine = await paper_engine(venue, repo, clock)
    await resting_buy(engine, venue, clock)
    fill_it(venue, clock)
    await engine.reconcile("start-up")
    venue._balances["USD"] -= D("5")  # money moved that no fill of ours explains
    await engine.reconcile("periodic")
    assert engine.breaker.state is BreakerState.OPEN
    (event,) = await repo.events("balance_mismatch")
    assert event.payload["detail"].startswith("USD: ours")


class FillsAfterTheTradeQuery(PaperVenue):
    """The market fills our bid right after the trade history has been answered."""

    clock: ManualClock

    async def trades_history(self, since_ns: int) -> Sequence[Fill]:
        found = await super().trades_history(since_ns)
        fill_it(self, self.clock)
        return found


async def test_a_fill_while_reconciliation_queries_is_no_mismatch(
    ledger: tuple[LedgerRepository, ManualClock],
) -> None:
    repo, clock = ledger
    venue = FillsAfterTheTradeQuery({"XLM/USD": XLM}, START, clock=clock)
    venue.clock = clock
    engine = await paper_engine(venue, repo, clock)
    await resting_buy(engine, venue, clock)
    await engine.reconcile("periodic")  # the balances must not show a fill we cannot know
    assert engine.breaker.state is BreakerState.CLOSED
    assert await repo.events("balance_mismatch") == []
    await engine.reconcile("next")  # the fill is found now; still no mismatch
    assert engine.core.portfolio.position("XLM/USD") == D("30")
    assert engine.breaker.state is BreakerState.CLOSED
    await engine.reconcile("after")
    assert engine.core.account.confirmed == await venue.balances()
