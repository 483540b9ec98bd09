"""OrderManager: gate in front of everything, persist-then-send, outcomes as events, each
fill once. Real ledger (SQLite in tmp), a recording fake venue, a ManualClock."""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import (
    AmendOrder,
    CancelIntent,
    CancelOrder,
    OrderIntent,
    PlaceOrder,
)
from krakenbot.domain.enums import (
    ExecType,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    SystemState,
    TradingState,
)
from krakenbot.domain.events import (
    AccountEvent,
    BookTop,
    Event,
    ExecutionReport,
    Fill,
    OrderAccepted,
    OrderRejected,
    PriceLevel,
    ReconcileRequested,
    StateEvent,
)
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.errors import (
    AmbiguousOrderError,
    FatalExchangeError,
    RejectedError,
    TransientError,
)
from krakenbot.orders.clordid import new_cl_ord_id
from krakenbot.orders.manager import ManagerConfig, OrderManager
from krakenbot.orders.registry import OrderRegistry
from krakenbot.resilience.breaker import CircuitOpenError
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Checked, Decision, Denied, Rule
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import RiskLimits
from krakenbot.store import LedgerRepository, open_ledger

S = 1_000_000_000
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
        self.cancelled.append(command)
        if self.fail_cancel is not None:
            raise self.fail_cancel

    async def amend(self, command: AmendOrder) -> None:
        self.amended.append(command)
        if self.fail_amend is not None:
            raise self.fail_amend

    async def cancel_all(self) -> None:
        return None

    async def cancel_all_after(self, timeout_s: int) -> None:
        return None

    async def open_orders(self) -> Sequence[OrderSnapshot]:
        return []

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


class DenyAll:
    """A gate stub that denies even cancels (the manager must still audit it)."""

    limits = LIMITS

    def check(self, item: Checked, ctx: RiskContext) -> Decision:
        return Denied(item, Rule.TRADING_HALTED, "stub")


@dataclass
class Kit:
    manager: OrderManager
    venue: FakeVenue
    repo: LedgerRepository
    clock: ManualClock
    delivered: list[Event]
    fatal: list[BaseException]

    def ctx(self, **kw: object) -> RiskContext:
        now = self.clock.now_ns()
        book = BookTop(
            "XLM/USD",
            (PriceLevel(D("0.289"), D("1000")),),
            (PriceLevel(D("0.291"), D("1000")),),
            True,
            now,
            now,
        )
        base = RiskContext(
            now_ns=now,
            trading_state=TradingState.ACTIVE,
            system_state=SystemState.ONLINE,
            breaker_open=False,
            instruments={"XLM/USD": XLM},
            books={"XLM/USD": book},
            positions={},
            working=self.manager.registry.working(),
            daily_pnl=D(0),
            balances={"USD": D("100"), "XLM": D("100")},
        )
        return replace(base, **kw)  # type: ignore[arg-type]

    async def settle(self) -> None:
        await self.manager.drain(5.0)


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[Kit]:
    clock = ManualClock()
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    venue = FakeVenue(repo=repo)
    delivered: list[Event] = []
    fatal: list[BaseException] = []

    async def deliver(event: Event) -> None:
        delivered.append(event)

    manager = OrderManager(
        venue=venue,
        repo=repo,
        gate=RiskGate(LIMITS),
        registry=OrderRegistry(),
        clock=clock,
        rng=random.Random(3),
        deliver=deliver,
        config=ManagerConfig(order_timeout_s=60, cancel_retry_s=5, ack_timeout_s=10),
        on_fatal=fatal.append,
    )
    try:
        yield Kit(manager, venue, repo, clock, delivered, fatal)
    finally:
        await db.close()


def entry(qty: str = "30", price: str = "0.289", **kw: object) -> OrderIntent:
    base = OrderIntent(
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D(price),
        post_only=True,
        tag="entry",
    )
    return replace(base, **kw)  # type: ignore[arg-type]


async def placed(kit: Kit, **kw: object) -> Order:
    await kit.manager.submit(entry(**kw), kit.ctx())  # type: ignore[arg-type]
    await kit.settle()
    return kit.manager.registry.all()[-1]


def report(order: Order, exec_type: ExecType, **kw: object) -> ExecutionReport:
    base = ExecutionReport(
        exec_type=exec_type,
        order_id="OTXID1",
        cl_ord_id=order.cl_ord_id,
        order_status=OrderStatus.OPEN,
        exchange_ns=1,
        recv_ns=2,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def fill(order: Order, trade_id: str = "T1", qty: str = "10") -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id="OTXID1",
        cl_ord_id=order.cl_ord_id,
        symbol="XLM/USD",
        side=Side.BUY,
        price=D("0.289"),
        qty=D(qty),
        cost=D("0.289") * D(qty),
        fee=D("0.01"),
        fee_asset="USD",
        liquidity=Liquidity.MAKER,
        exchange_ns=5,
    )


