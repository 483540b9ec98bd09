from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, OrderType, Side
from krakenbot.domain.events import Fill
from krakenbot.domain.order import Order, OrderSnapshot, UnreadableOrder
from krakenbot.orders import fsm
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.orders.reconcile import (
    AdoptOrder,
    Conflict,
    ExchangeState,
    ForeignFill,
    ForeignOrder,
    LocalState,
    LookupRequired,
    MissingFill,
    ProvablyAbsent,
    StatusCorrection,
    UnreadableForeignOrder,
    reconcile,
)

S = 1_000_000_000
NOW = 1_763_776_800 * S
SINCE = NOW - 3600 * S
CL = "kb00000000000000aa"
CL2 = "kb00000000000000bb"
OID = "OQCLML-BW3P3-BUCMWZ"
OID2 = "OB5VMB-B4U2U-DK2WRW"


def local(status: OrderStatus = OrderStatus.OPEN, **kw: object) -> Order:
    o = Order(
        cl_ord_id=CL,
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("40"),
        limit_price=D("0.25"),
        created_ns=NOW - 600 * S,
        status=status,
        order_id=OID,
    )
    return replace(o, **kw)  # type: ignore[arg-type]


def snap(status: OrderStatus = OrderStatus.OPEN, **kw: object) -> OrderSnapshot:
    s = OrderSnapshot(
        order_id=OID,
        cl_ord_id=CL,
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("40"),
        limit_price=D("0.25"),
        status=status,
        filled_qty=D("0"),
        filled_cost=D("0"),
        fee=D("0"),
        opened_ns=NOW - 600 * S,
    )
    return replace(s, **kw)  # type: ignore[arg-type]


def trade(trade_id: str, qty: str, order_id: str = OID) -> Fill:
    q = D(qty)
    return Fill(
        trade_id=trade_id,
        order_id=order_id,
        cl_ord_id=None,  # REST TradesHistory knows only the order txid
        symbol="XLM/USD",
        side=Side.BUY,
        price=D("0.25"),
        qty=q,
        cost=q * D("0.25"),
        fee=D("0.01"),
        fee_asset="USD",
        liquidity=Liquidity.MAKER,
        exchange_ns=NOW - 300 * S,
    )


def exchange(
    open_: tuple[OrderSnapshot, ...] = (),
    closed: tuple[OrderSnapshot, ...] = (),
    trades: tuple[Fill, ...] = (),
) -> ExchangeState:
    return ExchangeState(open_, closed, trades, closed_since_ns=SINCE, queried_ns=NOW)


def state(*orders: Order, fills: frozenset[str] = frozenset()) -> LocalState:
    return LocalState(orders, fills)


def test_in_sync_means_no_corrections() -> None:
    assert reconcile(state(local()), exchange(open_=(snap(),))) == ()
    filled = local(OrderStatus.FILLED, filled_qty=D("40"), fill_ids=frozenset({"T1"}))
    ex = exchange(
        closed=(snap(OrderStatus.FILLED, filled_qty=D("40")),), trades=(trade("T1", "40"),)
    )
    assert reconcile(state(filled, fills=frozenset({"T1"})), ex) == ()


def test_adopts_our_unknown_orders_with_their_fills() -> None:
    theirs = snap(OrderStatus.PARTIALLY_FILLED, filled_qty=D("10"))
    out = reconcile(state(), exchange(open_=(theirs,), trades=(trade("T1", "10"),)))
    adopt, fill = out
    assert isinstance(adopt, AdoptOrder) and isinstance(fill, MissingFill)
    assert adopt.order.cl_ord_id == CL and adopt.order.order_id == OID
    assert adopt.order.status is OrderStatus.PARTIALLY_FILLED and adopt.order.tag == "adopted"
    assert fill.cl_ord_id == CL and fill.event.cl_ord_id == CL
    applied = fsm.apply(adopt.order, fill.event)
    assert applied.filled_qty == D("10") and applied.missing_fill_qty == 0


