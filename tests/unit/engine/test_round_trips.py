"""RoundTrips: when positions open and close, which entries opened them, and their PnL."""

from __future__ import annotations

from decimal import Decimal as D

from krakenbot.domain.enums import OrderStatus, OrderType, Side
from krakenbot.domain.events import Fill
from krakenbot.domain.order import Order
from krakenbot.domain.portfolio import Portfolio
from krakenbot.engine.view import RoundTrips
from krakenbot.orders.registry import OrderRegistry


def fill(tid: str, side: Side, qty: str, price: str, cl: str | None = "e1") -> Fill:
    return Fill(
        trade_id=tid,
        order_id="O" + tid,
        cl_ord_id=cl,
        symbol="XLM/USD",
        side=side,
        price=D(price),
        qty=D(qty),
        cost=D(price) * D(qty),
        fee=D("0.01"),
        fee_asset="USD",
        liquidity=None,
        exchange_ns=1_763_776_800_000_000_000,
    )


def test_open_add_close_reports_entries_and_pnl() -> None:
    trips = RoundTrips(Portfolio())
    assert trips.apply(fill("1", Side.BUY, "10", "1.0", "e1")) is None
    assert trips.apply(fill("2", Side.BUY, "10", "1.0", "e2")) is None
    assert trips.apply(fill("2", Side.BUY, "10", "1.0", "e2")) is None  # duplicate: ignored
    assert trips.apply(fill("3", Side.SELL, "5", "1.2", "x1")) is None  # partly closed
    closed = trips.apply(fill("4", Side.SELL, "15", "1.2", "x2"))
    assert closed is not None and closed.entry_ids == ("e1", "e2")
    assert abs(closed.pnl - (D("20") * D("0.2") - D("0.04"))) < D("1e-20")
    assert closed.outcome == "win"
    assert (trips.total, trips.winning) == (1, 1)


def test_losing_trip_and_a_flip_through_zero() -> None:
    trips = RoundTrips(Portfolio())
    trips.apply(fill("1", Side.BUY, "10", "1.0"))
    closed = trips.apply(fill("2", Side.SELL, "15", "0.9", "x"))  # flips short by 5
    assert closed is not None and closed.outcome == "loss" and closed.pnl < 0
    again = trips.apply(fill("3", Side.BUY, "5", "0.8", "y"))
    assert again is not None and again.entry_ids == ()
    assert (trips.total, trips.winning) == (2, 1)


def test_registry_forgets_only_old_finished_orders() -> None:
    def order(cl: str, status: OrderStatus, updated: int) -> Order:
        return Order(
            cl,
            "XLM/USD",
            Side.BUY,
            OrderType.LIMIT,
            D("1"),
            D("1"),
            0,
            status=status,
            order_id="O" + cl,
            updated_ns=updated,
        )

    registry = OrderRegistry(
        [
            order("a", OrderStatus.FILLED, 10),
            order("b", OrderStatus.FILLED, 100),
            order("c", OrderStatus.OPEN, 10),
        ]
    )
    assert registry.forget_finished(50) == 1
    assert [o.cl_ord_id for o in registry.all()] == ["b", "c"]
    assert registry.find(None, "Oa") is None and registry.find(None, "Ob") is not None
