"""Orders and fills for the ledger tests."""

from __future__ import annotations

from decimal import Decimal

from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import Liquidity, OrderType, Side, TimeInForce
from krakenbot.domain.events import Fill

D = Decimal


def order(cl_ord_id: str = "c1", side: Side = Side.BUY, qty: str = "100") -> PlaceOrder:
    return PlaceOrder(
        cl_ord_id=cl_ord_id,
        symbol="XLM/USD",
        side=side,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D("0.1000"),
        time_in_force=TimeInForce.GTC,
        post_only=True,
    )


def fill(
    trade_id: str,
    *,
    side: Side = Side.BUY,
    price: str = "0.1",
    qty: str = "100",
    fee: str = "0.01",
    fee_asset: str = "USD",
    cl_ord_id: str | None = "c1",
    order_id: str = "OABCDE-12345-FGHIJK",
    exchange_ns: int = 1_767_225_601_000_000_000,
) -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id=order_id,
        cl_ord_id=cl_ord_id,
        symbol="XLM/USD",
        side=side,
        price=D(price),
        qty=D(qty),
        cost=D(price) * D(qty),
        fee=D(fee),
        fee_asset=fee_asset,
        liquidity=Liquidity.MAKER,
        exchange_ns=exchange_ns,
    )