def test_a_stop_loss_of_ours_is_adopted_as_the_protective_stop() -> None:
    """Found by its client id after a lost ledger: it is the position's protective stop, so
    no second one is placed beside it (Kraken would refuse it: the base is held)."""
    stop = snap(
        side=Side.SELL, order_type=OrderType.STOP_LOSS, limit_price=None, trigger_price=D("0.24")
    )
    [adopt] = reconcile(state(), exchange(open_=(stop,)))
    assert isinstance(adopt, AdoptOrder) and adopt.order.tag == PROTECT_TAG
    assert adopt.order.reduces_position and adopt.order.trigger_price == D("0.24")


def test_an_amend_whose_report_was_missed_is_taken_from_the_exchange() -> None:
    stop = local(
        side=Side.SELL, order_type=OrderType.STOP_LOSS, limit_price=None, trigger_price=D("0.24")
    )
    bigger = snap(
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        limit_price=None,
        qty=D("60"),
        trigger_price=D("0.23"),
    )
    [fix] = reconcile(state(stop), exchange(open_=(bigger,)))
    assert isinstance(fix, StatusCorrection) and fix.event.exec_type is ExecType.AMENDED
    amended = fsm.apply(stop, fix.event)
    assert amended.qty == D("60") and amended.trigger_price == D("0.23")
    moved = snap(limit_price=D("0.26"))  # a limit order's price, too
    [fix] = reconcile(state(local()), exchange(open_=(moved,)))
    assert isinstance(fix, StatusCorrection)
    assert fsm.apply(local(), fix.event).limit_price == D("0.26")


def test_foreign_orders_and_fills_are_reported_not_adopted() -> None:
    manual = snap(cl_ord_id=None, order_id=OID2)
    other_tool = snap(cl_ord_id="d15708c1-dbb6-465d-b77d-47258319cc90", order_id="OX")
    old_manual = snap(OrderStatus.CANCELED, cl_ord_id=None, order_id="OY")
    out = reconcile(
        state(),
        exchange(
            open_=(manual, other_tool), closed=(old_manual,), trades=(trade("T9", "1", "OZ"),)
        ),
    )
    assert [type(c) for c in out] == [ForeignOrder, ForeignOrder, ForeignFill]


def test_an_unreadable_order_of_ours_halts_and_is_never_declared_absent() -> None:
    """Kraken lists our pending order but we cannot read it: a Conflict (trading halts), not
    a rejection — it may well be live. An unreadable foreign one is only reported."""
    pending = local(OrderStatus.PENDING_NEW, order_id=None, created_ns=NOW - 120 * S)
    mine = UnreadableOrder("ONEW1", CL, "open", "unknown ordertype 'fancy'")
    theirs = UnreadableOrder("ONEW2", None, "open", "unknown ordertype 'fancy'")
    gone = UnreadableOrder("ONEW3", "manual-1", "canceled", "bad price")
    ex = replace(exchange(), unreadable=(mine, theirs, gone))
    out = reconcile(state(pending), ex)
    assert [type(c) for c in out] == [Conflict, UnreadableForeignOrder]
    assert out[0].order_id == "ONEW1" and "fancy" in out[0].describe()["detail"]
    assert out[1].describe()["kind"] == "foreign_unreadable"


def test_foreign_trigger_orders_describe_themselves() -> None:
    trailing = snap(
        cl_ord_id=None,
        order_id="OTRAIL",
        order_type=OrderType.TRAILING_STOP,
        limit_price=None,
        description="sell 100.00000000 XLMUSD @ trailing stop +5.0000%",
    )
    [c] = reconcile(state(), exchange(open_=(trailing,)))
    assert isinstance(c, ForeignOrder)
    assert c.describe()["detail"] == "open: sell 100.00000000 XLMUSD @ trailing stop +5.0000%"