# ---------------------------------------------------------------- submit
async def test_denied_intent_is_audited_and_never_persisted_or_sent(kit: Kit) -> None:
    decision = await kit.manager.submit(entry(qty="100"), kit.ctx())  # 28.9 USD > 10
    assert isinstance(decision, Denied) and decision.rule is Rule.MAX_TRADE_SIZE
    events = await kit.repo.events("risk_denied")
    assert events[0].payload["rule"] == "max_trade_size"
    assert await kit.repo.orders_since(0) == [] and kit.venue.placed == []
    assert kit.manager.denials == 1 and kit.manager.last_denial is decision


async def test_order_row_is_committed_before_the_venue_sees_it(kit: Kit) -> None:
    features = (("z", "-2.5"),)
    order = await placed(kit, features=features)
    assert kit.venue.persisted_before_send == [True]
    assert kit.venue.placed[0].cl_ord_id == order.cl_ord_id
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.status is OrderStatus.PENDING_NEW and row.tag == "entry"
    learned = await kit.repo.learning_rows_for_order(order.cl_ord_id)
    assert len(learned) == 1 and kit.manager.orders_sent == 1


async def test_an_order_counts_as_being_sent_until_its_send_returns(kit: Kit) -> None:
    kit.venue.hold = asyncio.Event()
    await kit.manager.submit(entry(), kit.ctx())
    (order,) = kit.manager.registry.all()
    assert kit.manager.sending == {order.cl_ord_id}  # set before the registry shows it
    await asyncio.sleep(0)
    assert kit.manager.sending == {order.cl_ord_id}  # the venue is still holding it
    kit.venue.hold.set()
    await kit.settle()
    assert kit.manager.sending == frozenset()
    kit.venue.fail = AmbiguousOrderError("lost")
    await placed(kit)
    assert kit.manager.sending == frozenset()  # whatever the outcome


