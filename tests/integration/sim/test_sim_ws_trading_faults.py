"""The simulator's faults for WebSocket trading: the private socket dropped when a trading
request arrives (before or after executing it), an injected Kraken error on one WS method,
refused connections, and the per-transport request counts tests use to prove a path."""

from __future__ import annotations

import aiohttp
import pytest
from simtest_helpers import RestClient, WsClient, is_method

from krakenbot.sim import Sim


def _order(cl_ord_id: str) -> dict[str, object]:
    return {
        "order_type": "limit",
        "side": "buy",
        "order_qty": 40,
        "limit_price": 0.2,
        "symbol": "XLM/USD",
        "cl_ord_id": cl_ord_id,
    }


async def _closed(c: WsClient) -> bool:
    try:
        while True:
            msg = await c.ws.receive(timeout=3)
            if msg.type is not aiohttp.WSMsgType.TEXT:
                return True
            assert '"add_order"' not in msg.data  # no ack may leave before the drop
    except TimeoutError:
        return False


@pytest.mark.parametrize("executed", [True, False])
async def test_drop_on_add_order_before_or_after_executing(
    sim: Sim, rest: RestClient, session: aiohttp.ClientSession, executed: bool
) -> None:
    token = (await rest.ok("GetWebSocketsToken"))["token"]
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.recv()  # status
    sim.control.faults.ws_drop_on("add_order", executed=executed)
    await c.send("add_order", 5, token=token, **_order("drop-1"))
    assert await _closed(c)
    placed = [o for o in sim.control.orders() if o["cl_ord_id"] == "drop-1"]
    assert len(placed) == (1 if executed else 0)
    assert sim.control.requests()["ws:add_order"] == 1
    # One shot: the next connection trades normally.
    c2 = await WsClient.connect(session, sim.ws_auth_url)
    await c2.send("add_order", 6, token=token, **_order("drop-2"))
    ack = await c2.until(is_method("add_order"))
    assert ack["success"] and ack["req_id"] == 6
    await c2.close()


async def test_injected_ws_error_answers_without_executing(
    sim: Sim, rest: RestClient, session: aiohttp.ClientSession
) -> None:
    token = (await rest.ok("GetWebSocketsToken"))["token"]
    sim.control.faults.kraken_error("EOrder:Rate limit exceeded", method="add_order")
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.send("add_order", 9, token=token, **_order("limited-1"))
    err = await c.until(is_method("add_order"))
    assert err["success"] is False and err["error"] == "EOrder:Rate limit exceeded"
    assert err["req_id"] == 9
    assert not [o for o in sim.control.orders() if o["cl_ord_id"] == "limited-1"]
    await c.close()


async def test_refused_private_connections_and_request_counts(
    sim: Sim, rest: RestClient, session: aiohttp.ClientSession
) -> None:
    sim.control.faults.ws_refuse("private")
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await WsClient.connect(session, sim.ws_auth_url)
    sim.control.faults.ws_refuse("private", refuse=False)
    await rest.ok(
        "AddOrder", pair="XLMUSD", type="buy", ordertype="limit", volume="40", price="0.2"
    )
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.close()
    assert sim.control.requests()["rest:AddOrder"] == 1
    assert sim.control.requests().get("ws:add_order", 0) == 0