def test_missing_fill_for_a_local_order() -> None:
    o = local(OrderStatus.PARTIALLY_FILLED, filled_qty=D("10"), fill_ids=frozenset({"T1"}))
    ex = exchange(
        open_=(snap(OrderStatus.PARTIALLY_FILLED, filled_qty=D("25")),),
        trades=(trade("T1", "10"), trade("T2", "15")),
    )
    [fill] = reconcile(state(o, fills=frozenset({"T1"})), ex)
    assert isinstance(fill, MissingFill) and fill.event.trade_id == "T2"
    assert fsm.apply(o, fill.event).filled_qty == D("25")


def test_terminal_status_corrections_apply_through_the_fsm() -> None:
    o = local(OrderStatus.OPEN)
    ex = exchange(
        closed=(snap(OrderStatus.FILLED, filled_qty=D("40"), closed_ns=NOW - S),),
        trades=(trade("T1", "25"), trade("T2", "15")),
    )
    out = reconcile(state(o), ex)
    assert [type(c) for c in out] == [MissingFill, MissingFill, StatusCorrection]
    for c in out:
        assert isinstance(c, MissingFill | StatusCorrection)
        o = fsm.apply(o, c.event)
    assert o.status is OrderStatus.FILLED and o.filled_qty == D("40")


@pytest.mark.parametrize("venue", [OrderStatus.CANCELED, OrderStatus.EXPIRED])
def test_cancelled_or_expired_on_the_exchange(venue: OrderStatus) -> None:
    [c] = reconcile(state(local()), exchange(closed=(snap(venue, reason="User requested"),)))
    assert isinstance(c, StatusCorrection) and c.local is OrderStatus.OPEN and c.venue is venue
    assert fsm.apply(local(), c.event).status is venue


def test_pending_order_found_by_cl_ord_id_learns_its_txid() -> None:
    pending = local(OrderStatus.PENDING_NEW, order_id=None)
    [c] = reconcile(state(pending), exchange(open_=(snap(),)))
    assert isinstance(c, StatusCorrection)
    after = fsm.apply(pending, c.event)
    assert after.status is OrderStatus.OPEN and after.order_id == OID
    [c2] = reconcile(state(pending), exchange(open_=(snap(OrderStatus.PENDING_NEW),)))
    assert isinstance(c2, StatusCorrection)
    after2 = fsm.apply(pending, c2.event)
    assert after2.status is OrderStatus.PENDING_NEW and after2.order_id == OID
    acked = local(OrderStatus.PENDING_NEW)
    assert reconcile(state(acked), exchange(open_=(snap(OrderStatus.PENDING_NEW),))) == ()


def test_conflicts_when_terminal_records_disagree() -> None:
    cancelled = local(OrderStatus.CANCELED)
    [c] = reconcile(state(cancelled), exchange(closed=(snap(OrderStatus.FILLED),)))
    assert isinstance(c, Conflict) and "venue filled" in c.detail
    [c2] = reconcile(state(local()), exchange(closed=(snap(OrderStatus.REJECTED),)))
    assert isinstance(c2, Conflict)


def test_local_orders_the_exchange_does_not_list() -> None:
    done = local(OrderStatus.FILLED)
    assert reconcile(state(done), exchange()) == ()
    [c] = reconcile(state(local()), exchange())
    assert isinstance(c, LookupRequired) and c.order_id == OID
    no_txid = local(OrderStatus.OPEN, order_id=None)
    [c_open] = reconcile(state(no_txid), exchange())
    assert isinstance(c_open, LookupRequired)


def test_absence_is_never_provable_while_the_order_is_being_sent() -> None:
    # An AddOrder can outlive the absence window (ambiguous outcome -> wait out the deadline ->
    # look up -> re-send with a fresh deadline): while it runs, Kraken may still accept it.
    pending = local(OrderStatus.PENDING_NEW, order_id=None, created_ns=NOW - 120 * S)
    [c] = reconcile(LocalState((pending,), frozenset(), sending=frozenset({CL})), exchange())
    assert isinstance(c, LookupRequired) and "being sent" in c.reason


