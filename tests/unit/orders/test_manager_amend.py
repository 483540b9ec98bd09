"""OrderManager, synchronous: amends in place (gate, then the send and its audit row as
effects), GTD entries, amended rows written, shutdown sparing the protective stops. The kit
is test_manager's (intents and events in, effects out); what the runner does with an amend's
outcome is tests/unit/engine/test_executor.py."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from test_manager import Kit, applied, entry, kit, placed
from tests.orderkit import report

from krakenbot.domain.commands import AmendIntent, AmendOrder, OrderIntent
from krakenbot.domain.effects import (
    Notify,
    PersistOrder,
    RecordEvent,
    SendAmend,
    SendCancel,
    SendOrder,
    UpdateOrder,
)
from krakenbot.domain.enums import (
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerReference,
)
from krakenbot.domain.order import Order
from krakenbot.domain.order_terms import OrderPrice, TriggerState
from krakenbot.orders.manager import ManagerConfig
from krakenbot.risk.decision import Denied, Rule

__all__ = ["kit"]  # the fixture, used by name
PROTECT_TAG = "protect"


def protective(qty: str = "30", trigger: str = "0.280000") -> OrderIntent:
    """A reducing stop-loss sell, as the engine places to protect a position."""
    return OrderIntent(
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        qty=D(qty),
        limit_price=None,
        reduces_position=True,
        tag=PROTECT_TAG,
        trigger_price=D(trigger),
    )


def is_stop(order: Order) -> bool:
    return order.order_type is OrderType.STOP_LOSS


def stop_order(kit: Kit) -> str:
    kit.manager.submit(protective(), kit.ctx(positions={"XLM/USD": D("40")}), kit.out)
    (order,) = [o for o in kit.manager.registry.all() if o.tag == PROTECT_TAG]
    kit.manager.send_finished(order.cl_ord_id)
    applied(kit, report(order, ExecType.NEW))  # acknowledged, resting
    kit.take()
    return order.cl_ord_id


def test_a_protective_stop_is_persisted_with_its_trigger_before_it_is_sent(kit: Kit) -> None:
    kit.manager.submit(protective(), kit.ctx(positions={"XLM/USD": D("40")}), kit.out)
    persist, send = kit.of(PersistOrder)[0], kit.of(SendOrder)[0]
    assert kit.out.index(persist) < kit.out.index(send)
    assert isinstance(persist, PersistOrder) and isinstance(send, SendOrder)
    sent = send.command
    assert persist.command == sent and persist.tag == PROTECT_TAG and persist.reduces_position
    assert sent.order_type is OrderType.STOP_LOSS and sent.trigger_price == D("0.280000")
    assert sent.limit_price is None and sent.reduces_position
    assert sent.time_in_force is TimeInForce.GTC and sent.expire_s is None


def test_an_amend_goes_through_the_gate_and_leaves_before_its_audit_row(kit: Kit) -> None:
    cl_ord_id = stop_order(kit)
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    intent = AmendIntent(cl_ord_id, qty=D("40"), trigger_price=D("0.279000"), reason="test")
    decision = kit.manager.amend(intent, ctx, kit.out)
    assert not isinstance(decision, Denied)
    note, send, row = kit.take()
    assert isinstance(note, Notify) and isinstance(row, RecordEvent)
    assert send == SendAmend(
        AmendOrder(
            cl_ord_id=cl_ord_id,
            symbol="XLM/USD",
            order_id="OTXID1",
            qty=D("40"),
            trigger_price=D("0.279000"),
            reduces_position=True,
        )
    )
    assert row.kind == "amend" and row.payload["qty"] == "40" and row.payload["reason"] == "test"
    # The row changes when the venue says so: the `amended` report.
    order = kit.manager.registry.get(cl_ord_id)
    assert order is not None
    trigger = TriggerState(TriggerReference.LAST, OrderPrice(D("0.279000")))
    applied(kit, report(order, ExecType.AMENDED, order_qty=D("40"), trigger=trigger))
    (update,) = kit.of(UpdateOrder)
    assert isinstance(update, UpdateOrder)
    assert update.qty == D("40") and update.price == D("0.279000") and update.status is None


def test_an_amend_the_gate_refuses_is_audited_and_never_sent(kit: Kit) -> None:
    cl_ord_id = stop_order(kit)
    too_much = AmendIntent(cl_ord_id, qty=D("50"))  # more than the 40 XLM held
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    decision = kit.manager.amend(too_much, ctx, kit.out)
    assert isinstance(decision, Denied) and decision.rule is Rule.NOT_REDUCING
    unknown = kit.manager.amend(AmendIntent("kbnope", qty=D("1")), kit.ctx(), kit.out)
    assert isinstance(unknown, Denied) and unknown.rule is Rule.NOT_WORKING
    rows = [e.payload for e in kit.of(RecordEvent)]  # type: ignore[attr-defined]
    assert [r["rule"] for r in rows] == ["not_reducing", "not_working"]
    assert rows[0]["cl_ord_id"] == cl_ord_id and rows[0]["qty"] == "50"
    assert kit.of(SendAmend) == []


def test_an_order_that_is_closing_is_not_amended(kit: Kit) -> None:
    order = placed(kit)
    applied(kit, report(order, ExecType.NEW))
    kit.manager.cancel_all_ours("test", kit.ctx(), kit.out)
    kit.take()
    intent = AmendIntent(order.cl_ord_id, limit_price=D("0.288"))
    assert not isinstance(kit.manager.amend(intent, kit.ctx(), kit.out), Denied)
    assert kit.out == []


def test_an_amend_leaves_without_its_row_while_the_ledger_fails(kit: Kit) -> None:
    cl_ord_id = stop_order(kit)
    kit.manager.ledger_failing = True
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    kit.manager.amend(AmendIntent(cl_ord_id, qty=D("36")), ctx, kit.out)
    assert [type(e) for e in kit.out] == [Notify, SendAmend]


def test_entries_rest_gtd_for_the_switch_timeout_exits_never_expire(kit: Kit) -> None:
    kit.manager.config = replace(kit.manager.config, entry_expire_s=60.0)
    placed(kit)
    gtd = kit.manager.registry.all()[-1]
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    kit.manager.submit(entry(price="0.290", time_in_force=TimeInForce.IOC), ctx, kit.out)
    exit_ = entry(side=Side.SELL, price="0.291", reduces_position=True, tag="exit")
    kit.manager.submit(exit_, ctx, kit.out)
    ioc, sold = (e.command for e in kit.of(SendOrder))  # type: ignore[attr-defined]
    assert gtd.time_in_force is TimeInForce.GTD
    assert ioc.time_in_force is TimeInForce.IOC and ioc.expire_s is None
    assert sold.time_in_force is TimeInForce.GTC and sold.expire_s is None
    kit.take()
    kit.manager.submit(entry(qty="20"), kit.ctx(), kit.out)
    (rests,) = (e.command for e in kit.of(SendOrder))  # type: ignore[attr-defined]
    assert rests.time_in_force is TimeInForce.GTD and rests.expire_s == 60.0
    assert ManagerConfig().entry_expire_s is None  # set by the stack from the settings


def test_shutdown_spares_the_protective_stops(kit: Kit) -> None:
    stop_id = stop_order(kit)
    order = placed(kit)
    count = kit.manager.cancel_all_ours("shutdown", kit.ctx(), kit.out, spare=is_stop)
    cancelled = [e.command.cl_ord_id for e in kit.of(SendCancel)]  # type: ignore[attr-defined]
    assert count == 1 and cancelled == [order.cl_ord_id]
    kept = kit.manager.registry.get(stop_id)
    assert kept is not None and not kept.cancel_requested
    assert kept.status is OrderStatus.OPEN
