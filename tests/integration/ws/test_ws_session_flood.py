"""Back-pressure: a slow consumer gets the latest market state, never a growing backlog."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from tests.eventually import eventually
from tests.integration.ws.ws_helpers import marketable_buy, session_running

from krakenbot.domain.events import BookStatus, BookTop, ExecutionReport
from krakenbot.sim import Sim


async def test_market_data_is_coalesced_while_the_consumer_is_behind(sim: Sim) -> None:
    async with session_running(sim, private=False, trade=False) as (session, events):
        await events.wait_for(lambda e: isinstance(e, BookTop) and e.verified)
        sim.control.pause_feed()
        await asyncio.sleep(0.05)
        events.paused.set()  # the engine stalls
        await asyncio.sleep(0.05)
        frames_before = session.stats.frames
        mids = [Decimal("0.290000") + Decimal(i % 40) * Decimal("0.000100") for i in range(400)]
        for i, mid in enumerate(mids):
            sim.control.set_mid("XLM/USD", mid)
            if i % 20 == 0:
                await asyncio.sleep(0)  # let the sim's writer and our reader run
        final = Decimal("0.301234")
        sim.control.set_mid("XLM/USD", final)
        # The reader kept reading (it never waits for the consumer)...
        await eventually(lambda: session.stats.frames >= frames_before + 200)
        # ...while the queue stayed bounded: one pending slot per (kind, symbol).
        assert len(session.inbound) <= 10
        assert session.inbound.stats.coalesced >= 100
        assert session.stats.book_failures == 0
        events.paused.clear()
        # The consumer catches up at once and sees the final state.
        await eventually(
            lambda: any(
                isinstance(e, BookTop)
                and e.verified
                and e.best_bid is not None
                and e.best_ask is not None
                and e.best_bid < final < e.best_ask
                for e in events.events[-5:]
            )
        )
        assert not [e for e in events.of(BookStatus) if not e.verified]


async def test_account_events_are_never_coalesced(sim: Sim) -> None:
    async with session_running(sim, trade=False) as (session, events):
        await eventually(lambda: session.executions.last_sequence is not None)
        orders = [await marketable_buy(events, f"flood-{i}") for i in range(3)]
        events.paused.set()  # the engine stalls while fills stream in
        for order in orders:
            await session.trading.add_order(order)
        await eventually(lambda: len(sim.control.trades()) >= 3)
        await eventually(lambda: session.inbound.stats.put >= 15)
        events.paused.clear()
        await eventually(
            lambda: len({e.fill.trade_id for e in events.of(ExecutionReport) if e.fill}) >= 3
        )
        for order in orders:
            kinds = [
                r.exec_type.value
                for r in events.of(ExecutionReport)
                if r.cl_ord_id == order.cl_ord_id
            ]
            assert kinds[:2] == ["pending_new", "new"] and kinds[-1] == "filled"
            assert kinds.count("pending_new") == 1
