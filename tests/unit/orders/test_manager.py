"""OrderManager, synchronous: gate in front of everything, persist before send (as effects, in
that order), the "being sent" mark, cancels and their retries, bulk cancels, FSM events and
the fill hand-over, the rows it rewrites. Intents and events in, effects out; no I/O. (What
the runner does with the effects — real ledger, fake venue — is tests/unit/engine/
test_executor.py.)"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import Decimal as D

import pytest
from tests.instruments import XLM
from tests.orderkit import fill, report

from krakenbot.domain.commands import CancelIntent, CancelOrder, OrderIntent
from krakenbot.domain.effects import (
    Effect,
    FlagCancel,
    Notify,
    OpenLearningEntry,
    PersistOrder,
    RecordEvent,
    SendCancel,
    SendOrder,
    UpdateOrder,
)
from krakenbot.domain.enums import (
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    SystemState,
    TradingState,
)
from krakenbot.domain.events import (
    BookTop,
    ExecutionReport,
    Fill,
    OrderAccepted,
    OrderRejected,
    PriceLevel,
)
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.orders.clordid import new_cl_ord_id
from krakenbot.orders.manager import ManagerConfig, OrderManager
from krakenbot.orders.registry import OrderRegistry
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Checked, Decision, Denied, Rule
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import RiskLimits

S = 1_000_000_000
START = 1_763_776_800_000_000_000
LIMITS = RiskLimits(
    allowed_symbols=frozenset({"XLM/USD"}),
    max_trade_usd=D("10"),
    min_order_usd=D("1"),
    max_total_exposure_usd=D("30"),
    max_positions=1,
    max_daily_loss_usd=D("5"),
)


class DenyAll:
    """A gate stub that denies even cancels (the manager must still audit it)."""

    limits = LIMITS

    def check(self, item: Checked, ctx: RiskContext) -> Decision:
        return Denied(item, Rule.TRADING_HALTED, "stub")


@dataclass
class Kit:
    manager: OrderManager
    now: int = START
    out: list[Effect] = field(default_factory=list)

    def ctx(self, **kw: object) -> RiskContext:
        book = BookTop(
            "XLM/USD",
            (PriceLevel(D("0.289"), D("1000")),),
            (PriceLevel(D("0.291"), D("1000")),),
            True,
            self.now,
            self.now,
        )
        base = RiskContext(
            now_ns=self.now,
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

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * S)

    def take(self) -> list[Effect]:
        out, self.out = self.out, []
        return out

    def of(self, kind: type) -> list[Effect]:
        return [e for e in self.out if isinstance(e, kind)]


@pytest.fixture
def kit() -> Kit:
    manager = OrderManager(
        gate=RiskGate(LIMITS),
        registry=OrderRegistry(),
        rng=random.Random(3),
        config=ManagerConfig(order_timeout_s=60, cancel_retry_s=5, ack_timeout_s=10),
    )
    return Kit(manager)


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


def placed(kit: Kit, **kw: object) -> Order:
    kit.manager.submit(entry(**kw), kit.ctx(), kit.out)  # type: ignore[arg-type]
    kit.manager.send_finished(kit.manager.registry.all()[-1].cl_ord_id)
    kit.take()
    return kit.manager.registry.all()[-1]


def applied(kit: Kit, event: ExecutionReport | Fill | OrderAccepted | OrderRejected) -> None:
    """Apply an event and write its result (as the engine does once a fill is recorded)."""
    done = kit.manager.apply(event)
    assert done is not None
    kit.manager.persist(done, kit.now, kit.out)


# ---------------------------------------------------------------- submit
def test_denied_intent_is_audited_and_never_persisted_or_sent(kit: Kit) -> None:
    decision = kit.manager.submit(entry(qty="100"), kit.ctx(), kit.out)  # 28.9 USD > 10
    assert isinstance(decision, Denied) and decision.rule is Rule.MAX_TRADE_SIZE
    (event,) = kit.of(RecordEvent)
    assert event.kind == "risk_denied" and event.payload["rule"] == "max_trade_size"  # type: ignore[attr-defined]
    assert kit.of(PersistOrder) == [] and kit.of(SendOrder) == []
    assert kit.manager.denials == 1 and kit.manager.last_denial is decision
    assert len(kit.manager.registry) == 0


def test_the_order_row_and_learning_row_precede_the_send(kit: Kit) -> None:
    features = (("z", "-2.5"),)
    kit.manager.submit(entry(features=features), kit.ctx(), kit.out)
    (order,) = kit.manager.registry.all()
    kinds = [type(e) for e in kit.out]
    assert kinds == [PersistOrder, Notify, OpenLearningEntry, SendOrder]
    persist, _, learning, send = kit.out
    assert isinstance(persist, PersistOrder) and isinstance(send, SendOrder)
    assert persist.command == send.command and send.command.cl_ord_id == order.cl_ord_id
    assert persist.tag == "entry" and persist.created_ns == kit.now
    assert learning == OpenLearningEntry(order.cl_ord_id, "XLM/USD", features, kit.now)
    assert order.status is OrderStatus.PENDING_NEW


def test_an_order_counts_as_being_sent_until_its_send_finished(kit: Kit) -> None:
    kit.manager.submit(entry(), kit.ctx(), kit.out)
    (order,) = kit.manager.registry.all()
    assert kit.manager.sending == {order.cl_ord_id}  # set with the decision
    kit.manager.send_finished(order.cl_ord_id)
    assert kit.manager.sending == set()


def test_an_order_whose_row_failed_is_forgotten(kit: Kit) -> None:
    kit.manager.submit(entry(), kit.ctx(), kit.out)
    (order,) = kit.manager.registry.all()
    kit.manager.not_persisted(order.cl_ord_id, row_written=False)
    assert kit.manager.sending == set() and len(kit.manager.registry) == 0


def test_an_order_whose_learning_row_failed_is_left_to_reconciliation(kit: Kit) -> None:
    kit.manager.submit(entry(features=(("z", "1"),)), kit.ctx(), kit.out)
    (order,) = kit.manager.registry.all()
    kit.manager.not_persisted(order.cl_ord_id, row_written=True)
    assert kit.manager.sending == set()  # its absence becomes provable
    assert kit.manager.registry.get(order.cl_ord_id) is not None


def test_ids_never_collide_with_a_tracked_order(kit: Kit) -> None:
    taken = new_cl_ord_id(kit.now, random.Random(3))
    kit.manager.registry.add(
        Order(taken, "XLM/USD", Side.SELL, OrderType.LIMIT, D("1"), D("1"), kit.now)
    )
    order = placed(kit)
    assert order.cl_ord_id != taken


# ---------------------------------------------------------------- cancel
def test_cancel_goes_through_the_gate_before_its_flag(kit: Kit) -> None:
    order = placed(kit)
    applied(kit, OrderAccepted(order.cl_ord_id, "OTXID1", 3))
    kit.take()
    kit.manager.cancel(CancelIntent(order.cl_ord_id, "test"), kit.ctx(), kit.out)
    assert kit.take() == [
        SendCancel(CancelOrder(order.cl_ord_id, "OTXID1"), "test"),
        FlagCancel(order.cl_ord_id, kit.now),
    ]
    # Asked again too soon: not re-sent; after cancel_retry_s: re-sent (idempotent).
    kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx(), kit.out)
    assert kit.take() == []
    kit.advance(6)
    kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx(), kit.out)
    assert kit.take() == [SendCancel(CancelOrder(order.cl_ord_id, "OTXID1"), "")]


def test_cancel_of_unknown_or_finished_orders_sends_nothing(kit: Kit) -> None:
    kit.manager.cancel(CancelIntent("kbnothing"), kit.ctx(), kit.out)
    order = placed(kit)
    applied(kit, OrderRejected(order.cl_ord_id, "EOrder:Post only order"))
    kit.take()
    kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx(), kit.out)
    assert kit.out == []


def test_denied_cancel_is_audited(kit: Kit) -> None:
    order = placed(kit)
    kit.manager.gate = DenyAll()  # type: ignore[assignment]
    decision = kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx(), kit.out)
    assert isinstance(decision, Denied)
    (event,) = kit.of(RecordEvent)
    assert event.payload["rule"] == "trading_halted"  # type: ignore[attr-defined]
    assert kit.of(SendCancel) == []


def test_while_the_ledger_fails_cancels_are_sent_without_writing(kit: Kit) -> None:
    first = placed(kit)
    second = placed(kit, qty="20")
    kit.manager.ledger_failing = True
    assert kit.manager.cancel_all_ours("shutdown", kit.ctx(), kit.out) == 2
    sent = {e.command.cl_ord_id for e in kit.of(SendCancel)}  # type: ignore[attr-defined]
    assert sent == {first.cl_ord_id, second.cl_ord_id}
    assert [e for e in kit.take() if not isinstance(e, SendCancel)] == []
    kit.manager.cancel_everything("emergency", kit.ctx(), kit.out)
    kit.manager.cancel_listed("emergency", [], kit.now, kit.out)
    sent = {e.command.cl_ord_id for e in kit.of(SendCancel)}  # type: ignore[attr-defined]
    assert sent == {first.cl_ord_id, second.cl_ord_id}
    assert [e for e in kit.out if not isinstance(e, SendCancel)] == []


def test_cancel_all_ours_resends_even_recently_requested(kit: Kit) -> None:
    first = placed(kit)
    placed(kit, qty="20")
    kit.manager.cancel(CancelIntent(first.cl_ord_id), kit.ctx(), kit.out)
    kit.take()
    count = kit.manager.cancel_all_ours("shutdown", kit.ctx(), kit.out)
    assert count == 2 and len(kit.of(SendCancel)) == 2
    assert len(kit.of(FlagCancel)) == 1  # the first one's flag was written already


def test_an_exit_kept_by_the_shutdown_is_never_cancelled_again(kit: Kit) -> None:
    """No protective stop could take its place: a reducing order rather than none. Neither
    a retry (housekeeping) nor the shutdown's bulk cancel sends its cancel any more; the
    other orders are cancelled as before."""
    kept = placed(kit)
    other = placed(kit, qty="20")
    kit.manager.cancel(CancelIntent(kept.cl_ord_id, "shutdown"), kit.ctx(), kit.out)
    kit.take()
    kit.manager.keep({kept.cl_ord_id})
    kit.advance(6)
    kit.manager.cancel(CancelIntent(kept.cl_ord_id), kit.ctx(), kit.out)
    kit.manager.housekeeping(kit.now, kit.ctx, kit.out)
    assert kit.manager.cancel_all_ours("shutdown", kit.ctx(), kit.out) == 2
    sent = [e.command.cl_ord_id for e in kit.of(SendCancel)]  # type: ignore[attr-defined]
    assert sent == [other.cl_ord_id]


# ---------------------------------------------------------------- housekeeping
def test_housekeeping_times_out_orders(kit: Kit) -> None:
    pending = placed(kit)
    resting = placed(kit, qty="20")
    applied(kit, OrderAccepted(resting.cl_ord_id, "OTXID2", 3))
    kit.take()
    kit.advance(11)
    assert kit.manager.housekeeping(kit.now, kit.ctx, kit.out) == [pending.cl_ord_id]
    assert kit.take() == []
    kit.advance(60)
    kit.manager.housekeeping(kit.now, kit.ctx, kit.out)
    cancels = [e.command.cl_ord_id for e in kit.of(SendCancel)]  # type: ignore[attr-defined]
    assert cancels == [resting.cl_ord_id]
    kit.take()
    kit.advance(6)  # the cancel is not confirmed: sent again
    kit.manager.housekeeping(kit.now, kit.ctx, kit.out)
    assert [type(e) for e in kit.take()] == [SendCancel]


# ---------------------------------------------------------------- events up
def test_a_new_fill_is_handed_over_before_the_row_and_once(kit: Kit) -> None:
    order = placed(kit)
    applied(kit, report(order, ExecType.NEW))
    done = kit.manager.apply(report(order, ExecType.TRADE, fill=fill(order)))
    assert done is not None and done.new_fill is not None
    assert done.new_fill.cl_ord_id == order.cl_ord_id
    kit.manager.persist(done, kit.now, kit.out)
    again = kit.manager.apply(fill(order))  # the same trade from REST history
    assert again is not None and again.after is again.before and again.new_fill is None
    kit.take()
    kit.manager.persist(again, kit.now, kit.out)
    assert kit.out == []  # nothing changed: nothing written
    current = kit.manager.registry.get(order.cl_ord_id)
    assert current is not None and current.status is OrderStatus.PARTIALLY_FILLED
    more = kit.manager.apply(fill(order, "T2", qty="5"))  # still partially filled
    assert more is not None and more.new_fill is not None
    kit.manager.persist(more, kit.now, kit.out)
    (update,) = kit.take()  # the row only: no status line
    assert isinstance(update, UpdateOrder) and update.status is None


def test_the_row_update_names_only_what_changed(kit: Kit) -> None:
    order = placed(kit)
    applied(kit, report(order, ExecType.NEW))
    (update, note) = kit.take()
    assert isinstance(update, UpdateOrder) and isinstance(note, Notify)
    assert update.status is OrderStatus.OPEN and update.txid == "OTXID1"
    assert update.reason is None and update.ledger_has == order
    applied(kit, report(order, ExecType.CANCELED, order_status=OrderStatus.CANCELED, reason="x"))
    update = kit.take()[0]
    assert isinstance(update, UpdateOrder) and update.txid is None and update.reason == "x"


def test_a_fill_that_was_not_recorded_is_taken_back(kit: Kit) -> None:
    order = placed(kit)
    applied(kit, report(order, ExecType.NEW))
    done = kit.manager.apply(report(order, ExecType.TRADE, fill=fill(order)))
    assert done is not None
    kit.manager.unrecorded(done)
    current = kit.manager.registry.get(order.cl_ord_id)
    assert current is not None and current.filled_qty == 0 and not current.fill_ids
    again = kit.manager.apply(fill(order))  # brought again (e.g. by reconciliation)
    assert again is not None and again.new_fill is not None


def test_unknown_event_is_not_ours(kit: Kit) -> None:
    assert kit.manager.apply(OrderAccepted("kbunknown", "OX")) is None


def test_terminal_report_clears_the_cancel_retry(kit: Kit) -> None:
    order = placed(kit)
    kit.manager.cancel(CancelIntent(order.cl_ord_id), kit.ctx(), kit.out)
    applied(kit, report(order, ExecType.CANCELED, reason="User requested"))
    kit.take()
    current = kit.manager.registry.get(order.cl_ord_id)
    assert current is not None and current.status is OrderStatus.CANCELED
    kit.advance(6)
    kit.manager.housekeeping(kit.now, kit.ctx, kit.out)
    assert kit.out == []


def test_adopt_tracks_once(kit: Kit) -> None:
    order = Order(
        "kbadopted00000001",
        "XLM/USD",
        Side.BUY,
        OrderType.LIMIT,
        D("30"),
        D("0.289"),
        kit.now,
        status=OrderStatus.OPEN,
        order_id="OADOPT",
        tag="adopted",
        venue_cum_qty=D("5"),
        filled_qty=D("5"),
    )
    assert kit.manager.adopt(order) is True
    assert kit.manager.adopt(order) is False
    tracked = kit.manager.registry.get(order.cl_ord_id)
    assert tracked is not None and tracked.filled_qty == 0  # fills come from history


# ---------------------------------------------------------------- emergency
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


def test_emergency_cancel_everything_goes_through_the_gate(kit: Kit) -> None:
    first = placed(kit)
    second = placed(kit, qty="20")
    kit.manager.cancel(CancelIntent(second.cl_ord_id), kit.ctx(), kit.out)
    kit.take()
    kit.manager.cancel_everything("operator", kit.ctx(), kit.out)
    sent = {e.command.cl_ord_id for e in kit.of(SendCancel)}  # type: ignore[attr-defined]
    assert sent == {first.cl_ord_id, second.cl_ord_id}
    assert kit.of(FlagCancel) == []  # not before the listing step
    assert all(o.cancel_requested for o in kit.manager.registry.live())
    assert kit.manager.cancel_listed("operator", [], kit.now, kit.out) == 2
    assert kit.of(FlagCancel) == [FlagCancel(first.cl_ord_id, kit.now)]
    record = kit.out[-1]
    assert isinstance(record, RecordEvent) and record.kind == "cancel_all"
    assert record.payload == {"reason": "operator", "cancels": "2"}
    kit.take()
    kit.manager.gate = DenyAll()  # type: ignore[assignment]
    denied = kit.manager.cancel_everything("operator", kit.ctx(), kit.out)
    assert isinstance(denied, Denied) and kit.of(SendCancel) == []


def test_emergency_cancels_only_our_orders(kit: Kit) -> None:
    """A trailing stop the operator placed by hand survives krakenbot's emergency stop; an
    order of ours the registry does not know (an earlier process's) is cancelled too."""
    ours = placed(kit)
    unknown = new_cl_ord_id(1, random.Random(5))
    kit.manager.cancel_everything("operator", kit.ctx(), kit.out)
    found = [listed("OMANUAL", None), listed("OOTHER", "bot-7"), listed("OOLD", unknown)]
    found.append(replace(listed("OOURS", ours.cl_ord_id)))  # sent in the first step
    assert kit.manager.cancel_listed("operator", found, kit.now, kit.out) == 2
    cancelled = {(e.command.cl_ord_id, e.command.order_id) for e in kit.of(SendCancel)}  # type: ignore[attr-defined]
    assert cancelled == {(ours.cl_ord_id, None), (unknown, "OOLD")}


def test_a_listing_without_its_first_step_cancels_what_is_ours(kit: Kit) -> None:
    unknown = new_cl_ord_id(1, random.Random(5))
    assert kit.manager.cancel_listed("late", None, kit.now, kit.out) == 0
    assert kit.manager.cancel_listed("late", [listed("OOLD", unknown)], kit.now, kit.out) == 1


# ---------------------------------------------------------------- failed row updates
def test_an_order_update_that_failed_is_written_by_housekeeping(kit: Kit) -> None:
    order = placed(kit)
    applied(kit, report(order, ExecType.NEW))
    (update, _) = kit.take()
    assert isinstance(update, UpdateOrder)
    kit.manager.update_failed(update)
    kit.manager.ledger_failing = True
    kit.manager.housekeeping(kit.now, kit.ctx, kit.out)  # not tried while the ledger is down
    assert kit.take() == []
    kit.manager.ledger_failing = False
    kit.manager.housekeeping(kit.now, kit.ctx, kit.out)  # written from the ledger's version
    (retry,) = kit.take()
    assert isinstance(retry, UpdateOrder)
    assert retry.status is OrderStatus.OPEN and retry.txid == "OTXID1"
    kit.manager.housekeeping(kit.now, kit.ctx, kit.out)
    assert kit.take() == []  # nothing left to retry


def test_a_forgotten_order_is_not_retried(kit: Kit) -> None:
    order = placed(kit)
    applied(kit, OrderRejected(order.cl_ord_id, "EOrder:Post only order", "place", 1))
    (update, *_) = kit.take()
    assert isinstance(update, UpdateOrder)
    kit.manager.update_failed(update)
    assert kit.manager.registry.forget_finished(kit.now + 1) == 1
    kit.manager.housekeeping(kit.now, kit.ctx, kit.out)
    assert kit.out == []
