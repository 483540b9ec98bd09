"""The live venue's REST → domain mappings (order snapshots, fills) and its synchronous
refusals, without sockets."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import PlaceOrder
from krakenbot.domain.enums import Liquidity, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.order_terms import OrderPrice
from krakenbot.errors import RejectedError
from krakenbot.kraken.rest_orders import OrderInfo, TradeInfo
from krakenbot.net.kraken_venue import KrakenVenue, fill_of, snapshot_of
from krakenbot.net.rest_client import RestClient, RestConfig
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession, WsSessionConfig


def info(status: str, vol_exec: str = "0", **kw: object) -> OrderInfo:
    base: dict[str, object] = {
        "txid": "OTX",
        "status": status,
        "pair": "XLMUSD",
        "side": Side.BUY,
        "order_type": OrderType.LIMIT,
        "price": OrderPrice(D("0.289")),
        "volume": D("30"),
        "volume_exec": D(vol_exec),
        "cost": D("0"),
        "fee": D("0"),
        "avg_price": D("0"),
        "oflags": ("post",),
        "open_ns": 5,
        "close_ns": None,
        "cl_ord_id": "kbabc",
    }
    base.update(kw)
    return OrderInfo(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "vol_exec", "expected"),
    [
        ("pending", "0", OrderStatus.PENDING_NEW),
        ("open", "0", OrderStatus.OPEN),
        ("open", "10", OrderStatus.PARTIALLY_FILLED),
        ("closed", "30", OrderStatus.FILLED),
        ("canceled", "10", OrderStatus.CANCELED),
        ("expired", "0", OrderStatus.EXPIRED),
    ],
)
def test_rest_statuses_map_to_ours(status: str, vol_exec: str, expected: OrderStatus) -> None:
    snap = snapshot_of(info(status, vol_exec), "XLM/USD")
    assert snap.status is expected and snap.filled_qty == D(vol_exec)
    assert snap.post_only and snap.symbol == "XLM/USD" and snap.cl_ord_id == "kbabc"


def test_foreign_order_types_and_tif_do_not_break_the_mapping() -> None:
    stop = info("open", order_type=OrderType.STOP_LOSS, time_in_force="XYZ", description="d")
    snap = snapshot_of(stop, "XLM/USD")
    assert snap.order_type is OrderType.STOP_LOSS and snap.time_in_force is TimeInForce.GTC
    assert snap.limit_price is None and snap.trigger_price == D("0.289")
    assert snap.description == "d"
    ioc = snapshot_of(info("closed", "30", time_in_force="IOC", close_ns=9), "XLM/USD")
    assert ioc.time_in_force is TimeInForce.IOC and ioc.closed_ns == 9
    market = snapshot_of(info("closed", "30", order_type=OrderType.MARKET), "XLM/USD")
    assert market.limit_price is None


def test_trigger_orders_keep_their_trigger_and_limit_prices_apart() -> None:
    trailing = info(
        "open",
        order_type=OrderType.TRAILING_STOP_LIMIT,
        price=OrderPrice(D("50"), "+", percent=True),
        price2=OrderPrice(D("0.01"), "-"),
        stop_price=D("0.2"),
        limit_price=D("0"),
    )
    snap = snapshot_of(trailing, "XLM/USD")
    # A relative price is never shown as a price: the limit is unknown until it triggers.
    assert snap.trigger_price == D("0.2") and snap.limit_price is None
    sll = info(
        "open",
        order_type=OrderType.STOP_LOSS_LIMIT,
        price=OrderPrice(D("0.25")),
        price2=OrderPrice(D("0.24")),
    )
    assert snapshot_of(sll, "XLM/USD").limit_price == D("0.24")
    assert snapshot_of(sll, "XLM/USD").trigger_price == D("0.25")
    iceberg = info("open", order_type=OrderType.ICEBERG)
    assert snapshot_of(iceberg, "XLM/USD").limit_price == D("0.289")


def test_trades_become_fills_with_quote_fees() -> None:
    trade = TradeInfo(
        trade_txid="T1",
        order_txid="OTX",
        pair="XXLMZUSD",
        side=Side.SELL,
        order_type="limit",
        price=D("0.3"),
        volume=D("30"),
        cost=D("9"),
        fee=D("0.0225"),
        time_ns=7,
        maker=True,
        trade_id=1,
    )
    fill = fill_of(trade, XLM, "XLM/USD")
    assert fill.fee_asset == "USD" and fill.liquidity is Liquidity.MAKER and fill.cl_ord_id is None
    assert fill_of(trade, None, "XLM/USD").fee_asset == "USD"
    taker = fill_of(replace(trade, maker=False), XLM, "XLM/USD")
    assert taker.liquidity is Liquidity.TAKER
    assert fill_of(replace(trade, maker=None), XLM, "XLM/USD").liquidity is None


async def test_orders_kraken_would_refuse_never_leave(tmp_path: Path) -> None:
    clock = ManualClock()
    rest = RestClient(
        RestConfig(state_dir=tmp_path, base_url="http://127.0.0.1:9"),
        None,
        clock=clock,
        rng=random.Random(1),
    )
    session = WsSession(
        WsSessionConfig(symbols=()), InboundQueue(), clock=clock, rng=random.Random(1)
    )
    venue = KrakenVenue(rest, session, {"XLM/USD": XLM}, clock=clock)
    try:
        with pytest.raises(RejectedError, match="Order minimum"):
            await venue.place(
                PlaceOrder("kb1", "XLM/USD", Side.BUY, OrderType.LIMIT, D("5"), D("0.289"))
            )
        with pytest.raises(RejectedError, match="no instrument"):
            await venue.place(
                PlaceOrder("kb2", "BTC/USD", Side.BUY, OrderType.LIMIT, D("1"), D("1"))
            )
        assert await venue.query_orders([]) == []
    finally:
        await rest.close()