async def test_an_order_that_is_never_sent_is_not_left_as_being_sent(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kw: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(kit.repo, "open_learning_entry", broken)
    with pytest.raises(sqlite3.OperationalError):
        await kit.manager.submit(entry(features=(("z", "1"),)), kit.ctx())
    assert kit.manager.sending == frozenset() and kit.venue.placed == []


async def test_ids_never_collide_with_a_tracked_order(kit: Kit) -> None:
    now = kit.clock.now_ns()
    taken = new_cl_ord_id(now, random.Random(3))
    kit.manager.registry.add(
        Order(taken, "XLM/USD", Side.SELL, OrderType.LIMIT, D("1"), D("1"), now)
    )
    order = await placed(kit)
    assert order.cl_ord_id != taken


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
    assert [type(e) for e in kit.delivered] == [expected]
    if isinstance(error, FatalExchangeError):
        assert kit.fatal == [error]
    if isinstance(error, RejectedError):
        assert kit.delivered[0].error == "EOrder:Insufficient funds"  # type: ignore[union-attr]
    if type(error) is TransientError:
        assert kit.delivered[0].error.startswith("not placed")  # type: ignore[union-attr]
    # Only a refusal by our own breaker is local (no news about the exchange).
    local = isinstance(error, CircuitOpenError)
    assert getattr(kit.delivered[0], "local", False) is local


# ---------------------------------------------------------------- cancel
async def test_cancel_goes_through_the_gate_and_is_persisted(kit: Kit) -> None:
    order = await placed(kit)
    await kit.manager.apply(OrderAccepted(order.cl_ord_id, "OTXID1", 3))
    await kit.manager.cancel(CancelIntent(order.cl_ord_id, "test"), kit.ctx())
    await kit.settle()
    assert kit.venue.cancelled == [CancelOrder(order.cl_ord_id, "OTXID1")]
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.cancel_requested
    # Asked again too soon: not re-sent; after cancel_retry_s: re-sent (idempotent).
    await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    await kit.settle()
    assert len(kit.venue.cancelled) == 1
    kit.clock.advance(6)
    await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    await kit.settle()
    assert len(kit.venue.cancelled) == 2


async def test_cancel_of_unknown_or_finished_orders_sends_nothing(kit: Kit) -> None:
    await kit.manager.cancel(CancelIntent("kbnothing"), kit.ctx())
    order = await placed(kit)
    await kit.manager.apply(OrderRejected(order.cl_ord_id, "EOrder:Post only order"))
    await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    await kit.settle()
    assert kit.venue.cancelled == []


async def test_denied_cancel_is_audited(kit: Kit) -> None:
    order = await placed(kit)
    kit.manager.gate = DenyAll()  # type: ignore[assignment]
    decision = await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    assert isinstance(decision, Denied)
    assert (await kit.repo.events("risk_denied"))[0].payload["rule"] == "trading_halted"
    assert kit.venue.cancelled == []


async def test_cancel_failures_are_contained(kit: Kit) -> None:
    order = await placed(kit)
    kit.venue.fail_cancel = RuntimeError("socket closed")
    await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    await kit.settle()
    assert kit.fatal == []
    kit.venue.fail_cancel = FatalExchangeError("EAPI:Invalid key")
    kit.clock.advance(6)
    await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    await kit.settle()
    assert len(kit.fatal) == 1 and len(kit.venue.cancelled) == 2


async def test_cancel_all_ours_resends_even_recently_requested(kit: Kit) -> None:
    first = await placed(kit)
    await placed(kit, qty="20")
    await kit.manager.cancel(CancelIntent(first.cl_ord_id), kit.ctx())
    await kit.settle()
    count = await kit.manager.cancel_all_ours("shutdown", kit.ctx())
    await kit.settle()
    assert count == 2 and len(kit.venue.cancelled) == 3


# ---------------------------------------------------------------- housekeeping
async def test_housekeeping_times_out_orders(kit: Kit) -> None:
    pending = await placed(kit)
    resting = await placed(kit, qty="20")
    await kit.manager.apply(OrderAccepted(resting.cl_ord_id, "OTXID2", 3))
    kit.clock.advance(11)
    assert await kit.manager.housekeeping(kit.ctx()) == [pending.cl_ord_id]
    assert kit.venue.cancelled == []
    kit.clock.advance(60)
    await kit.manager.housekeeping(kit.ctx())
    await kit.settle()
    assert [c.cl_ord_id for c in kit.venue.cancelled] == [resting.cl_ord_id]
    kit.clock.advance(6)  # the cancel is not confirmed: sent again
    await kit.manager.housekeeping(kit.ctx())
    await kit.settle()
    assert len(kit.venue.cancelled) == 2


# ---------------------------------------------------------------- events up
async def test_each_fill_is_recorded_once(kit: Kit) -> None:
    order = await placed(kit)
    assert await kit.manager.apply(report(order, ExecType.NEW)) is not None
    applied = await kit.manager.apply(report(order, ExecType.TRADE, fill=fill(order)))
    assert applied is not None and applied.new_fill is not None
    again = await kit.manager.apply(fill(order))  # the same trade from REST history
    assert again is not None and again.after is again.before and again.new_fill is None
    assert len(await kit.repo.load_fills(0)) == 1
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.status is OrderStatus.PARTIALLY_FILLED
    assert row.filled_qty == D("10") and row.txid == "OTXID1"


async def test_fill_already_in_the_ledger_is_not_counted_twice(kit: Kit) -> None:
    order = await placed(kit)
    await kit.repo.insert_fill(fill(order, "T9"))  # recorded before a restart
    applied = await kit.manager.apply(fill(order, "T9"))
    assert applied is not None and applied.new_fill is None


async def test_unknown_event_is_not_ours(kit: Kit) -> None:
    stray = OrderAccepted("kbunknown", "OX")
    assert await kit.manager.apply(stray) is None


async def test_terminal_report_clears_the_cancel_retry(kit: Kit) -> None:
    order = await placed(kit)
    await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    await kit.settle()
    done = await kit.manager.apply(report(order, ExecType.CANCELED, reason="User requested"))
    assert done is not None and done.after.status is OrderStatus.CANCELED
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.reason == "User requested"


async def test_adopt_records_once(kit: Kit) -> None:
    now = kit.clock.now_ns()
    order = Order(
        "kbadopted00000001",
        "XLM/USD",
        Side.BUY,
        OrderType.LIMIT,
        D("30"),
        D("0.289"),
        now,
        status=OrderStatus.OPEN,
        order_id="OADOPT",
        tag="adopted",
        venue_cum_qty=D("5"),
    )
    assert await kit.manager.adopt(order) is True
    assert await kit.manager.adopt(order) is False
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.txid == "OADOPT" and row.venue_cum_qty == D("5")


async def test_drain_gives_up_after_its_timeout(kit: Kit) -> None:
    kit.venue.hold = asyncio.Event()
    await kit.manager.submit(entry(), kit.ctx())
    assert kit.manager.in_flight == 1
    await kit.manager.drain(0.01)
    assert kit.manager.in_flight == 0 and kit.venue.placed == []


async def test_fatal_errors_without_a_handler_are_still_contained(kit: Kit) -> None:
    kit.manager.on_fatal = None
    kit.venue.fail = FatalExchangeError("EAPI:Invalid key")
    kit.venue.fail_cancel = FatalExchangeError("EAPI:Invalid key")
    order = await placed(kit)
    await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    await kit.settle()
    assert [type(e) for e in kit.delivered] == [OrderRejected] and kit.fatal == []


@dataclass
class ListingVenue(FakeVenue):
    """Lists `listed` as the account's open orders and counts CancelAll calls."""

    listed: list[OrderSnapshot] = field(default_factory=list)
    cancel_alls: int = 0

    async def cancel_all(self) -> None:
        self.cancel_alls += 1

    async def open_orders(self) -> Sequence[OrderSnapshot]:
        return self.listed


def listed(order_id: str, cl_ord_id: str | None) -> OrderSnapshot:
    return OrderSnapshot(
        order_id=order_id,
        cl_ord_id=cl_ord_id,
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.TRAILING_STOP,
        qty=D("100"),
        limit_price=None,
        status=OrderStatus.OPEN,
        filled_qty=D(0),
        filled_cost=D(0),
        fee=D(0),
        opened_ns=1,
    )


async def test_emergency_cancel_everything_goes_through_the_gate(kit: Kit) -> None:
    venue = ListingVenue(repo=kit.repo)
    kit.manager.venue = venue
    first = await placed(kit)
    second = await placed(kit, qty="20")
    await kit.manager.cancel(CancelIntent(second.cl_ord_id), kit.ctx())
    await kit.manager.cancel_everything("operator", kit.ctx())
    await kit.settle()
    assert {c.cl_ord_id for c in venue.cancelled} == {first.cl_ord_id, second.cl_ord_id}
    assert all(o.cancel_requested for o in kit.manager.registry.live())
    row = await kit.repo.order_by_cl_ord_id(first.cl_ord_id)
    assert row is not None and row.cancel_requested
    assert (await kit.repo.events("cancel_all"))[0].payload["reason"] == "operator"
    kit.manager.gate = DenyAll()  # type: ignore[assignment]
    sent = len(venue.cancelled)
    denied = await kit.manager.cancel_everything("operator", kit.ctx())
    assert isinstance(denied, Denied) and len(venue.cancelled) == sent


async def test_emergency_cancels_only_our_orders_never_with_cancel_all(kit: Kit) -> None:
    """A trailing stop the operator placed by hand survives krakenbot's emergency stop; an
    order of ours the registry does not know (an earlier process's) is cancelled too."""
    venue = ListingVenue(repo=kit.repo)
    kit.manager.venue = venue
    ours = await placed(kit)
    unknown = new_cl_ord_id(1, random.Random(5))
    venue.listed = [listed("OMANUAL", None), listed("OOTHER", "bot-7"), listed("OOLD", unknown)]
    await kit.manager.cancel_everything("operator", kit.ctx())
    await kit.settle()
    assert venue.cancel_alls == 0
    cancelled = {(c.cl_ord_id, c.order_id) for c in venue.cancelled}
    assert cancelled == {(ours.cl_ord_id, None), (unknown, "OOLD")}
    assert (await kit.repo.events("cancel_all"))[0].payload["cancels"] == "2"


# ---------------------------------------------------------------- an unwritable ledger
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


def broken_ledger(kit: Kit, *broken: str) -> BrokenLedger:
    ledger = BrokenLedger(kit.repo)
    ledger.broken.update(broken)
    kit.manager.repo = ledger  # type: ignore[assignment]
    return ledger


async def test_an_order_that_cannot_be_persisted_is_never_sent(kit: Kit) -> None:
    broken_ledger(kit, "insert_order")
    with pytest.raises(sqlite3.OperationalError):
        await kit.manager.submit(entry(), kit.ctx())
    await kit.settle()
    assert kit.venue.placed == [] and kit.manager.orders_sent == 0
    assert len(kit.manager.registry) == 0 and await kit.repo.orders_since(0) == []


async def test_a_cancel_goes_out_even_when_the_ledger_cannot_record_it(kit: Kit) -> None:
    order = await placed(kit)
    ledger = broken_ledger(kit, "update_order")
    decision = await kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx())
    await kit.settle()
    assert not isinstance(decision, Denied)
    assert [c.cl_ord_id for c in kit.venue.cancelled] == [order.cl_ord_id]
    assert ledger.calls["update_order"] == 1
    current = kit.manager.registry.get(order.cl_ord_id)
    assert current is not None and current.cancel_requested  # in memory all the same


