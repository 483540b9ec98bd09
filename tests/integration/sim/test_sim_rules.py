"""Exchange rules over REST on a ManualClock: rate limits, permissions, timers, order flags."""

from __future__ import annotations

import base64
from decimal import Decimal

import aiohttp
from simtest_helpers import RestClient, WsClient, is_method

from krakenbot.sim import Sim


async def test_rest_counter_limits_and_decays(msim: Sim, mrest: RestClient) -> None:
    for _ in range(15):
        await mrest.ok("Balance")
    assert (await mrest.private("Balance"))["error"] == ["EAPI:Rate limit exceeded"]
    assert msim.control.rest_counter(msim.api_key) == 15
    # Order entry is not charged to the REST counter.
    await mrest.ok(
        "AddOrder", pair="XLMUSD", type="buy", ordertype="limit", price="0.1", volume="40"
    )
    msim.control.advance(4)  # starter decays 0.33/s: 15 - 1.32
    await mrest.ok("Balance")
    assert msim.control.rest_counter(msim.api_key) == Decimal("14.68")
    # Trade history costs 2, which would exceed the maximum now.
    assert (await mrest.private("TradesHistory"))["error"] == ["EAPI:Rate limit exceeded"]


async def test_trading_counter_with_cancel_penalties(msim: Sim, mrest: RestClient) -> None:
    errors = []
    for _ in range(10):
        res = await mrest.private(
            "AddOrder", pair="XLMUSD", type="buy", ordertype="limit", price="0.1", volume="40"
        )
        if res["error"]:
            errors.append(res["error"][0])
            break
        res = await mrest.private("CancelOrder", txid=res["result"]["txid"][0])
        if res["error"]:
            errors.append(res["error"][0])
            break
    # add (+1) then immediate cancel (+8): 6 rounds = 54, add = 55, cancel would be 63 > 60.
    assert errors == ["EOrder:Rate limit exceeded"]
    assert msim.control.trading_counter(msim.api_key, "XLM/USD") == 55
    assert msim.control.trading_counter(msim.api_key, "BTC/USD") == 0
    msim.control.advance(10)
    assert msim.control.trading_counter(msim.api_key, "XLMUSD") == 45


async def test_query_only_key_cannot_trade(msim: Sim, session: object) -> None:
    secret = base64.b64encode(b"q" * 64).decode()
    msim.control.add_key("QUERYKEY", secret, permissions=frozenset({"query"}))
    client = RestClient(session, msim.rest_url, "QUERYKEY", secret)  # type: ignore[arg-type]
    await client.ok("Balance")
    res = await client.private(
        "AddOrder", pair="XLMUSD", type="buy", ordertype="market", volume="40"
    )
    assert res["error"] == ["EGeneral:Permission denied"]
    res = await client.private("GetWebSocketsToken")
    assert res["error"] == ["EGeneral:Permission denied"]


async def test_dead_mans_switch_cancels_everything_then_disarms(
    msim: Sim, mrest: RestClient
) -> None:
    c = msim.control
    txid = (
        await mrest.ok(
            "AddOrder", pair="XLMUSD", type="buy", ordertype="limit", price="0.1", volume="40"
        )
    )["txid"][0]
    res = await mrest.ok("CancelAllOrdersAfter", timeout="60")
    assert res["triggerTime"] > res["currentTime"]
    assert c.dead_man_trigger_ns() is not None
    c.advance(30)
    await mrest.ok("CancelAllOrdersAfter", timeout="60")  # refresh
    c.advance(59)
    assert (await mrest.ok("QueryOrders", txid=txid))[txid]["status"] == "open"
    c.advance(2)
    assert (await mrest.ok("QueryOrders", txid=txid))[txid]["status"] == "canceled"
    assert c.dead_man_trigger_ns() is None
    await mrest.ok("CancelAllOrdersAfter", timeout="10")
    await mrest.ok("CancelAllOrdersAfter", timeout="0")
    assert c.dead_man_trigger_ns() is None


