"""The gate's order-rate limit ("N new orders per window") survives a restart: the engine
rebuilds the window from the ledger at start-up (issue 11, item 4), so a crash loop cannot
send more than N entries in one window."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

from enginekit import LIMITS, START_NS, paper_engine, xlm_top
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import OrderIntent
from krakenbot.domain.enums import OrderType, Side
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.paper.venue import PaperVenue
from krakenbot.risk.decision import Rule
from krakenbot.store import LedgerRepository, open_ledger

TWO_PER_MINUTE = replace(LIMITS, max_total_exposure_usd=D("100"), max_orders_per_window=2)


def entry(price: str) -> OrderIntent:
    return OrderIntent("XLM/USD", Side.BUY, OrderType.LIMIT, D("15"), D(price), post_only=True)


async def decide(engine: Engine, clock: ManualClock, price: str) -> Rule | None:
    """One entry with a fresh book; the rule that denied it, or None if it was placed."""
    await engine.post(xlm_top(clock.now_ns(), "0.289", "0.291"))
    denials = engine.core.manager.denials
    await engine.submit([entry(price)])
    await engine.drain(1.0)
    last = engine.core.manager.last_denial
    return last.rule if engine.core.manager.denials > denials and last is not None else None


async def test_the_order_rate_window_survives_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(start_ns=START_NS)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    try:
        venue = PaperVenue({"XLM/USD": XLM}, {"USD": D("1000")}, clock=clock)
        first = await paper_engine(venue, repo, clock, limits=TWO_PER_MINUTE)
        assert await decide(first, clock, "0.289") is None
        clock.advance(5)
        assert await decide(first, clock, "0.288") is None
        clock.advance(5)  # the process dies and starts again at once
        again = await paper_engine(venue, repo, clock, limits=TWO_PER_MINUTE)
        assert await decide(again, clock, "0.287") is Rule.ORDER_RATE
        clock.advance(50)  # the first entry leaves the window
        assert await decide(again, clock, "0.287") is None
        assert len(await repo.orders_since(0)) == 3
    finally:
        await db.close()