def test_absence_of_an_earlier_process_order_counts_from_this_process_start() -> None:
    # Created 120 s ago, but the process that could have signed it ran until 30 s ago.
    pending = local(OrderStatus.PENDING_NEW, order_id=None, created_ns=NOW - 120 * S)
    recent_start = LocalState((pending,), frozenset(), started_ns=NOW - 30 * S)
    [c] = reconcile(recent_start, exchange())
    assert isinstance(c, LookupRequired)
    early_start = LocalState((pending,), frozenset(), started_ns=NOW - 100 * S)
    [c2] = reconcile(early_start, exchange())
    assert isinstance(c2, ProvablyAbsent)


def test_pending_order_provably_absent_only_when_old_and_inside_window() -> None:
    pending = local(OrderStatus.PENDING_NEW, order_id=None, created_ns=NOW - 120 * S)
    [c] = reconcile(state(pending), exchange())
    assert isinstance(c, ProvablyAbsent)
    assert fsm.apply(pending, c.event).status is OrderStatus.REJECTED
    young = replace(pending, created_ns=NOW - 30 * S)
    [c2] = reconcile(state(young), exchange())
    assert isinstance(c2, LookupRequired) and c2.order_id is None
    before_window = replace(pending, created_ns=SINCE - S)
    [c3] = reconcile(state(before_window), exchange())
    assert isinstance(c3, LookupRequired)


def test_fills_older_than_the_window_ask_for_lookup() -> None:
    o = local(OrderStatus.OPEN)
    ex = exchange(
        closed=(snap(OrderStatus.FILLED, filled_qty=D("40")),), trades=(trade("T1", "15"),)
    )
    out = reconcile(state(o), ex)
    assert [type(c) for c in out] == [MissingFill, StatusCorrection, LookupRequired]
    lookup = out[2]
    assert isinstance(lookup, LookupRequired) and "fills found for 15" in lookup.reason


def test_order_in_both_lists_uses_the_closed_snapshot() -> None:
    [c] = reconcile(state(local()), exchange(open_=(snap(),), closed=(snap(OrderStatus.CANCELED),)))
    assert isinstance(c, StatusCorrection) and c.venue is OrderStatus.CANCELED


def test_local_order_matched_by_txid_when_cl_ord_id_absent_on_venue() -> None:
    ex = exchange(open_=(snap(cl_ord_id=None),))
    assert reconcile(state(local()), ex) == ()


def test_every_correction_describes_itself_for_the_audit_log() -> None:
    pending = local(OrderStatus.PENDING_NEW, order_id=None, created_ns=NOW - 120 * S, cl_ord_id=CL2)
    out = reconcile(
        state(local(OrderStatus.CANCELED), pending, local(order_id="OGONE", cl_ord_id="kbgone")),
        exchange(
            open_=(snap(cl_ord_id=None, order_id="OMANUAL"),),
            closed=(
                snap(
                    OrderStatus.FILLED,
                    filled_qty=D("1"),
                    order_id="ONEW",
                    cl_ord_id="kb" + "1" * 16,
                ),
                snap(OrderStatus.FILLED),
            ),
            trades=(trade("T1", "1", "ONEW"), trade("T2", "1", "OELSE")),
        ),
    )
    kinds = {c.describe()["kind"] for c in out}
    assert kinds == {
        "adopt_order",
        "missing_fill",
        "conflict",
        "provably_absent",
        "lookup_required",
        "foreign_order",
        "foreign_fill",
    }
    for c in out:
        assert set(c.describe()) == {"kind", "cl_ord_id", "order_id", "detail"}
    status = reconcile(state(local()), exchange(closed=(snap(OrderStatus.CANCELED),)))
    assert status[0].describe()["kind"] == "status_correction"
