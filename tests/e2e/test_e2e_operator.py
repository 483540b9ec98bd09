"""End to end: a real `run --sim` daemon scraped on GET /metrics while it trades, and its
notifications to loopback webhooks — one that works, one that hangs (the daemon trades and
stops as quickly as without it)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from e2e_helpers import cli, listening, post_stop, sim_daemon_env, start_sim_daemon
from tests.eventually import eventually
from tests.metrics_check import Samples, assert_labels_allowed, parse, value

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX processes")


@asynccontextmanager
async def webhooks() -> AsyncIterator[tuple[TestServer, list[dict[str, Any]], list[str]]]:
    """`/good` answers 204 and keeps each JSON body; `/hang` never answers."""
    bodies: list[dict[str, Any]] = []
    hung: list[str] = []
    forever = asyncio.Event()

    async def good(request: web.Request) -> web.Response:
        bodies.append(json.loads(await request.read()))
        return web.Response(status=204)

    async def hang(request: web.Request) -> web.Response:
        hung.append(request.path)
        await forever.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/good/{token}", good)
    app.router.add_post("/hang", hang)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, bodies, hung
    finally:
        forever.set()
        await server.close()


async def _scrape(url: str) -> Samples:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics") as response:
        assert response.status == 200
        return parse(await response.text())


async def test_metrics_and_notifications_of_a_sim_daemon(
    tmp_path: Path, krakenbot_state_dir: Path
) -> None:
    async with webhooks() as (server, bodies, hung):
        good = str(server.make_url("/good/SeCrEtToKeN"))
        env = sim_daemon_env(NOTIFY_URLS=f"{good},{server.make_url('/hang')}", HEALTH_PORT="0")
        daemon = await start_sim_daemon(tmp_path, env)
        try:
            await eventually(lambda: listening(krakenbot_state_dir) is not None, 60, "listening")
            entry = listening(krakenbot_state_dir)
            assert entry is not None and entry.health_url

            async def filled() -> Samples | None:
                samples = await _scrape(entry.health_url)
                return samples if value(samples, "krakenbot_fills_total") >= 1 else None

            samples = await eventually(filled, 120, "a fill, seen on /metrics")
            assert value(samples, "krakenbot_orders_submitted_total") > 0
            assert value(samples, "krakenbot_breaker_state") == 0
            assert value(samples, "krakenbot_trading_state") == 0
            assert value(samples, "krakenbot_ws_connected", channel="public") == 1
            acks = (
                value(samples, "krakenbot_order_ack_seconds_count", transport=transport)
                for transport in ("websocket", "rest")  # the default, or REST while it is down
            )
            assert sum(acks) > 0
            assert value(samples, "krakenbot_tick_to_order_seconds_count") > 0
            assert value(samples, "krakenbot_rest_counter_limit") > 0
            assert_labels_allowed(samples, ("XLM/USD",))
            await eventually(
                lambda: {"started", "fill"} <= {b["kind"] for b in bodies}, 30, "notified"
            )
            assert hung  # the hanging endpoint was asked too, and is still hanging
            status = (await cli(tmp_path, env, "status", "--json")).json()
            assert status["notifications"]["webhook"]["sent"] >= 2
            assert "SeCrEtToKeN" not in json.dumps(status)
            asked = time.monotonic()
            await post_stop(entry)
            assert await daemon.wait(30) == 0
            took = time.monotonic() - asked
        finally:
            daemon.kill9()
    # The hanging endpoint costs the stop at most the final flush's budget (2 s).
    assert took < 10, f"the stop took {took:.1f} s"
    kinds = [b["kind"] for b in bodies]
    assert kinds[0] == "started" and kinds[-1] == "stopped"
    assert all(b["mode"] == "sim" and b["source"] == "krakenbot" for b in bodies)
    log = (tmp_path / "data" / "sim" / "krakenbot.log").read_text(encoding="utf-8")
    assert "SeCrEtToKeN" not in log
