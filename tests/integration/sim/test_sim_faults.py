"""Every fault the sim can inject, seen from a client over real sockets."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import aiohttp
import pytest
from simtest_helpers import RestClient, WsClient, is_channel, is_method
from tests.eventually import eventually

from krakenbot.sim import Sim


async def test_http_status_kraken_error_and_latency(sim: Sim, rest: RestClient) -> None:
    f = sim.control.faults
    f.http_status(502, method="Balance")
    resp = await rest.raw_private("Balance", {})
    async with resp:
        assert resp.status == 502
        with pytest.raises(aiohttp.ContentTypeError):
            await resp.json()
    await rest.ok("Balance")  # one-shot
    for error in ("EService:Unavailable", "EService:Busy", "EGeneral:Internal error"):
        f.kraken_error(error, method="AddOrder")
        res = await rest.private(
            "AddOrder", pair="XLMUSD", type="buy", ordertype="market", volume="40"
        )
        assert res == {"error": [error]}
    assert sim.control.orders() == []  # refused requests did not execute
    f.latency(0.2)
    started = time.monotonic()
    await rest.ok("Balance")
    assert time.monotonic() - started >= 0.2
    f.clear()
    started = time.monotonic()
    await rest.ok("Balance")
    assert time.monotonic() - started < 0.2


async def test_timeout_fault_hangs_until_client_gives_up(sim: Sim, rest: RestClient) -> None:
    sim.control.faults.timeout(method="Balance")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await rest.private("Balance")
    await rest.ok("Balance")


async def test_lost_response_order_exists_anyway(sim: Sim, rest: RestClient) -> None:
    sim.control.faults.lose_response(method="AddOrder")
    with pytest.raises(aiohttp.ClientError):
        await rest.private(
            "AddOrder",
            pair="XLMUSD",
            type="buy",
            ordertype="limit",
            price="0.1",
            volume="40",
            cl_ord_id="ambiguous-1",
        )
    (order,) = sim.control.orders()
    assert order["cl_ord_id"] == "ambiguous-1" and order["status"] == "open"
    found = await rest.ok("OpenOrders", cl_ord_id="ambiguous-1")
    assert [o["cl_ord_id"] for o in found["open"].values()] == ["ambiguous-1"]


async def _subscribed_book(session: aiohttp.ClientSession, sim: Sim) -> WsClient:
    c = await WsClient.connect(session, sim.ws_url)
    await c.send("subscribe", channel="book", symbol=["XLM/USD"])
    await c.until(is_channel("book", "snapshot"))
    return c


async def test_ws_close_reset_and_resubscribe(sim: Sim, session: aiohttp.ClientSession) -> None:
    c = await _subscribed_book(session, sim)
    sim.control.faults.ws_drop("close")
    msg = await c.ws.receive(timeout=3)
    assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    c = await _subscribed_book(session, sim)  # reconnect + resubscribe gets a fresh snapshot
    sim.control.faults.ws_drop("reset")
    msg = await c.ws.receive(timeout=3)
    assert msg.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR, aiohttp.WSMsgType.CLOSE)
    c = await _subscribed_book(session, sim)
    sim.control.resume_feed()
    await c.until(is_channel("book", "update"))
    await c.close()


async def test_ws_stall_goes_silent_without_closing(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    c = await _subscribed_book(session, sim)
    sim.control.resume_feed()
    await c.until(is_channel("book", "update"))
    sim.control.faults.ws_drop("stall")
    while True:  # drain frames already in flight
        try:
            await c.recv(within_s=0.3)
        except TimeoutError:
            break
    with pytest.raises(TimeoutError):
        await c.recv(within_s=1.5)  # no data and no heartbeat for longer than 1 s
    assert not c.ws.closed
    fresh = await _subscribed_book(session, sim)  # new connections are healthy
    await fresh.close()
    await c.close()


async def test_ws_malformed_and_truncated_frames(sim: Sim, session: aiohttp.ClientSession) -> None:
    c = await WsClient.connect(session, sim.ws_url)
    await c.recv()
    sim.control.faults.ws_malformed()
    sim.control.faults.ws_truncated()
    await c.send("ping", 1)
    await c.send("ping", 2)
    raw = [(await c.ws.receive(timeout=3)).data for _ in range(4)]
    bad = [r for r in raw if not _is_json(r)]
    good = [json.loads(r) for r in raw if _is_json(r)]
    assert len(bad) == 2 and [g["req_id"] for g in good] == [1, 2]
    await c.close()


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


async def test_exec_duplicate_out_of_order_and_gap(
    sim: Sim, rest: RestClient, session: aiohttp.ClientSession
) -> None:
    token = (await rest.ok("GetWebSocketsToken"))["token"]
    c = await WsClient.connect(session, sim.ws_auth_url)
    await c.send("subscribe", channel="executions", token=token)
    await c.until(is_channel("executions", "snapshot"))
    f = sim.control.faults

    async def place() -> list[int]:
        await c.send(
            "add_order",
            token=token,
            order_type="limit",
            side="buy",
            order_qty=40,
            limit_price=0.1,
            symbol="XLM/USD",
        )
        await c.until(is_method("add_order"))
        return [(await c.until(is_channel("executions")))["sequence"] for _ in range(2)]

    f.exec_duplicate()
    first = await place()
    third = (await c.until(is_channel("executions")))["sequence"]
    assert first == [2, 2] and third == 3
    f.exec_out_of_order()
    assert await place() == [5, 4]
    f.exec_sequence_gap()
    assert await place() == [7, 8]
    await c.close()


async def test_status_channel_follows_system_state(
    sim: Sim, session: aiohttp.ClientSession
) -> None:
    c = await WsClient.connect(session, sim.ws_url)
    await c.recv()
    for state in ("maintenance", "cancel_only", "post_only", "online"):
        sim.control.set_system_status(state)
        msg = await c.until(is_channel("status"))
        assert msg["data"][0]["system"] == state
    await c.close()


async def test_set_mid_fills_and_pushes(sim: Sim, rest: RestClient) -> None:
    await rest.ok(
        "AddOrder", pair="XLMUSD", type="sell", ordertype="limit", price="0.300000", volume="100"
    )
    sim.control.set_mid("XLM/USD", Decimal("0.31"))
    await eventually(lambda: any(o["status"] == "closed" for o in sim.control.orders()))
    (fill,) = sim.control.trades()
    assert fill["maker"] is True and fill["price"] == Decimal("0.300000")
    assert sim.control.balances()["XLM"] == Decimal("400")


async def test_market_trade_partially_fills_a_better_resting_order(
    sim: Sim, rest: RestClient
) -> None:
    res = await rest.ok(
        "AddOrder", pair="XLMUSD", type="buy", ordertype="limit", price="0.289999", volume="100"
    )
    txid = res["txid"][0]
    sim.control.market_trade("XLM/USD", "sell", Decimal("30"))
    order = (await rest.ok("QueryOrders", txid=txid))[txid]
    assert order["status"] == "open" and order["vol_exec"] == "30.00000000"
    assert order["misc"] == "partial"
