"""Order FSM invariants under arbitrary (including illegal and duplicated) event sequences."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, OrderType, Side
from krakenbot.domain.events import ExecutionReport, Fill, OrderAccepted, OrderRejected
from krakenbot.domain.order import Order
from krakenbot.errors import InvariantError
from krakenbot.orders.fsm import OrderEvent, apply

CL = "kb0000000000000001"
OID = "OABCDE-FGHIJ-KLMNOP"
QTY = D("10")

_EXEC = [
    ExecType.PENDING_NEW,
    ExecType.NEW,
    ExecType.FILLED,
    ExecType.CANCELED,
    ExecType.EXPIRED,
    ExecType.STATUS,
    ExecType.RESTATED,
]


def _fill(trade_no: int, qty: int) -> Fill:
    q = D(qty)
    return Fill(
        trade_id=f"T{trade_no}",
        order_id=OID,
        cl_ord_id=CL,
        symbol="XLM/USD",
        side=Side.BUY,
        price=D("0.25"),
        qty=q,
        cost=q * D("0.25"),
        fee=D("0.001"),
        fee_asset="USD",
        liquidity=Liquidity.MAKER,
        exchange_ns=1,
    )


def _report(exec_type: ExecType, cum: int | None) -> ExecutionReport:
    return ExecutionReport(
        exec_type=exec_type,
        order_id=OID,
        cl_ord_id=CL,
        order_status=OrderStatus.OPEN,
        exchange_ns=1,
        cum_qty=D(cum) if cum is not None else None,
    )


events = st.one_of(
    st.just(OrderAccepted(cl_ord_id=CL, order_id=OID)),
    st.just(OrderRejected(cl_ord_id=CL, error="EOrder:Insufficient funds")),
    st.builds(_report, st.sampled_from(_EXEC), st.none() | st.integers(0, 10)),
    st.builds(_fill, st.integers(0, 8), st.integers(1, 6)),
    st.builds(
        lambda n, q: ExecutionReport(
            exec_type=ExecType.TRADE,
            order_id=OID,
            cl_ord_id=CL,
            order_status=OrderStatus.PARTIALLY_FILLED,
            exchange_ns=1,
            fill=_fill(n, q),
        ),
        st.integers(0, 8),
        st.integers(1, 6),
    ),
)


def _start() -> Order:
    return Order(
        cl_ord_id=CL,
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=QTY,
        limit_price=D("0.25"),
        created_ns=0,
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=25))
def test_fsm_invariants_hold_for_any_sequence(sequence: list[OrderEvent]) -> None:
    order = _start()
    applied: dict[str, D] = {}
    for event in sequence:
        try:
            after = apply(order, event)
        except InvariantError:
            continue  # rejected: the order is unchanged (values are immutable)
        fill = event if isinstance(event, Fill) else getattr(event, "fill", None)
        if fill is not None and fill.trade_id in applied:
            assert after is order  # duplicate delivery changes nothing
        elif fill is not None:
            applied[fill.trade_id] = fill.qty
        if order.status.is_terminal:
            assert after.status.is_terminal  # nothing leaves a terminal state
        if order.status is OrderStatus.REJECTED:
            assert after.status is OrderStatus.REJECTED
        order = after
        assert order.filled_qty == sum(applied.values(), D(0))
        assert order.filled_qty <= order.qty
        assert order.venue_cum_qty <= order.qty
        assert order.fill_ids == frozenset(applied)
        if order.status in (OrderStatus.PENDING_NEW, OrderStatus.OPEN):
            assert order.filled_qty == 0
        if order.status is OrderStatus.PARTIALLY_FILLED:
            assert 0 < max(order.filled_qty, order.venue_cum_qty) < order.qty
        if order.status is OrderStatus.REJECTED:
            assert order.filled_qty == 0
