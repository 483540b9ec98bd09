"""The runner carrying out the core's effects: the order row committed before the venue sees
the order, "being sent" until the send returns, send outcomes back as events (never as
re-sends), cancels never held back by the ledger, fills trusted only once recorded, failed row
updates written later. Real ledger (SQLite in tmp), a recording fake venue, a ManualClock."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from enginekit import START_NS, NoFeed, Quiet, build_engine, xlm_top
from tests.instruments import XLM
from tests.orderkit import fill, report

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import (
    AmendIntent,
    AmendOrder,
    CancelIntent,
    CancelOrder,
    OrderIntent,
    PlaceOrder,
)
from krakenbot.domain.enums import (
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    TradingState,
)
from krakenbot.domain.events import (
    AccountEvent,
    AmendRejected,
    Event,
    Fill,
    OrderRejected,
    ReconcileRequested,
    StateEvent,
    TimerTick,
)
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.inputs import EngineInput, SendFinished, VenueFatal
from krakenbot.engine.runner import EngineRunner
from krakenbot.errors import (
    AmbiguousOrderError,
    FatalExchangeError,
    RejectedError,
    TransientError,
    TransportError,
)
from krakenbot.orders.manager import ManagerConfig
from krakenbot.resilience.breaker import CircuitBreaker, CircuitOpenError
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits, RiskLimits
from krakenbot.store import LedgerRepository, open_ledger

LIMITS = RiskLimits(
    allowed_symbols=frozenset({"XLM/USD"}),
    max_trade_usd=D("10"),
    min_order_usd=D("1"),
    max_total_exposure_usd=D("30"),
    max_positions=1,
    max_daily_loss_usd=D("5"),
)


@dataclass
class FakeVenue:
    """Records calls; `fail` makes the next place/cancel raise."""

    placed: list[PlaceOrder] = field(default_factory=list)
    cancelled: list[CancelOrder] = field(default_factory=list)
    amended: list[AmendOrder] = field(default_factory=list)
    fail: BaseException | None = None
    fail_cancel: BaseException | None = None
    fail_amend: BaseException | None = None
    persisted_before_send: list[bool] = field(default_factory=list)
    repo: LedgerRepository | None = None
    hold: asyncio.Event | None = None
    cancel_hold: asyncio.Event | None = None  # a cancel waits (e.g. for the rate limit)
    listed: list[OrderSnapshot] = field(default_factory=list)

    async def place(self, command: PlaceOrder) -> None:
        if self.repo is not None:
            row = await self.repo.order_by_cl_ord_id(command.cl_ord_id)
            self.persisted_before_send.append(row is not None)
        if self.hold is not None:
            await self.hold.wait()
        self.placed.append(command)
        if self.fail is not None:
            raise self.fail

    async def cancel(self, command: CancelOrder) -> None:
        if self.cancel_hold is not None:
            await self.cancel_hold.wait()
        self.cancelled.append(command)
        if self.fail_cancel is not None:
            raise self.fail_cancel

    async def amend(self, command: AmendOrder) -> None:
        self.amended.append(command)
        if self.fail_amend is not None:
            raise self.fail_amend

    async def cancel_all(self) -> None:
        raise AssertionError("krakenbot never cancels other programs' orders")

    async def cancel_all_after(self, timeout_s: int) -> None:
        return None

    async def open_orders(self) -> Sequence[OrderSnapshot]:
        return self.listed

    async def closed_orders(self, since_ns: int) -> Sequence[OrderSnapshot]:
        return []

    async def query_orders(self, order_ids: Sequence[str]) -> Sequence[OrderSnapshot]:
        return []

    async def trades_history(self, since_ns: int) -> Sequence[Fill]:
        return []

    async def balances(self) -> Mapping[str, D]:
        return {}

    async def events(self) -> AsyncIterator[AccountEvent | StateEvent]:
        for item in ():
            yield item


class BrokenLedger:
    """The real ledger, except that the writes named in `broken` fail as a locked SQLite
    database does; `calls` counts the attempts per write."""

    def __init__(self, inner: LedgerRepository) -> None:
        self.inner = inner
        self.broken: set[str] = set()
        self.calls: dict[str, int] = {}

    def __getattr__(self, name: str) -> object:
        target = getattr(self.inner, name)

        async def call(*args: object, **kw: object) -> object:
            self.calls[name] = self.calls.get(name, 0) + 1
            if name in self.broken:
                raise sqlite3.OperationalError("database is locked")
            return await target(*args, **kw)

        return call


@dataclass
class Kit:
    runner: EngineRunner
    venue: FakeVenue
    repo: LedgerRepository
    ledger: BrokenLedger
    clock: ManualClock
    posted: list[Event | EngineInput]

    @property
    def sending(self) -> set[str]:
        return self.runner.core.manager.sending

    async def settle(self) -> None:
        await self.runner.drain(5.0)

    async def submit(self, intent: OrderIntent | CancelIntent) -> None:
        await self.runner.post(xlm_top(self.clock.now_ns(), "0.289", "0.291"))
        await self.runner.submit([intent])

    def order(self) -> Order:
        return self.runner.core.registry.all()[-1]


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[Kit]:
    clock = ManualClock(start_ns=START_NS)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    venue = FakeVenue(repo=repo)
    ledger = BrokenLedger(repo)
    config = EngineConfig(
        manager=ManagerConfig(order_timeout_s=60, cancel_retry_s=5, ack_timeout_s=10)
    )
    runner = build_engine(
        strategy=Quiet(),
        gate=RiskGate(LIMITS),
        policy=BreakerPolicy(BreakerLimits()),
        breaker=CircuitBreaker(clock, threshold=5, cooldown_s=300),
        venue=venue,
        feed=NoFeed(),
        repo=ledger,  # type: ignore[arg-type]
        clock=clock,
        rng=random.Random(3),
        instruments={"XLM/USD": XLM},
        balances={"USD": D("100")},
        config=config,
    )
    posted: list[Event | EngineInput] = []
    post = runner.post

    async def spy(event: Event | EngineInput) -> None:
        posted.append(event)
        await post(event)

    runner.post = spy  # type: ignore[method-assign]
    try:
        yield Kit(runner, venue, repo, ledger, clock, posted)
    finally:
        await runner.quiesce(1.0)
        await db.close()


def entry(qty: str = "30", **kw: object) -> OrderIntent:
    base = OrderIntent(
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D("0.289"),
        post_only=True,
        tag="entry",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


async def placed(kit: Kit, **kw: object) -> Order:
    await kit.submit(entry(**kw))
    await kit.settle()
    return kit.order()


# ---------------------------------------------------------------- persist, then send
async def test_order_row_is_committed_before_the_venue_sees_it(kit: Kit) -> None:
    order = await placed(kit, features=(("z", "-2.5"),))
    assert kit.venue.persisted_before_send == [True]
    assert kit.venue.placed[0].cl_ord_id == order.cl_ord_id
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.status is OrderStatus.PENDING_NEW and row.tag == "entry"
    learned = await kit.repo.learning_rows_for_order(order.cl_ord_id)
    assert len(learned) == 1 and kit.runner.executor.orders_sent == 1


async def test_an_order_that_cannot_be_persisted_is_never_sent(kit: Kit) -> None:
    kit.ledger.broken.add("add_order")
    await kit.submit(entry())
    await kit.settle()
    assert kit.venue.placed == [] and kit.runner.executor.orders_sent == 0
    assert len(kit.runner.core.registry) == 0 and await kit.repo.orders_since(0) == []
    assert kit.sending == set()
    assert "add_order" in kit.runner.health().ledger_error


async def test_an_order_whose_learning_row_failed_is_never_sent_nor_left_being_sent(
    kit: Kit,
) -> None:
    kit.ledger.broken.add("open_learning_entry")
    await kit.submit(entry(features=(("z", "1"),)))
    await kit.settle()
    assert kit.venue.placed == [] and kit.sending == set()
    (order,) = kit.runner.core.registry.all()  # its row exists: reconciliation settles it
    assert await kit.repo.order_by_cl_ord_id(order.cl_ord_id) is not None


async def test_an_order_counts_as_being_sent_until_its_send_returns(kit: Kit) -> None:
    kit.venue.hold = asyncio.Event()
    await kit.submit(entry())
    order = kit.order()
    assert kit.sending == {order.cl_ord_id}
    await asyncio.sleep(0)
    assert kit.sending == {order.cl_ord_id}  # the venue is still holding it
    kit.venue.hold.set()
    await kit.settle()
    assert kit.sending == set()
    assert SendFinished(order.cl_ord_id, kit.clock.now_ns()) in kit.posted
    kit.venue.fail = AmbiguousOrderError("lost")
    await placed(kit, qty="20")
    assert kit.sending == set()  # whatever the outcome


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RejectedError("no", kraken_error="EOrder:Insufficient funds"), OrderRejected),
        (TransientError("down"), OrderRejected),
        (CircuitOpenError("circuit breaker is open"), OrderRejected),
        (AmbiguousOrderError("unknown"), ReconcileRequested),
        (FatalExchangeError("EAPI:Invalid key"), OrderRejected),
        (RuntimeError("bug"), ReconcileRequested),
    ],
)
async def test_send_outcomes_come_back_as_events_never_as_resends(
    kit: Kit, error: BaseException, expected: type
) -> None:
    kit.venue.fail = error
    await placed(kit)
    assert len(kit.venue.placed) == 1  # one send, whatever happened
    outcomes = [e for e in kit.posted if isinstance(e, OrderRejected | ReconcileRequested)]
    assert [type(e) for e in outcomes] == [expected]
    fatal = [e for e in kit.posted if isinstance(e, VenueFatal)]
    assert len(fatal) == isinstance(error, FatalExchangeError)
    if fatal:
        assert kit.runner.core.trading_state is TradingState.HALTED
    if isinstance(error, RejectedError):
        assert outcomes[0].error == "EOrder:Insufficient funds"  # type: ignore[union-attr]
    if type(error) is TransientError:
        assert outcomes[0].error.startswith("not placed")  # type: ignore[union-attr]
    # Only a refusal by our own breaker is local (no news about the exchange).
    local = isinstance(error, CircuitOpenError)
    assert getattr(outcomes[0], "local", False) is local


async def test_drain_gives_up_after_its_timeout(kit: Kit) -> None:
    kit.venue.hold = asyncio.Event()
    await kit.submit(entry())
    assert kit.runner.executor.in_flight == 1
    await kit.runner.drain(0.01)
    assert kit.runner.executor.in_flight == 0 and kit.venue.placed == []


# ---------------------------------------------------------------- cancels
async def test_cancel_failures_are_contained(kit: Kit) -> None:
    order = await placed(kit)
    kit.venue.fail_cancel = RuntimeError("socket closed")
    await kit.runner.submit([CancelIntent(order.cl_ord_id)])
    await kit.settle()
    assert not any(isinstance(e, VenueFatal) for e in kit.posted)
    kit.venue.fail_cancel = FatalExchangeError("EAPI:Invalid key")
    kit.clock.advance(6)
    await kit.runner.submit([CancelIntent(order.cl_ord_id)])
    await kit.settle()
    assert len(kit.venue.cancelled) == 2
    assert [type(e) for e in kit.posted if isinstance(e, VenueFatal)] == [VenueFatal]
    assert kit.runner.core.trading_state is TradingState.HALTED


async def test_dropped_cancels_still_on_their_way_are_never_sent(kit: Kit) -> None:
    """A shutdown that leaves an exit resting cuts its cancel still waiting (for the rate
    limit's headroom, between the client's retries); the other cancels go on."""
    kept, other = await placed(kit), await placed(kit, qty="20")
    kit.venue.cancel_hold = asyncio.Event()
    await kit.runner.submit([CancelIntent(kept.cl_ord_id), CancelIntent(other.cl_ord_id)])
    kit.runner.executor.drop_cancels({kept.cl_ord_id})
    kit.venue.cancel_hold.set()
    await kit.runner.executor.wait_cancels(1.0)
    assert [c.cl_ord_id for c in kit.venue.cancelled] == [other.cl_ord_id]


async def test_a_cancel_goes_out_even_when_the_ledger_cannot_record_it(kit: Kit) -> None:
    order = await placed(kit)
    kit.ledger.broken.add("update_order")
    await kit.runner.submit([CancelIntent(order.cl_ord_id)])
    await kit.settle()
    assert [c.cl_ord_id for c in kit.venue.cancelled] == [order.cl_ord_id]
    assert kit.ledger.calls["update_order"] == 1
    current = kit.runner.core.registry.get(order.cl_ord_id)
    assert current is not None and current.cancel_requested  # in memory all the same


async def test_emergency_cancels_are_sent_before_their_records_which_may_fail(kit: Kit) -> None:
    order = await placed(kit)
    kit.ledger.broken.update({"update_order", "record_event"})
    seen_rows: list[bool] = []

    async def cancel(command: CancelOrder) -> None:
        row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
        seen_rows.append(row is not None and row.cancel_requested)

    kit.venue.cancel = cancel  # type: ignore[method-assign]
    await kit.runner.emergency_stop("emergency")
    assert seen_rows == [False]
    assert await kit.repo.events("cancel_all") == []
    assert kit.runner.core.trading_state is TradingState.HALTED
    kit.ledger.broken.clear()
    kit.runner.ledger.succeeded("test", kit.clock.monotonic_ns())  # writable again
    await kit.runner.emergency_stop("again")
    assert len(await kit.repo.events("cancel_all")) == 1


async def test_amend_outcomes_come_back_as_events(kit: Kit) -> None:
    order = await placed(kit)
    await kit.runner.post(report(order, ExecType.NEW))
    refused = RejectedError("x", endpoint="AmendOrder", kraken_error="EOrder:Unknown order")
    for price, failure, error in (
        ("0.288", refused, "EOrder:Unknown order"),
        ("0.287", TransportError("reset", endpoint="AmendOrder"), "amend outcome unknown"),
        ("0.286", FatalExchangeError("EAPI:Invalid key", endpoint="AmendOrder"), "EAPI:Invalid"),
    ):
        kit.venue.fail_amend = failure
        kit.posted.clear()
        await kit.runner.submit([AmendIntent(order.cl_ord_id, limit_price=D(price))])
        await kit.settle()
        assert kit.venue.amended[-1].limit_price == D(price)
        [event] = [e for e in kit.posted if isinstance(e, AmendRejected)]
        assert event.cl_ord_id == order.cl_ord_id and error in event.error
    assert kit.runner.core.trading_state is TradingState.HALTED  # the fatal one
    assert [e for e in kit.posted if isinstance(e, VenueFatal)]
    rows = [e.payload["error"] for e in await kit.repo.events("amend_rejected")]
    assert len(rows) == 3 and "cancel or amend rejected" in " ".join(kit.runner.reconcile_reasons)


# ---------------------------------------------------------------- fills and rows
async def test_a_fill_that_cannot_be_recorded_is_not_trusted_and_comes_again(kit: Kit) -> None:
    order = await placed(kit)
    await kit.runner.post(report(order, ExecType.NEW))
    kit.ledger.broken.add("insert_fill")
    await kit.runner.post(report(order, ExecType.TRADE, fill=fill(order)))
    current = kit.runner.core.registry.get(order.cl_ord_id)
    assert current is not None and current.filled_qty == 0 and not current.fill_ids
    assert await kit.repo.load_fills(0) == []
    assert kit.runner.core.portfolio.position("XLM/USD") == 0
    assert kit.runner.last_error.startswith("ExecutionReport")
    kit.ledger.broken.clear()  # writable again: the same trade (e.g. from reconciliation)
    await kit.runner.post(report(order, ExecType.TRADE, fill=fill(order)))
    assert [f.trade_id for f in await kit.repo.load_fills(0)] == ["T1"]
    assert kit.runner.core.portfolio.position("XLM/USD") == D("10")
    await kit.runner.post(report(order, ExecType.TRADE, fill=fill(order, "T2", qty="5")))
    assert [f.trade_id for f in await kit.repo.load_fills(0)] == ["T1", "T2"]
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.status is OrderStatus.PARTIALLY_FILLED
    assert row.filled_qty == D("15") and row.txid == "OTXID1"


async def test_fill_already_in_the_ledger_is_not_counted_twice(kit: Kit) -> None:
    order = await placed(kit)
    await kit.repo.insert_fill(fill(order, "T9"))  # recorded before a restart
    await kit.runner.post(report(order, ExecType.TRADE, fill=fill(order, "T9")))
    assert kit.runner.core.portfolio.position("XLM/USD") == 0
    assert kit.runner.core.counts.fills == 0


async def test_an_order_update_that_failed_is_written_by_housekeeping(kit: Kit) -> None:
    order = await placed(kit)
    kit.ledger.broken.add("update_order")
    await kit.runner.post(report(order, ExecType.NEW))  # no exception
    current = kit.runner.core.registry.get(order.cl_ord_id)
    assert current is not None and current.status is OrderStatus.OPEN
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.status is OrderStatus.PENDING_NEW
    await kit.runner.post(TimerTick(kit.clock.now_ns()))  # not tried while failing
    assert kit.ledger.calls["update_order"] == 1
    kit.runner.ledger.succeeded("probe", kit.clock.monotonic_ns())
    await kit.runner.post(TimerTick(kit.clock.now_ns()))  # tried, fails again: kept
    assert kit.ledger.calls["update_order"] == 2
    kit.ledger.broken.clear()
    kit.runner.ledger.succeeded("probe", kit.clock.monotonic_ns())
    await kit.runner.post(TimerTick(kit.clock.now_ns()))
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.status is OrderStatus.OPEN and row.txid == "OTXID1"
    await kit.runner.post(TimerTick(kit.clock.now_ns()))
    assert kit.ledger.calls["update_order"] == 3  # written once: nothing left to retry


# ---------------------------------------------------------------- written in the commit's step
@dataclass
class QuickVenue(FakeVenue):
    """A `ports.PlaceNow` venue (as the live one over the WebSocket): `place_now` writes the
    order's request at once and records what held at that moment; the awaitable it answers
    finishes the send (`fail_finish` raised by it). `quick` False: it cannot (`place`)."""

    path: Path | None = None  # the ledger file, read with a connection of its own
    sending: set[str] = field(default_factory=set)  # the executor's "being sent"
    quick: bool = True
    fail_now: Exception | None = None
    fail_finish: Exception | None = None
    written: list[str] = field(default_factory=list)
    committed_at_write: list[bool] = field(default_factory=list)
    sending_at_write: list[bool] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)

    def place_now(self, command: PlaceOrder) -> Awaitable[None] | None:
        if self.fail_now is not None:
            raise self.fail_now
        if not self.quick:
            return None
        cl_ord_id = command.cl_ord_id
        assert self.path is not None
        with sqlite3.connect(self.path) as conn:  # what another reader sees now: committed
            found = conn.execute("SELECT 1 FROM orders WHERE order_id = ?", (cl_ord_id,))
            self.committed_at_write.append(found.fetchone() is not None)
        self.sending_at_write.append(cl_ord_id in self.sending)
        self.written.append(cl_ord_id)
        return self._finish(cl_ord_id)

    async def _finish(self, cl_ord_id: str) -> None:
        self.finished.append(cl_ord_id)
        if self.fail_finish is not None:
            raise self.fail_finish


def quick(kit: Kit, **kw: object) -> QuickVenue:
    executor = kit.runner.executor
    venue = QuickVenue(repo=kit.repo, path=kit.repo.db.path, sending=executor.sending, **kw)  # type: ignore[arg-type]
    kit.runner.venue = venue
    return venue


async def test_an_order_is_written_in_the_step_its_row_committed_in(kit: Kit) -> None:
    venue = quick(kit)
    await kit.submit(entry())
    order = kit.order()
    # Written by the time the engine is done with the batch (no send task ran first), after
    # its row committed, and counted as being sent from before its bytes left.
    assert venue.written == [order.cl_ord_id]
    assert venue.committed_at_write == [True] and venue.sending_at_write == [True]
    await kit.settle()
    assert venue.finished == [order.cl_ord_id] and venue.placed == []  # never sent twice
    assert kit.runner.executor.sending == set() and kit.runner.executor.orders_sent == 1
    assert SendFinished(order.cl_ord_id, kit.clock.now_ns()) in kit.posted


async def test_an_order_that_cannot_be_persisted_is_never_written(kit: Kit) -> None:
    venue = quick(kit)
    kit.ledger.broken.add("add_order")
    await kit.submit(entry())
    await kit.settle()
    assert venue.written == [] and venue.placed == [] and kit.runner.executor.orders_sent == 0
    assert await kit.repo.orders_since(0) == []


async def test_an_order_the_venue_cannot_write_at_once_goes_through_place(kit: Kit) -> None:
    venue = quick(kit, quick=False)
    order = await placed(kit)
    assert venue.written == [] and [c.cl_ord_id for c in venue.placed] == [order.cl_ord_id]
    assert venue.persisted_before_send == [True]


@pytest.mark.parametrize(
    ("now", "finish", "expected"),
    [
        (None, RejectedError("no", kraken_error="EOrder:Insufficient funds"), OrderRejected),
        (None, AmbiguousOrderError("unknown"), ReconcileRequested),
        (RuntimeError("bug"), None, ReconcileRequested),
    ],
)
async def test_a_send_begun_at_once_has_the_outcomes_of_place(
    kit: Kit, now: Exception | None, finish: Exception | None, expected: type
) -> None:
    venue = quick(kit, fail_now=now, fail_finish=finish)
    await placed(kit)
    outcomes = [e for e in kit.posted if isinstance(e, OrderRejected | ReconcileRequested)]
    assert [type(e) for e in outcomes] == [expected] and venue.placed == []
    assert kit.runner.executor.sending == set()


async def test_a_send_cut_before_its_first_step_is_not_left_being_sent(kit: Kit) -> None:
    venue = quick(kit)
    command = PlaceOrder("kbcut", "XLM/USD", Side.BUY, OrderType.LIMIT, D("20"), D("0.289"))
    executor = kit.runner.executor
    executor._hand_over(command)
    assert executor.sending == {"kbcut"} and venue.written == ["kbcut"]
    (task,) = executor._tasks
    task.cancel()  # as `drain` cuts what is still in flight
    await asyncio.gather(task, return_exceptions=True)
    assert executor.sending == set()
