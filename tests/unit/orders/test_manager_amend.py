"""OrderManager: amends in place (gate, send, outcomes as events), GTD entries, amended rows
persisted, shutdown sparing the protective stops. The kit is test_manager's (real ledger,
recording fake venue, ManualClock)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from test_manager import Kit, broken_ledger, entry, kit, placed, report

from krakenbot.domain.commands import AmendIntent, AmendOrder, OrderIntent
from krakenbot.domain.enums import (
    ExecType,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerReference,
)
from krakenbot.domain.events import AmendRejected
from krakenbot.domain.order import Order
from krakenbot.domain.order_terms import OrderPrice, TriggerState
from krakenbot.errors import FatalExchangeError, RejectedError, TransportError
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


async def stop_order(kit: Kit) -> str:
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    await kit.manager.submit(protective(), ctx)
    await kit.settle()
    (order,) = [o for o in kit.manager.registry.all() if o.tag == PROTECT_TAG]
    await kit.manager.apply(report(order, ExecType.NEW))  # acknowledged, resting
    return order.cl_ord_id


async def test_a_protective_stop_is_persisted_with_its_trigger_before_it_is_sent(kit: Kit) -> None:
    cl_ord_id = await stop_order(kit)
    assert kit.venue.persisted_before_send == [True]
    [sent] = kit.venue.placed
    assert sent.order_type is OrderType.STOP_LOSS and sent.trigger_price == D("0.280000")
    assert sent.limit_price is None and sent.reduces_position
    assert sent.time_in_force is TimeInForce.GTC and sent.expire_s is None
    row = await kit.repo.order_by_cl_ord_id(cl_ord_id)
    assert row is not None and row.order_type is OrderType.STOP_LOSS
    assert row.trigger_price == D("0.280000") and row.limit_price is None
    assert row.tag == PROTECT_TAG and row.reduces_position


async def test_an_amend_goes_through_the_gate_and_leaves_in_the_background(kit: Kit) -> None:
    cl_ord_id = await stop_order(kit)
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    intent = AmendIntent(cl_ord_id, qty=D("40"), trigger_price=D("0.279000"), reason="test")
    decision = await kit.manager.amend(intent, ctx)
    await kit.settle()
    assert not isinstance(decision, Denied)
    assert kit.venue.amended == [
        AmendOrder(
            cl_ord_id=cl_ord_id,
            symbol="XLM/USD",
            order_id="OTXID1",
            qty=D("40"),
            trigger_price=D("0.279000"),
            reduces_position=True,
        )
    ]
    [row] = [e.payload for e in await kit.repo.events("amend")]
    assert row["cl_ord_id"] == cl_ord_id and row["qty"] == "40" and row["reason"] == "test"
    # The row changes when the venue says so: the `amended` report.
    order = kit.manager.registry.get(cl_ord_id)
    assert order is not None
    trigger = TriggerState(TriggerReference.LAST, OrderPrice(D("0.279000")))
    amended = report(order, ExecType.AMENDED, order_qty=D("40"), trigger=trigger)
    await kit.manager.apply(amended)
    stored = await kit.repo.order_by_cl_ord_id(cl_ord_id)
    assert stored is not None and stored.qty == D("40")
    assert stored.trigger_price == D("0.279000") and stored.limit_price is None


async def test_an_amend_the_gate_refuses_is_audited_and_never_sent(kit: Kit) -> None:
    cl_ord_id = await stop_order(kit)
    too_much = AmendIntent(cl_ord_id, qty=D("50"))  # more than the 40 XLM held
    decision = await kit.manager.amend(too_much, kit.ctx(positions={"XLM/USD": D("40")}))
    assert isinstance(decision, Denied) and decision.rule is Rule.NOT_REDUCING
    unknown = await kit.manager.amend(AmendIntent("kbnope", qty=D("1")), kit.ctx())
    assert isinstance(unknown, Denied) and unknown.rule is Rule.NOT_WORKING
    rows = [e.payload for e in await kit.repo.events("risk_denied")]
    assert [r["rule"] for r in rows] == ["not_reducing", "not_working"]
    assert rows[0]["cl_ord_id"] == cl_ord_id and rows[0]["qty"] == "50"
    assert kit.venue.amended == []


async def test_an_order_that_is_closing_is_not_amended(kit: Kit) -> None:
    order = await placed(kit)
    await kit.manager.apply(report(order, ExecType.NEW))
    ctx = kit.ctx()
    await kit.manager.cancel_all_ours("test", ctx)
    await kit.manager.amend(AmendIntent(order.cl_ord_id, limit_price=D("0.288")), kit.ctx())
    await kit.settle()
    assert kit.venue.amended == []


async def test_amend_outcomes_come_back_as_events(kit: Kit) -> None:
    cl_ord_id = await stop_order(kit)
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    refused = RejectedError("x", endpoint="AmendOrder", kraken_error="EOrder:Unknown order")
    for failure, error in (
        (refused, "EOrder:Unknown order"),
        (TransportError("reset", endpoint="AmendOrder"), "amend outcome unknown"),
        (FatalExchangeError("EAPI:Invalid key", endpoint="AmendOrder"), "EAPI:Invalid key"),
    ):
        kit.venue.fail_amend = failure
        kit.delivered.clear()
        await kit.manager.amend(AmendIntent(cl_ord_id, qty=D("35")), ctx)
        await kit.settle()
        [event] = kit.delivered
        assert isinstance(event, AmendRejected) and event.cl_ord_id == cl_ord_id
        assert error in event.error
    assert len(kit.fatal) == 1  # the fatal one halts trading (the engine's handler)


async def test_an_amend_leaves_even_when_the_ledger_cannot_record_it(kit: Kit) -> None:
    cl_ord_id = await stop_order(kit)
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    broken_ledger(kit, "record_event")
    await kit.manager.amend(AmendIntent(cl_ord_id, qty=D("35")), ctx)  # no exception
    kit.manager.ledger_failing = lambda: True
    await kit.manager.amend(AmendIntent(cl_ord_id, qty=D("36")), ctx)  # not even tried
    await kit.settle()
    assert [a.qty for a in kit.venue.amended] == [D("35"), D("36")]


async def test_entries_rest_gtd_for_the_switch_timeout_exits_never_expire(kit: Kit) -> None:
    kit.manager.config = replace(kit.manager.config, entry_expire_s=60.0)
    await placed(kit)
    ctx = kit.ctx(positions={"XLM/USD": D("40")})
    await kit.manager.submit(entry(price="0.290", time_in_force=TimeInForce.IOC), ctx)
    exit_ = entry(side=Side.SELL, price="0.291", reduces_position=True, tag="exit")
    await kit.manager.submit(exit_, ctx)
    await kit.settle()
    gtd, ioc, sold = kit.venue.placed
    assert gtd.time_in_force is TimeInForce.GTD and gtd.expire_s == 60.0
    assert ioc.time_in_force is TimeInForce.IOC and ioc.expire_s is None
    assert sold.time_in_force is TimeInForce.GTC and sold.expire_s is None
    row = await kit.repo.order_by_cl_ord_id(gtd.cl_ord_id)
    assert row is not None and row.time_in_force is TimeInForce.GTD
    assert ManagerConfig().entry_expire_s is None  # set by the stack from the settings


async def test_shutdown_spares_the_protective_stops(kit: Kit) -> None:
    stop_id = await stop_order(kit)
    order = await placed(kit)
    count = await kit.manager.cancel_all_ours("shutdown", kit.ctx(), spare=is_stop)
    await kit.settle()
    assert count == 1 and [c.cl_ord_id for c in kit.venue.cancelled] == [order.cl_ord_id]
    kept = kit.manager.registry.get(stop_id)
    assert kept is not None and not kept.cancel_requested
    assert kept.status is OrderStatus.OPEN