async def test_gtd_expiry_ioc_validate_deadline_and_post_only(msim: Sim, mrest: RestClient) -> None:
    c = msim.control
    txid = (
        await mrest.ok(
            "AddOrder",
            pair="XLMUSD",
            type="buy",
            ordertype="limit",
            price="0.1",
            volume="40",
            timeinforce="GTD",
            expiretm="+10",
        )
    )["txid"][0]
    c.advance(11)
    assert (await mrest.ok("QueryOrders", txid=txid))[txid]["status"] == "expired"
    res = await mrest.ok(
        "AddOrder",
        pair="XLMUSD",
        type="buy",
        ordertype="limit",
        price="0.1",
        volume="40",
        validate="true",
    )
    assert "txid" not in res and res["descr"]["order"].startswith("buy 40.00000000 XLMUSD")
    res = await mrest.private(
        "AddOrder",
        pair="XLMUSD",
        type="buy",
        ordertype="limit",
        price="0.1",
        volume="40",
        deadline="2020-01-01T00:00:00Z",
    )
    assert res["error"] == ["EService:Deadline elapsed"]
    res = await mrest.private(
        "AddOrder",
        pair="XLMUSD",
        type="buy",
        ordertype="limit",
        price="0.5",
        volume="40",
        oflags="post",
    )
    assert res["error"] == ["EOrder:Post only order"]
    # IOC: takes what crosses now, the rest is cancelled, never rests.
    depth = await mrest.public("Depth", pair="XLMUSD", count=1)
    ask_price, ask_qty, _ = depth["result"]["XXLMZUSD"]["asks"][0]
    volume = str(Decimal(ask_qty) + 100)
    res = await mrest.ok(
        "AddOrder",
        pair="XLMUSD",
        type="buy",
        ordertype="limit",
        price=ask_price,
        volume=volume,
        timeinforce="IOC",
    )
    txid = res["txid"][0]
    order = (await mrest.ok("QueryOrders", txid=txid))[txid]
    assert order["status"] == "canceled" and order["vol_exec"] == ask_qty
    assert (await mrest.ok("OpenOrders"))["open"] == {}
    res = await mrest.private(
        "AddOrder", pair="NOPEUSD", type="buy", ordertype="market", volume="1"
    )
    assert res["error"] == ["EQuery:Unknown asset pair"]
    res = await mrest.private(
        "AddOrder", pair="XLMUSD", type="buy", ordertype="stop-out", volume="40", price="1"
    )
    assert res["error"] == ["EGeneral:Invalid arguments:ordertype"]


async def test_system_status_modes_drive_rest(msim: Sim, mrest: RestClient) -> None:
    c = msim.control
    txid = (
        await mrest.ok(
            "AddOrder", pair="XLMUSD", type="buy", ordertype="limit", price="0.1", volume="40"
        )
    )["txid"][0]
    c.set_system_status("maintenance")
    assert (await mrest.public("SystemStatus"))["result"]["status"] == "maintenance"
    assert (await mrest.private("CancelOrder", txid=txid))["error"] == ["EService:Unavailable"]
    c.set_system_status("cancel_only")
    res = await mrest.private(
        "AddOrder", pair="XLMUSD", type="buy", ordertype="market", volume="40"
    )
    assert res["error"] == ["EService:Market in cancel_only mode"]
    c.set_system_status("post_only")
    res = await mrest.private(
        "AddOrder", pair="XLMUSD", type="buy", ordertype="limit", price="0.1", volume="40"
    )
    assert res["error"] == ["EService:Market in post_only mode"]
    await mrest.ok(
        "AddOrder",
        pair="XLMUSD",
        type="buy",
        ordertype="limit",
        price="0.1",
        volume="40",
        oflags="post",
    )
    assert (await mrest.ok("CancelOrder", txid=txid)) == {"count": 1}
    c.set_system_status("online")


async def test_add_order_batch_and_cancel_batch(msim: Sim, mrest: RestClient) -> None:
    resp = await mrest.raw_private(
        "AddOrderBatch",
        {
            "pair": "XLM/USD",
            "orders": [
                {
                    "type": "buy",
                    "ordertype": "limit",
                    "price": "0.1",
                    "volume": "40",
                    "cl_ord_id": "b-1",
                },
                {
                    "type": "sell",
                    "ordertype": "limit",
                    "price": "0.9",
                    "volume": "40",
                    "userref": 9,
                },
            ],
        },
        as_json=True,
    )
    async with resp:
        res = await resp.json()
    assert res["error"] == [] and [("txid" in o) for o in res["result"]["orders"]] == [True, True]
    assert msim.control.trading_counter(msim.api_key, "XLM/USD") == 1  # n/2
    held = msim.control.holds()
    assert held["XLM"] == Decimal("40") and held["USD"] > Decimal("4")
    assert (await mrest.ok("CancelOrder", cl_ord_id="b-1")) == {"count": 1}
    assert (await mrest.ok("CancelAll")) == {"count": 1}
    resp = await mrest.raw_private(
        "AddOrderBatch",
        {
            "pair": "XLMUSD",
            "orders": [
                {"type": "buy", "ordertype": "limit", "price": "0.1", "volume": "40"},
                {"type": "buy", "ordertype": "limit", "price": "0.1", "volume": "1"},
            ],
        },
        as_json=True,
    )
    async with resp:
        res = await resp.json()
    assert res == {"error": ["EOrder:Order minimum not met"]}  # whole batch refused
    assert (await mrest.ok("OpenOrders"))["open"] == {}


async def test_ws_token_must_be_used_within_15_minutes(
    msim: Sim, mrest: RestClient, session: aiohttp.ClientSession
) -> None:
    assert isinstance(session, aiohttp.ClientSession)
    stale = (await mrest.ok("GetWebSocketsToken"))["token"]
    msim.control.advance(901)
    fresh_later = (await mrest.ok("GetWebSocketsToken"))["token"]
    c = await WsClient.connect(session, msim.ws_auth_url)
    await c.send("subscribe", channel="executions", token=stale)
    assert (await c.until(is_method("subscribe")))["error"] == "EAPI:Invalid token"
    await c.send("subscribe", channel="executions", token=fresh_later)
    assert (await c.until(is_method("subscribe")))["success"] is True
    msim.control.advance(3600)  # once used on a connection it stays valid there
    await c.send("cancel_all", token=fresh_later)
    assert (await c.until(is_method("cancel_all")))["result"] == {"count": 0}
    await c.close()
