"""Trading methods over the private WebSocket: answers correlated by req_id; an accepted
order's ack becomes OrderAccepted on the stream, a refusal is the waiter's answer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.integration.ws.ws_helpers import session_running

from krakenbot.domain.commands import CancelOrder, PlaceOrder
from krakenbot.domain.enums import Channel, OrderType, Side
from krakenbot.domain.events import OrderAccepted
from krakenbot.net.http import RequestNotSentError
from krakenbot.sim import Sim


async def test_rejections_and_acceptances_carry_the_client_id(sim: Sim) -> None:
    async with session_running(sim, book=False, trade=False, ticker=False) as (session, events):
        await session.wait_connected(Channel.PRIVATE)
        tiny = PlaceOrder(
            "tiny-1", "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("1"), Decimal("0.100000")
        )
        pending = await session.trading.add_order(tiny)
        rejected = await pending.future
        assert not rejected.success and rejected.req_id == pending.req_id
        assert rejected.error is not None and rejected.error.startswith("E")

        resting = PlaceOrder(
            "rest-1", "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("20"), Decimal("0.100000")
        )
        answer = await (await session.trading.add_order(resting)).future
        ok = await events.wait_for(lambda e: isinstance(e, OrderAccepted))
        assert isinstance(ok, OrderAccepted) and ok.cl_ord_id == "rest-1" and ok.order_id
        assert answer.success and answer.orders[0].order_id == ok.order_id
        assert any(o["cl_ord_id"] == "rest-1" for o in sim.control.orders())

        unknown = CancelOrder(order_id="OUNKNO-WNORD-ER0000")
        cancel = await (await session.trading.cancel_order(unknown)).future
        assert not cancel.success and "Unknown order" in (cancel.error or "")

        switch = await (await session.trading.cancel_all_orders_after(60)).future
        assert switch.success and switch.trigger_time
        assert (await (await session.trading.cancel_all()).future).count == 1


async def test_sending_without_a_private_connection_is_a_transport_error(sim: Sim) -> None:
    async with session_running(sim, private=False) as (session, _):
        order = PlaceOrder("x", "XLM/USD", Side.BUY, OrderType.LIMIT, Decimal("20"), Decimal("0.1"))
        with pytest.raises(RequestNotSentError):
            await session.trading.add_order(order)
