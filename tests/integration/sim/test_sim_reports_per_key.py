"""`SimConfig.reports_per_key`: an order's `executions` reports reach only the private
sessions of the API key that placed it (over REST or WebSocket); by default, like Kraken,
every session of the account receives every report. benchmarks/bench_peers.py relies on it:
one client must not decode (and be timed with) another client's reports."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from simtest_helpers import RestClient, WsClient, is_channel, is_method

from krakenbot.sim import Sim, SimConfig, running_sim

B_KEY = "KEYB" + "b" * 52
B_SECRET = base64.b64encode(b"b" * 64).decode()


@pytest.fixture(params=[True, False], ids=["per_key", "account"])
async def keyed_sim(request: pytest.FixtureRequest) -> AsyncIterator[Sim]:
    balances = {"USD": Decimal("1000"), "XLM": Decimal("500")}
    cfg = SimConfig(pairs=("XLM/USD",), balances=balances, reports_per_key=request.param)
    async with running_sim(cfg) as running:
        running.control.pause_feed()
        running.control.set_mid("XLM/USD", Decimal("0.29"))
        running.control.add_key(B_KEY, B_SECRET)
        yield running


async def _subscribed(session: aiohttp.ClientSession, url: str, token: str) -> WsClient:
    ws = await WsClient.connect(session, url)
    await ws.send("subscribe", channel="executions", token=token)
    await ws.until(is_channel("executions", "snapshot"))
    return ws


async def _rest_order(rest: RestClient, cl_ord_id: str) -> None:
    await rest.ok(
        "AddOrder",
        pair="XLMUSD",
        type="buy",
        ordertype="limit",
        price="0.2",
        volume="40",
        cl_ord_id=cl_ord_id,
    )


async def _ws_order(ws: WsClient, token: str, req_id: int, cl_ord_id: str) -> None:
    await ws.send(
        "add_order",
        req_id,
        token=token,
        order_type="limit",
        side="buy",
        order_qty=40,
        limit_price=0.2,
        symbol="XLM/USD",
        cl_ord_id=cl_ord_id,
    )


async def _seen_until(ws: WsClient, cl_ord_id: str) -> set[str]:
    """The orders named by `executions` updates, up to `cl_ord_id`'s `new` report (reports
    leave in the order their events happened, so an earlier order's would have come first)."""
    seen: set[str] = set()
    read = 0  # every frame this client read, those read while waiting for an ack included
    while True:
        if read == len(ws.seen):
            await ws.recv()
        msg, read = ws.seen[read], read + 1
        if not is_channel("executions", "update")(msg):
            continue
        for report in msg["data"]:
            seen.add(report["cl_ord_id"])
            if report["cl_ord_id"] == cl_ord_id and report["exec_type"] == "new":
                return seen


async def test_reports_reach_only_the_placing_keys_sessions_when_per_key(
    keyed_sim: Sim, session: aiohttp.ClientSession
) -> None:
    rest_a = RestClient(session, keyed_sim.rest_url, keyed_sim.api_key, keyed_sim.api_secret)
    rest_b = RestClient(session, keyed_sim.rest_url, B_KEY, B_SECRET)
    token_a = (await rest_a.ok("GetWebSocketsToken"))["token"]
    token_b = (await rest_b.ok("GetWebSocketsToken"))["token"]
    ws_a = await _subscribed(session, keyed_sim.ws_auth_url, token_a)
    ws_b = await _subscribed(session, keyed_sim.ws_auth_url, token_b)

    await _rest_order(rest_a, "a-rest-1")
    await _ws_order(ws_b, token_b, 1, "b-ws-2")
    assert (await ws_b.until(is_method("add_order")))["success"]
    await _rest_order(rest_a, "a-rest-3")
    await _rest_order(rest_b, "b-rest-4")

    seen_a = await _seen_until(ws_a, "a-rest-3")
    seen_b = await _seen_until(ws_b, "b-rest-4")
    if keyed_sim.state.cfg.reports_per_key:
        assert seen_a == {"a-rest-1", "a-rest-3"}
        assert seen_b == {"b-ws-2", "b-rest-4"}
    else:  # Kraken: every session of the account sees every order
        assert seen_a == {"a-rest-1", "b-ws-2", "a-rest-3"}
        assert seen_b == {"a-rest-1", "b-ws-2", "a-rest-3", "b-rest-4"}
    await ws_a.close()
    await ws_b.close()
