"""Trading methods over the private WebSocket: acks become typed events by req_id."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.integration.ws.ws_helpers import session_running

from krakenbot.domain.commands import CancelOrder, PlaceOrder
from krakenbot.domain.enums import Channel, OrderType, Side
from krakenbot.domain.events import CancelRejected, OrderAccepted, OrderRejected
from krakenbot.errors import TransportError
from krakenbot.sim import Sim


async def test_rejections_and_acceptances_carry_the_client_id(sim: Sim) -> None:
    async with session_running(sim, book=False, trade=False, ticker=False) as (session, events):
        await session.wait_connected(Channel.PRIVATE)
        tiny = PlaceOrder(
            "tiny-1", "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("1"), Decimal("0.100000")
        )
        await session.trading.add_order(tiny)
        rejected = await events.wait_for(lambda e: isinstance(e, OrderRejected))
        assert isinstance(rejected, OrderRejected) and rejected.cl_ord_id == "tiny-1"
        assert rejected.error.startswith("E") and rejected.endpoint == "ws:add_order"

        resting = PlaceOrder(
            "rest-1", "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("20"), Decimal("0.100000")
        )
        await session.trading.add_order(resting)
        ok = await events.wait_for(lambda e: isinstance(e, OrderAccepted))
        assert isinstance(ok, OrderAccepted) and ok.cl_ord_id == "rest-1" and ok.order_id
        assert any(o["cl_ord_id"] == "rest-1" for o in sim.control.orders())

        await session.trading.cancel_order(CancelOrder(order_id="OUNKNO-WNORD-ER0000"))
        cancel = await events.wait_for(lambda e: isinstance(e, CancelRejected))
        assert isinstance(cancel, CancelRejected) and "Unknown order" in cancel.error

        await session.trading.cancel_all_orders_after(60)
        await session.trading.cancel_all()


async def test_sending_without_a_private_connection_is_a_transport_error(sim: Sim) -> None:
    async with session_running(sim, private=False) as (session, _):
        order = PlaceOrder("x", "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("20"), Decimal("0.1"))
        with pytest.raises(TransportError):
            await session.trading.add_order(order)
