"""Venue events about one of our XLM/USD orders, shared by the order-manager and engine
tests: an execution report and a fill (txid OTXID1)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from krakenbot.domain.enums import ExecType, Liquidity, OrderStatus, Side
from krakenbot.domain.events import ExecutionReport, Fill
from krakenbot.domain.order import Order


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