async def test_while_the_ledger_fails_cancels_are_sent_without_writing(kit: Kit) -> None:
    first = await placed(kit)
    second = await placed(kit, qty="20")
    ledger = broken_ledger(kit, "update_order", "record_event")
    kit.manager.ledger_failing = lambda: True
    assert await kit.manager.cancel_all_ours("shutdown", kit.ctx()) == 2
    await kit.settle()
    assert {c.cl_ord_id for c in kit.venue.cancelled} == {first.cl_ord_id, second.cl_ord_id}
    kit.venue.cancelled.clear()
    await kit.manager.cancel_everything("emergency", kit.ctx())
    await kit.settle()
    assert {c.cl_ord_id for c in kit.venue.cancelled} == {first.cl_ord_id, second.cl_ord_id}
    assert ledger.calls == {}


async def test_emergency_cancels_are_sent_before_their_records_which_may_fail(kit: Kit) -> None:
    order = await placed(kit)
    broken_ledger(kit, "update_order", "record_event")
    seen_rows: list[bool] = []

    async def cancel(command: CancelOrder) -> None:
        row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
        seen_rows.append(row is not None and row.cancel_requested)

    kit.venue.cancel = cancel  # type: ignore[method-assign]
    decision = await kit.manager.cancel_everything("emergency", kit.ctx())
    assert not isinstance(decision, Denied) and seen_rows == [False]
    assert await kit.repo.events("cancel_all") == []
    kit.manager.repo = kit.repo
    current = kit.manager.registry.get(order.cl_ord_id)
    assert current is not None
    await kit.manager.cancel_everything("again", kit.ctx())
    assert len(await kit.repo.events("cancel_all")) == 1


