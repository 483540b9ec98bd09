from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D

import pytest

from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import ExecutionReport, Fill, OrderAccepted, OrderRejected
from krakenbot.domain.order import Order
from krakenbot.errors import InvariantError
from krakenbot.orders.fsm import request_cancel
from krakenbot.orders.registry import OrderRegistry, order_from_stored


def order(cl: str, symbol: str = "XLM/USD", **kw: object) -> Order:
    return Order(
        cl_ord_id=cl,
        symbol=symbol,
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("40"),
        limit_price=D("0.25"),
        created_ns=1,
        **kw,  # type: ignore[arg-type]
    )


def test_routes_by_cl_ord_id_then_txid() -> None:
    reg = OrderRegistry([order("kba"), order("kbb", "BTC/USD")])
    before, after = reg.apply(OrderAccepted("kba", "OA")) or (None, None)
    assert before is not None and after is not None
    assert after.status is OrderStatus.OPEN and reg.get("kba") is after
    # a report carrying only the txid
    report = ExecutionReport(ExecType.CANCELED, "OA", None, OrderStatus.CANCELED, 5)
    routed = reg.apply(report)
    assert routed is not None and routed[1].status is OrderStatus.CANCELED
    assert reg.find(None, "OA") is reg.get("kba")
    assert [o.cl_ord_id for o in reg.live()] == ["kbb"]
    assert len(reg) == 2 and {o.cl_ord_id for o in reg.all()} == {"kba", "kbb"}


def test_unknown_events_return_none() -> None:
    reg = OrderRegistry()
    assert reg.apply(OrderRejected("kbx", "EOrder:Insufficient funds")) is None
    assert reg.apply(ExecutionReport(ExecType.NEW, "OX", None, OrderStatus.OPEN, 1)) is None
    assert reg.find(None, None) is None


def test_duplicate_fill_is_reported_unchanged() -> None:
    reg = OrderRegistry([order("kba", order_id="OA", status=OrderStatus.OPEN)])
    fill = Fill(
        "T1",
        "OA",
        None,
        "XLM/USD",
        Side.BUY,
        D("0.25"),
        D("10"),
        D("2.5"),
        D("0"),
        "USD",
        Liquidity.MAKER,
        9,
    )
    first = reg.apply(fill)
    assert first is not None and first[1].filled_qty == D("10")
    again = reg.apply(fill)
    assert again is not None and again[0] is again[1]


def test_working_view_and_updates() -> None:
    reg = OrderRegistry([order("kba"), order("kbb", "BTC/USD")])
    reg.update(request_cancel(reg.get("kba") or order("never")))
    [w] = reg.working("XLM/USD")
    assert w.cancel_requested and w.remaining_qty == D("40")
    assert len(reg.working()) == 2


def test_duplicates_and_unknown_updates_are_bugs() -> None:
    reg = OrderRegistry([order("kba")])
    with pytest.raises(InvariantError, match="duplicate"):
        reg.add(order("kba"))
    with pytest.raises(InvariantError, match="unknown"):
        reg.update(order("kbz"))


@dataclass(frozen=True)
class Row:
    """Shaped like the store's OrderRecord."""

    cl_ord_id: str = "kba"
    txid: str | None = "OA"
    symbol: str = "XLM/USD"
    side: Side = Side.SELL
    order_type: OrderType = OrderType.LIMIT
    limit_price: D | None = D("0.26")
    qty: D = D("40")
    status: OrderStatus = OrderStatus.PARTIALLY_FILLED
    filled_qty: D = D("10")
    avg_fill_price: D | None = D("0.26")
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = True
    tag: str = "take_profit"
    reason: str | None = None
    created_ns: int = 5
    updated_ns: int = 6
    filled_cost: D = D("2.6")
    fees: D = D("0.0065")
    venue_cum_qty: D = D("0")
    reduces_position: bool = True
    cancel_requested: bool = False
    trigger_price: D | None = None


def test_order_from_stored_row_keeps_fill_ids_for_dedup() -> None:
    o = order_from_stored(Row(), ["T1"])
    assert o.order_id == "OA" and o.status is OrderStatus.PARTIALLY_FILLED
    assert o.filled_qty == D("10") and o.venue_cum_qty == D("10") and o.reason == ""
    assert o.reduces_position and o.tag == "take_profit" and o.fill_ids == frozenset({"T1"})
    reg = OrderRegistry([o])
    fill = Fill(
        "T1",
        "OA",
        "kba",
        "XLM/USD",
        Side.SELL,
        D("0.26"),
        D("10"),
        D("2.6"),
        D("0.0065"),
        "USD",
        Liquidity.MAKER,
        9,
    )
    routed = reg.apply(fill)
    assert routed is not None and routed[0] is routed[1]
