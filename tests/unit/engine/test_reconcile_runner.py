"""The reconciliation runner's lookup pass: an acknowledged order missing from the open and
closed lists is looked up by txid (QueryOrders), never guessed; what the lookup explains is
applied, fills come from trade history only."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from decimal import Decimal as D
from pathlib import Path

from enginekit import paper_engine, xlm_top
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import CancelOrder, OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, Side
from krakenbot.domain.order import OrderSnapshot
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.paper.venue import PaperVenue
from krakenbot.store import LedgerRepository, open_ledger
from krakenbot.store.db import Database


class ForgetfulVenue(PaperVenue):
    """Lists nothing (as if the order closed outside the queried window) but answers
    QueryOrders by txid."""

    looked_up: list[str]

    async def open_orders(self) -> Sequence[OrderSnapshot]:
        return []

    async def closed_orders(self, since_ns: int) -> Sequence[OrderSnapshot]:
        return []

    async def query_orders(self, order_ids: Sequence[str]) -> Sequence[OrderSnapshot]:
        self.looked_up = list(order_ids)
        return await super().query_orders(order_ids)


async def engine_with_an_entry(
    venue: PaperVenue, repo: LedgerRepository, clock: ManualClock
) -> Engine:
    """A loaded engine with a book and one submitted entry (its send may still be running)."""
    engine = await paper_engine(venue, repo, clock)
    book = xlm_top(clock.now_ns(), "0.289", "0.291")
    venue.on_book(book)
    await engine.post(book)
    await engine.submit(
        [OrderIntent("XLM/USD", Side.BUY, OrderType.LIMIT, D("30"), D("0.289"), post_only=True)]
    )
    return engine


async def test_missing_acknowledged_order_is_resolved_by_lookup(tmp_path: Path) -> None:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    try:
        venue = ForgetfulVenue({"XLM/USD": XLM}, {"USD": D("100")}, clock=clock)
        engine = await engine_with_an_entry(venue, repo, clock)
        await engine.drain(1.0)
        accepted = venue._queue.get_nowait()  # the ack reaches the engine ...
        await engine.post(accepted)
        venue.on_book(xlm_top(clock.now_ns(), "0.285", "0.287"))  # ... the fill never does
        order = engine.core.registry.all()[0]
        assert order.order_id is not None and order.status is OrderStatus.OPEN
        assert await engine.reconcile("test") >= 1
        assert venue.looked_up == [order.order_id]
        done = engine.core.registry.get(order.cl_ord_id)
        assert done is not None and done.status is OrderStatus.FILLED
        assert engine.core.portfolio.position("XLM/USD") == D("30")
        kinds = [e.payload["kind"] for e in await repo.events("reconcile")]
        assert kinds == ["missing_fill", "lookup_required"]
    finally:
        await db.close()


class SlowVenue(PaperVenue):
    """An AddOrder that takes as long as the test says (ambiguous answers, deadline waits and
    re-sends can make one outlive the absence window); lists nothing meanwhile."""

    release: asyncio.Event

    async def place(self, command: PlaceOrder) -> None:
        await self.release.wait()
        await super().place(command)

    async def open_orders(self) -> Sequence[OrderSnapshot]:
        return [] if not self.release.is_set() else await super().open_orders()

    async def closed_orders(self, since_ns: int) -> Sequence[OrderSnapshot]:
        return [] if not self.release.is_set() else await super().closed_orders(since_ns)


async def test_an_order_still_being_sent_is_never_declared_absent(tmp_path: Path) -> None:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    try:
        venue = SlowVenue({"XLM/USD": XLM}, {"USD": D("100")}, clock=clock)
        venue.release = asyncio.Event()
        engine = await engine_with_an_entry(venue, repo, clock)
        (order,) = engine.core.registry.all()
        clock.advance(600)  # far past the absence window, the send still running
        await engine.reconcile("test")
        pending = engine.core.registry.get(order.cl_ord_id)
        assert pending is not None and pending.status is OrderStatus.PENDING_NEW
        kinds = [e.payload["kind"] for e in await repo.events("reconcile")]
        assert "provably_absent" not in kinds and "lookup_required" in kinds
        venue.release.set()  # the send lands after all: the order is ours and tracked
        await engine.drain(1.0)
        await engine.post(venue._queue.get_nowait())
        placed = engine.core.registry.get(order.cl_ord_id)
        assert placed is not None and placed.status is OrderStatus.OPEN
    finally:
        await db.close()


class CountingVenue(PaperVenue):
    """Counts the QueryOrders lookups (the shutdown's one lookup of the exits it cancelled)."""

    lookups = 0

    async def query_orders(self, order_ids: Sequence[str]) -> Sequence[OrderSnapshot]:
        self.lookups += 1
        return await super().query_orders(order_ids)


async def _acknowledged(tmp_path: Path) -> tuple[Engine, CountingVenue, ManualClock, Database]:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    venue = CountingVenue({"XLM/USD": XLM}, {"USD": D("100")}, clock=clock)
    engine = await engine_with_an_entry(venue, LedgerRepository(db, clock), clock)
    await engine.drain(1.0)
    await engine.post(venue._queue.get_nowait())  # the ack
    return engine, venue, clock, db


async def test_a_cancelled_order_is_settled_by_one_lookup(tmp_path: Path) -> None:
    engine, venue, _, db = await _acknowledged(tmp_path)
    try:
        (order,) = engine.core.registry.all()
        await venue.cancel(CancelOrder(order.cl_ord_id, order.order_id))  # its report is lost
        assert await engine.reconciler.settle_closed("test", frozenset({order.cl_ord_id}))
        done = engine.core.registry.get(order.cl_ord_id)
        assert done is not None and done.status is OrderStatus.CANCELED
        assert venue.lookups == 1
    finally:
        await db.close()


async def test_an_order_that_filled_is_left_to_the_full_reconciliation(tmp_path: Path) -> None:
    engine, venue, clock, db = await _acknowledged(tmp_path)
    try:
        (order,) = engine.core.registry.all()
        venue.on_book(xlm_top(clock.now_ns(), "0.285", "0.287"))  # filled; the report is lost
        assert not await engine.reconciler.settle_closed("test", frozenset({order.cl_ord_id}))
        still = engine.core.registry.get(order.cl_ord_id)
        assert still is not None and still.status is OrderStatus.OPEN  # nothing applied
        assert venue.lookups == 1
        # Unknown ids, or an order with no txid yet: no lookup at all.
        assert not await engine.reconciler.settle_closed("test", frozenset({"kbnotours"}))
        assert not await engine.reconciler.settle_closed("test", frozenset())
        assert venue.lookups == 1
    finally:
        await db.close()


async def test_a_buy_that_filled_unseen_tells_no_sale(tmp_path: Path) -> None:
    """The shutdown sizes a stop by what its cancelled exits sold unseen (`sold`); a buy of
    ours that filled unseen makes the position larger instead: nothing said, the full
    reconciliation sizes it."""
    engine, venue, clock, db = await _acknowledged(tmp_path)
    try:
        (order,) = engine.core.registry.all()
        venue.on_book(xlm_top(clock.now_ns(), "0.285", "0.287"))  # filled; the report is lost
        found = await engine.reconciler.look_up_closed("test", frozenset({order.cl_ord_id}))
        assert not found.settled and dict(found.sold) == {}
        assert venue.lookups == 1
    finally:
        await db.close()