async def test_a_fill_that_cannot_be_recorded_is_not_trusted_and_comes_again(kit: Kit) -> None:
    order = await placed(kit)
    await kit.manager.apply(report(order, ExecType.NEW))
    broken_ledger(kit, "insert_fill")
    with pytest.raises(sqlite3.OperationalError):
        await kit.manager.apply(report(order, ExecType.TRADE, fill=fill(order)))
    current = kit.manager.registry.get(order.cl_ord_id)
    assert current is not None and current.filled_qty == 0 and not current.fill_ids
    assert await kit.repo.load_fills(0) == []
    kit.manager.repo = kit.repo  # writable again: the same trade (e.g. from reconciliation)
    applied = await kit.manager.apply(fill(order))
    assert applied is not None and applied.new_fill is not None
    assert [f.trade_id for f in await kit.repo.load_fills(0)] == ["T1"]
    more = await kit.manager.apply(fill(order, "T2", qty="5"))  # still partially filled
    assert more is not None and more.after.status is more.before.status
    assert [f.trade_id for f in await kit.repo.load_fills(0)] == ["T1", "T2"]


async def test_an_order_update_that_failed_is_written_by_housekeeping(kit: Kit) -> None:
    order = await placed(kit)
    ledger = broken_ledger(kit, "update_order")
    applied = await kit.manager.apply(report(order, ExecType.NEW))  # no exception
    assert applied is not None and applied.after.status is OrderStatus.OPEN
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.status is OrderStatus.PENDING_NEW
    kit.manager.ledger_failing = lambda: True
    await kit.manager.housekeeping(kit.ctx())  # not tried while the ledger is down
    assert ledger.calls["update_order"] == 1
    kit.manager.ledger_failing = lambda: False
    await kit.manager.housekeeping(kit.ctx())  # tried, fails again: kept for later
    assert ledger.calls["update_order"] == 2
    ledger.broken.clear()
    await kit.manager.housekeeping(kit.ctx())
    row = await kit.repo.order_by_cl_ord_id(order.cl_ord_id)
    assert row is not None and row.status is OrderStatus.OPEN and row.txid == "OTXID1"
    await kit.manager.housekeeping(kit.ctx())
    assert ledger.calls["update_order"] == 3  # written once: nothing left to retry


async def test_a_forgotten_order_is_not_retried(kit: Kit) -> None:
    order = await placed(kit)
    ledger = broken_ledger(kit, "update_order")
    await kit.manager.apply(OrderRejected(order.cl_ord_id, "EOrder:Post only order", "place", 1))
    assert kit.manager.registry.forget_finished(kit.clock.now_ns() + 1) == 1
    ledger.broken.clear()
    await kit.manager.housekeeping(kit.ctx())
    assert ledger.calls["update_order"] == 1
