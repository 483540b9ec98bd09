from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from krakenbot.domain.commands import OrderIntent
from krakenbot.domain.enums import (
    ExecType,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TriggerReference,
)
from krakenbot.domain.events import ExecutionReport, Fill, OrderAccepted, OrderRejected
from krakenbot.domain.order import Order
from krakenbot.domain.order_terms import OrderPrice, TriggerState
from krakenbot.errors import InvariantError
from krakenbot.orders import fsm
from krakenbot.orders.fsm import BY_QTY, ROWS, TABLE, Kind, apply

CL = "kb0000000000000001"
OID = "OXZPAJ-ONWQU-KMAMPL"


def order(status: OrderStatus = OrderStatus.PENDING_NEW, **kw: object) -> Order:
    base = Order(
        cl_ord_id=CL,
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("40"),
        limit_price=D("0.25"),
        created_ns=1,
        status=status,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def fill(trade_id: str = "T1", qty: str = "10", price: str = "0.25") -> Fill:
    q, p = D(qty), D(price)
    return Fill(
        trade_id=trade_id,
        order_id=OID,
        cl_ord_id=CL,
        symbol="XLM/USD",
        side=Side.BUY,
        price=p,
        qty=q,
        cost=q * p,
        fee=D("0.01"),
        fee_asset="USD",
        liquidity=Liquidity.MAKER,
        exchange_ns=5,
    )


def report(exec_type: ExecType, **kw: object) -> ExecutionReport:
    base = ExecutionReport(
        exec_type=exec_type,
        order_id=OID,
        cl_ord_id=CL,
        order_status=OrderStatus.OPEN,
        exchange_ns=3,
        recv_ns=4,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def event_for(kind: Kind) -> fsm.OrderEvent:
    return {
        Kind.ACK: OrderAccepted(cl_ord_id=CL, order_id=OID, recv_ns=2),
        Kind.REJECT: OrderRejected(cl_ord_id=CL, error="EOrder:Insufficient funds", recv_ns=2),
        Kind.PENDING: report(ExecType.PENDING_NEW),
        Kind.NEW: report(ExecType.NEW),
        Kind.TRADE: report(ExecType.TRADE, fill=fill()),
        Kind.FILLED: report(ExecType.FILLED, cum_qty=D("40")),
        Kind.CANCELED: report(ExecType.CANCELED, reason="User requested"),
        Kind.EXPIRED: report(ExecType.EXPIRED),
        Kind.INFO: report(ExecType.STATUS),
    }[kind]


def start_for(status: OrderStatus) -> Order:
    # Terminal filled orders hold some fills but leave room for one more fill of 10.
    if status is OrderStatus.PARTIALLY_FILLED:
        return order(status, filled_qty=D("10"), venue_cum_qty=D("10"), fill_ids=frozenset({"T0"}))
    return order(status)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r.source}-{r.kind}")
def test_every_row_of_the_table(row: fsm.Row) -> None:
    before = start_for(row.source)
    after = apply(before, event_for(row.kind))
    if row.target == BY_QTY:
        assert after.status in (OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)
    else:
        assert after.status is row.target
    assert row.why


@pytest.mark.parametrize(
    ("status", "kind"),
    [(s, k) for s in OrderStatus for k in Kind if (s, k) not in TABLE],
)
def test_every_missing_row_is_illegal(status: OrderStatus, kind: Kind) -> None:
    with pytest.raises(InvariantError, match="illegal order transition"):
        apply(start_for(status), event_for(kind))


def test_table_has_one_row_per_pair() -> None:
    assert len(TABLE) == len(ROWS)


def test_happy_path_pending_new_open_partial_filled() -> None:
    o = order()
    o = apply(o, report(ExecType.PENDING_NEW))
    assert o.status is OrderStatus.PENDING_NEW and o.order_id == OID
    o = apply(o, OrderAccepted(cl_ord_id=CL, order_id=OID, recv_ns=7))
    assert o.status is OrderStatus.OPEN and o.updated_ns == 7
    o = apply(o, report(ExecType.TRADE, fill=fill("T1", "15"), cum_qty=D("15")))
    assert o.status is OrderStatus.PARTIALLY_FILLED
    assert o.filled_qty == D("15") and o.remaining_qty == D("25")
    o = apply(o, report(ExecType.TRADE, fill=fill("T2", "25", "0.24")))
    assert o.status is OrderStatus.FILLED
    assert o.filled_cost == D("15") * D("0.25") + D("25") * D("0.24")
    assert o.fees == D("0.02")
    assert o.avg_price == o.filled_cost / D("40")
    # Kraken's separate completion report afterwards changes nothing.
    assert apply(o, report(ExecType.FILLED, cum_qty=D("40"))).status is OrderStatus.FILLED


def test_trade_before_new_ack() -> None:
    o = apply(order(), report(ExecType.TRADE, fill=fill("T1", "40")))
    assert o.status is OrderStatus.FILLED and o.order_id == OID
    o = apply(o, report(ExecType.NEW))
    o = apply(o, OrderAccepted(cl_ord_id=CL, order_id=OID))
    assert o.status is OrderStatus.FILLED and o.filled_qty == D("40")


def test_filled_report_before_trades_leaves_missing_fill_qty() -> None:
    o = apply(order(OrderStatus.OPEN), report(ExecType.FILLED, cum_qty=D("40")))
    assert o.status is OrderStatus.FILLED
    assert o.missing_fill_qty == D("40")
    o = apply(o, fill("T9", "40"))
    assert o.missing_fill_qty == 0 and o.filled_qty == D("40")


def test_duplicate_fill_is_ignored() -> None:
    o = apply(order(OrderStatus.OPEN), fill("T1", "10"))
    again = apply(o, report(ExecType.TRADE, fill=fill("T1", "10")))
    assert again is o
    assert again.filled_qty == D("10")


def test_cancel_racing_a_fill_keeps_the_fill() -> None:
    o = apply(order(OrderStatus.OPEN), report(ExecType.CANCELED, reason="User requested"))
    assert o.status is OrderStatus.CANCELED and o.reason == "User requested"
    o = apply(o, fill("T1", "5"))
    assert o.status is OrderStatus.CANCELED and o.filled_qty == D("5")


def test_snapshot_redelivery_of_partial_order() -> None:
    o = apply(order(OrderStatus.OPEN), fill("T1", "5"))
    o2 = apply(o, report(ExecType.NEW, cum_qty=D("5"), is_snapshot=True))
    assert o2.status is OrderStatus.PARTIALLY_FILLED and o2.filled_qty == D("5")


def test_trade_without_fill_uses_venue_quantity() -> None:
    o = apply(order(OrderStatus.OPEN), report(ExecType.TRADE, cum_qty=D("40")))
    assert o.status is OrderStatus.FILLED and o.missing_fill_qty == D("40")
    o = apply(order(OrderStatus.OPEN), report(ExecType.TRADE, cum_qty=D("4")))
    assert o.status is OrderStatus.PARTIALLY_FILLED
    assert apply(o, report(ExecType.NEW, cum_qty=D("1"))).venue_cum_qty == D("4")


def test_overfill_raises() -> None:
    o = apply(order(OrderStatus.OPEN), fill("T1", "35"))
    with pytest.raises(InvariantError, match="exceeds"):
        apply(o, fill("T2", "10"))


def test_venue_cum_qty_above_order_raises() -> None:
    with pytest.raises(InvariantError, match="exceeds"):
        apply(order(OrderStatus.OPEN), report(ExecType.TRADE, cum_qty=D("41")))


def test_fill_for_other_side_or_symbol_raises() -> None:
    with pytest.raises(InvariantError, match="order is"):
        apply(order(OrderStatus.OPEN), replace(fill(), side=Side.SELL))
    with pytest.raises(InvariantError, match="order is"):
        apply(order(OrderStatus.OPEN), replace(fill(), symbol="BTC/USD"))


def test_non_positive_fill_raises() -> None:
    with pytest.raises(InvariantError, match="quantity"):
        apply(order(OrderStatus.OPEN), replace(fill(), qty=D("0")))


def test_event_for_another_cl_ord_id_raises() -> None:
    with pytest.raises(InvariantError, match="another order"):
        apply(order(), OrderAccepted(cl_ord_id="kbother", order_id=OID))


def test_contradicting_order_id_raises() -> None:
    with pytest.raises(InvariantError, match="contradicts"):
        apply(order(OrderStatus.OPEN, order_id="OTHER-ID"), report(ExecType.NEW))


def test_event_without_cl_ord_id_matches_by_order_id() -> None:
    o = apply(order(OrderStatus.OPEN, order_id=OID), report(ExecType.CANCELED, cl_ord_id=None))
    assert o.status is OrderStatus.CANCELED


def test_rejection_records_the_error() -> None:
    o = apply(order(), OrderRejected(cl_ord_id=CL, error="EOrder:Insufficient funds"))
    assert o.status is OrderStatus.REJECTED and o.reason == "EOrder:Insufficient funds"
    assert o.order_id is None and o.is_terminal


def test_amend_changes_quantity_and_price() -> None:
    o = apply(
        order(OrderStatus.OPEN),
        report(ExecType.AMENDED, order_qty=D("30"), limit_price=D("0.24")),
    )
    assert o.status is OrderStatus.OPEN and o.qty == D("30") and o.limit_price == D("0.24")
    o2 = apply(o, report(ExecType.AMENDED))
    assert o2.qty == D("30") and o2.limit_price == D("0.24")


def test_amend_of_a_stop_loss_moves_its_trigger_and_never_gives_it_a_limit() -> None:
    stop = replace(
        order(OrderStatus.OPEN),
        order_type=OrderType.STOP_LOSS,
        limit_price=None,
        trigger_price=D("0.28"),
    )
    trigger = TriggerState(TriggerReference.LAST, OrderPrice(D("0.27")))
    # Kraken may print a limit_price on any report: a stop-loss has no limit leg to take it.
    o = apply(
        stop, report(ExecType.AMENDED, order_qty=D("45"), limit_price=D("0.27"), trigger=trigger)
    )
    assert o.qty == D("45") and o.trigger_price == D("0.27") and o.limit_price is None
    relative = TriggerState(
        TriggerReference.LAST, OrderPrice(D("5"), "-", True), actual_price=D("0.266")
    )
    assert apply(o, report(ExecType.AMENDED, trigger=relative)).trigger_price == D("0.266")
    assert apply(o, report(ExecType.AMENDED)).trigger_price == D("0.27")  # states none


def test_amend_below_filled_raises() -> None:
    o = apply(order(OrderStatus.OPEN), fill("T1", "20"))
    with pytest.raises(InvariantError, match="exceeds"):
        apply(o, report(ExecType.AMENDED, order_qty=D("10")))


def test_kind_of_every_exec_type() -> None:
    for exec_type in ExecType:
        assert isinstance(fsm.kind_of(report(exec_type)), Kind)


def test_order_from_intent_and_place_command() -> None:
    intent = OrderIntent(
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.LIMIT,
        qty=D("40"),
        limit_price=D("0.3"),
        time_in_force=TimeInForce.IOC,
        reduces_position=True,
        tag="stop_loss",
    )
    o = fsm.order_from_intent(intent, CL, created_ns=99)
    assert o.status is OrderStatus.PENDING_NEW and o.created_ns == 99 and o.tag == "stop_loss"
    assert o.reduces_position and o.time_in_force is TimeInForce.IOC
    cmd = fsm.place_command(o, deadline_s=5.0)
    assert cmd.cl_ord_id == CL and cmd.qty == D("40") and cmd.deadline_s == 5.0
    assert cmd.time_in_force is TimeInForce.IOC
    assert cmd.reduces_position  # the venue lets an approved exit past an open breaker
    assert fsm.request_cancel(o).cancel_requested and not o.cancel_requested


def test_avg_price_none_without_fills() -> None:
    assert order().avg_price is None


def test_live_states_are_refined_by_venue_quantity() -> None:
    o = apply(order(), report(ExecType.NEW, cum_qty=D("5"), is_snapshot=True))
    assert o.status is OrderStatus.PARTIALLY_FILLED and o.missing_fill_qty == D("5")
    o = apply(o, report(ExecType.NEW, cum_qty=D("40")))
    assert o.status is OrderStatus.FILLED


def test_filled_report_without_cum_qty_implies_full_execution() -> None:
    o = apply(order(OrderStatus.OPEN), report(ExecType.FILLED))
    assert o.status is OrderStatus.FILLED and o.missing_fill_qty == D("40")
