"""The reconciliation window (engine/reconcile_window.py, engine/reconciler.py): each run asks
for the history since the mark the last complete run left, less the overlap, the mark lives
in the ledger so a restart goes on from it, and a long run (or an order resting for hours)
never makes a run read more. Runner over a paper venue that records what it was asked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal as D
from pathlib import Path

import pytest
from enginekit import paper_engine, xlm_top
from test_reconcile_runner import engine_with_an_entry
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import OrderStatus, OrderType, Side
from krakenbot.domain.events import Fill
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.engine.config import ReconcileConfig
from krakenbot.engine.reconcile_window import MARK_KEY, parse_mark, window_start
from krakenbot.engine.runner import EngineRunner as Engine
from krakenbot.errors import TransientError
from krakenbot.paper.venue import PaperVenue
from krakenbot.store import LedgerRepository, open_ledger

T0 = 1_763_776_800_000_000_000
NS = 1_000_000_000
CFG = ReconcileConfig()
OVERLAP = int(CFG.overlap_s * NS)
LOOKBACK = int(CFG.lookback_s * NS)


class WindowVenue(PaperVenue):
    """Records the `since` of every history query and, like the Kraken venue, asks from the
    whole second before it; can be told to fail TradesHistory. Counts QueryOrders lookups."""

    asked: list[int]
    looked_up: list[str]
    failing: bool = False

    async def closed_orders(self, since_ns: int) -> Sequence[OrderSnapshot]:
        self.asked.append(since_ns)
        return await super().closed_orders(since_ns // NS * NS)

    async def trades_history(self, since_ns: int) -> Sequence[Fill]:
        if self.failing:
            raise TransientError("TradesHistory unavailable", endpoint="TradesHistory")
        return await super().trades_history(since_ns // NS * NS)

    async def query_orders(self, order_ids: Sequence[str]) -> Sequence[OrderSnapshot]:
        self.looked_up.extend(order_ids)
        return await super().query_orders(order_ids)


@asynccontextmanager
async def ledger(tmp_path: Path, clock: ManualClock) -> AsyncIterator[LedgerRepository]:
    db = await open_ledger(tmp_path / "t.db", clock)
    try:
        yield LedgerRepository(db, clock)
    finally:
        await db.close()


def _venue(clock: ManualClock) -> WindowVenue:
    venue = WindowVenue({"XLM/USD": XLM}, {"USD": D("100")}, clock=clock)
    venue.asked, venue.looked_up = [], []
    return venue


async def _resting_entry(venue: WindowVenue, repo: LedgerRepository, clock: ManualClock) -> Engine:
    engine = await engine_with_an_entry(venue, repo, clock)
    await engine.drain(1.0)
    await engine.post(venue._queue.get_nowait())  # the ack: resting with a txid
    (order,) = engine.core.registry.live()
    assert order.order_id is not None and order.status is OrderStatus.OPEN
    return engine


async def _filled_entry(
    venue: WindowVenue, repo: LedgerRepository, clock: ManualClock
) -> tuple[Engine, Order]:
    """The resting entry, filled now (its protective stop then rests)."""
    engine = await _resting_entry(venue, repo, clock)
    venue.on_book(xlm_top(clock.now_ns(), "0.285", "0.287"))
    while not venue._queue.empty():
        await engine.post(venue._queue.get_nowait())
    (entry,) = [o for o in engine.core.registry.all() if o.is_terminal]
    assert entry.status is OrderStatus.FILLED
    return engine, entry


async def test_runs_read_from_the_last_mark_even_with_an_order_resting_for_hours(
    tmp_path: Path,
) -> None:
    clock = ManualClock(start_ns=T0)
    async with ledger(tmp_path, clock) as repo:
        venue = _venue(clock)
        engine = await _resting_entry(venue, repo, clock)
        await engine.reconcile("start-up")
        assert venue.asked == [T0 - LOOKBACK]  # no mark yet: the first-run look-back
        starts = [T0]
        for _ in range(30):  # an hour of periodic runs, the entry resting throughout
            clock.advance(CFG.interval_s)
            starts.append(clock.now_ns())
            assert await engine.reconcile("periodic") >= 0
        # Each run from the previous run's start, less the overlap — not from the resting
        # order's creation, and not the 2-day look-back.
        assert venue.asked[1:] == [s - OVERLAP for s in starts[:-1]]
        assert parse_mark(await repo.get_state(MARK_KEY)) == starts[-1]


async def test_a_restart_goes_on_from_the_stored_mark(tmp_path: Path) -> None:
    clock = ManualClock(start_ns=T0)
    async with ledger(tmp_path, clock) as repo:
        venue = _venue(clock)
        first = await _resting_entry(venue, repo, clock)
        clock.advance(60)
        await first.reconcile("periodic")
        mark = clock.now_ns()
        clock.advance(3 * 3600)  # down for three hours
        again = await paper_engine(venue, repo, clock)
        venue.asked.clear()
        await again.reconcile("start-up")
        assert venue.asked == [mark - OVERLAP]


async def test_a_failed_run_leaves_the_mark(tmp_path: Path) -> None:
    clock = ManualClock(start_ns=T0)
    async with ledger(tmp_path, clock) as repo:
        venue = _venue(clock)
        engine = await _resting_entry(venue, repo, clock)
        await engine.reconcile("start-up")
        venue.failing = True
        for _ in range(3):
            clock.advance(CFG.interval_s)
            assert await engine.reconcile("periodic") == -1
        venue.failing = False
        clock.advance(CFG.interval_s)
        await engine.reconcile("periodic")
        # Fills during the outage are still inside the window: it starts before the outage.
        assert venue.asked[-1] == T0 - OVERLAP
        assert parse_mark(await repo.get_state(MARK_KEY)) == clock.now_ns()


async def test_a_finished_order_the_core_forgot_is_not_adopted_again(tmp_path: Path) -> None:
    clock = ManualClock(start_ns=T0)
    async with ledger(tmp_path, clock) as repo:
        venue = _venue(clock)
        engine, order = await _filled_entry(venue, repo, clock)
        await engine.reconcile("periodic")
        clock.advance(10)
        # The hot copy forgets finished orders (engine/ticks.py); the ledger keeps them.
        assert engine.core.registry.forget_finished(clock.now_ns()) == 1
        assert await engine.reconcile("periodic") >= 0  # listed again: closed inside the window
        rows = await repo.orders_since(0)
        assert [r.cl_ord_id for r in rows].count(order.cl_ord_id) == 1
        kinds = [e.payload["kind"] for e in await repo.events("reconcile")]
        assert "adopted" not in kinds and "adopt_order" not in kinds


async def test_an_order_closed_just_before_the_window_start_is_still_known(
    tmp_path: Path,
) -> None:
    clock = ManualClock(start_ns=T0)
    async with ledger(tmp_path, clock) as repo:
        venue = _venue(clock)
        clock.advance(0.5)
        engine, entry = await _filled_entry(venue, repo, clock)  # at T0 + 0.5 s
        clock.set_wall_ns(T0 + int(CFG.overlap_s * NS) + 800_000_000)
        await engine.reconcile("periodic")
        before = len(await repo.events("reconcile"))
        clock.advance(10)
        await engine.reconcile("periodic")
        # The window starts at T0 + 0.8 s; Kraken is asked from T0 (whole seconds) and lists
        # the entry, closed at T0 + 0.5 s: ours, recorded — no lookup, no adoption.
        assert venue.asked[-1] == T0 + 800_000_000
        assert venue.looked_up == []
        later = (await repo.events("reconcile"))[before:]
        assert [e.payload for e in later if e.payload["cl_ord_id"] == entry.cl_ord_id] == []


def _order(created_ns: int, *, txid: str | None, status: OrderStatus) -> Order:
    return Order(
        cl_ord_id=f"kb{created_ns}",
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("30"),
        limit_price=D("0.289"),
        created_ns=created_ns,
        status=status,
        order_id=txid,
    )


MARK = T0 - 600 * NS
OLD_LIVE = _order(T0 - 3 * LOOKBACK, txid="O1", status=OrderStatus.OPEN)
STOP_FOR_DAYS = _order(T0 - 9 * LOOKBACK, txid="O2", status=OrderStatus.OPEN)
UNSENT = _order(T0 - 3600 * NS, txid=None, status=OrderStatus.PENDING_NEW)
FINISHED = _order(T0 - 9 * LOOKBACK, txid=None, status=OrderStatus.REJECTED)


@pytest.mark.parametrize(
    ("mark", "orders", "expected"),
    [
        (None, [], T0 - LOOKBACK),  # no mark: the look-back ...
        (None, [OLD_LIVE], OLD_LIVE.created_ns - OVERLAP),  # ... and before live orders
        (MARK, [], MARK - OVERLAP),
        (MARK, [STOP_FOR_DAYS, FINISHED], MARK - OVERLAP),  # a resting stop: no wider
        # An order without a txid yet: its absence is provable only from its creation.
        (MARK, [UNSENT], UNSENT.created_ns - OVERLAP),
        (T0 + 3600 * NS, [], T0 - OVERLAP),  # a clock set back: at least the overlap
    ],
)
def test_window_start(mark: int | None, orders: list[Order], expected: int) -> None:
    assert window_start(T0, mark, orders, CFG) == expected


def test_an_unreadable_mark_falls_back_to_the_first_run_rule() -> None:
    assert parse_mark("1763776800000000000") == T0
    assert parse_mark(None) is None and parse_mark("") is None
    assert parse_mark("-5") is None and parse_mark("9" * 5000) is None
