"""The simulator's control endpoint (`sim --control`): SimControl for another process."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from decimal import Decimal
from typing import Any

import aiohttp
from simtest_helpers import RestClient

from krakenbot.sim import Sim
from krakenbot.sim.control_http import TOKEN_HEADER, serve_control


async def _call(
    http: aiohttp.ClientSession, url: str, token: str, op: str, **kwargs: object
) -> tuple[int, Any]:
    async with http.post(f"{url}/{op}", json=kwargs, headers={TOKEN_HEADER: token}) as resp:
        return resp.status, await resp.json()


async def test_faults_market_and_the_exchange_view_over_http(
    sim: Sim, rest: RestClient, session: aiohttp.ClientSession
) -> None:
    async with serve_control(sim, "127.0.0.1") as control:
        assert control.url.startswith("http://127.0.0.1:") and control.token not in repr(control)
        url, token = control.url, control.token
        assert (await _call(session, url, "wrong", "orders"))[0] == 403
        assert (await _call(session, url, token, "no_such_op"))[0] == 404
        status, doc = await _call(session, url, token, "faults.ws_drop", mode="sideways")
        assert status == 400 and "mode must be" in doc["error"]

        # A fault armed over HTTP is pending until the daemon's request consumes it.
        assert await _call(session, url, token, "faults.kraken_error", error="EService:Busy")
        assert (await _call(session, url, token, "faults.pending")) == (
            200,
            {"result": {"kraken_error": 1}},
        )
        assert (await rest.private("Balance")) == {"error": ["EService:Busy"]}
        assert (await _call(session, url, token, "faults.pending"))[1]["result"] == {}
        # The WebSocket order faults too (orders go over the private WebSocket by default).
        drop = {"method": "add_order", "executed": True}
        assert (await _call(session, url, token, "faults.ws_drop_on", **drop))[0] == 200
        assert (await _call(session, url, token, "faults.pending"))[1]["result"] == {
            "ws_drop_on": 1
        }
        assert (await _call(session, url, token, "faults.ws_refuse", channel="private"))[0] == 200
        assert sim.control.faults.ws_refused == {"private"}
        assert (await _call(session, url, token, "faults.clear"))[0] == 200

        txid = (
            await _call(
                session,
                url,
                token,
                "place_order",
                pair="XLMUSD",
                type="buy",
                ordertype="limit",
                volume="40",
                price="0.1",
            )
        )[1]["result"]
        _, orders = await _call(session, url, token, "orders")
        assert [(o["txid"], o["status"], o["price"]) for o in orders["result"]] == [
            (txid, "open", "0.1")
        ]
        _, mids = await _call(session, url, token, "mids")
        mid = Decimal(mids["result"]["XLM/USD"])
        await _call(session, url, token, "set_mid", symbol="XLM/USD", price=str(mid * 2))
        _, mids = await _call(session, url, token, "mids")
        assert Decimal(mids["result"]["XLM/USD"]) == mid * 2
        _, balances = await _call(session, url, token, "balances")
        assert balances["result"]["USD"] == "1000"  # exact text, never a float


async def test_sim_command_with_control_prints_the_endpoint() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "krakenbot",
        "sim",
        "--control",
        "--pairs",
        "XLM/USD",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(15):
            info = json.loads(await proc.stdout.readline())
        assert {"control_url", "control_token"} <= set(info)
        async with aiohttp.ClientSession() as http:
            status, doc = await _call(
                http, info["control_url"], info["control_token"], "faults.latency", seconds=0.5
            )
        assert (status, doc) == (200, {"result": None})
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
