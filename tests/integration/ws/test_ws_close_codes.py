"""Close-code handling: seams the simulator cannot reach (a server closing with 1008, a
server that accepts then vanishes), served by a tiny local aiohttp app on 127.0.0.1."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import WSCloseCode, web
from tests.eventually import eventually
from tests.integration.ws.ws_helpers import Collector

from krakenbot.clock import SystemClock
from krakenbot.domain.enums import Channel, ConnectionState
from krakenbot.domain.events import ConnectionChanged
from krakenbot.net.ws_backoff import Backoff
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession, WsSessionConfig


@pytest.fixture
async def closing_server() -> AsyncIterator[tuple[str, list[float], list[int]]]:
    """Accepts, reads the first subscribe, then closes with the next code in `codes`."""
    connects: list[float] = []
    codes: list[int] = []

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connects.append(time.monotonic())
        await ws.receive()
        code = codes.pop(0) if codes else int(WSCloseCode.GOING_AWAY)
        await ws.close(code=code)
        return ws

    app = web.Application()
    app.router.add_get("/v2", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"ws://127.0.0.1:{port}/v2", connects, codes
    finally:
        await runner.cleanup()


async def test_policy_violation_close_waits_the_long_delay(
    closing_server: tuple[str, list[float], list[int]],
) -> None:
    url, connects, codes = closing_server
    codes.extend([1008, 1001, 1001])
    inbound = InboundQueue()
    cfg = WsSessionConfig(
        public_url=url,
        private_url=None,
        symbols=("XLM/USD",),
        backoff=Backoff(initial_s=0.02, cap_s=0.05),
        slow_close_delay_s=0.6,
    )
    session = WsSession(cfg, inbound, clock=SystemClock(), rng=random.Random(3))
    events = Collector(inbound)
    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(session.run())
        drain = tg.create_task(events.run())
        await eventually(lambda: len(connects) >= 4 and session.stats.connects >= 4)
        session.stop()
        await asyncio.wait_for(run, 5)
        drain.cancel()
    gaps = [b - a for a, b in itertools.pairwise(connects)]
    assert gaps[0] >= 0.55  # after 1008: the slow delay
    assert all(g < 0.5 for g in gaps[1:3])  # after 1001: normal (short) backoff
    reconnecting = [
        e
        for e in events.of(ConnectionChanged)
        if e.channel is Channel.PUBLIC and e.state is ConnectionState.RECONNECTING
    ]
    assert "code 1008" in reconnecting[0].reason
    assert session.stats.connects >= 4  # it never gives up


async def test_unreachable_server_is_retried_with_backoff() -> None:
    inbound = InboundQueue()
    cfg = WsSessionConfig(
        public_url="ws://127.0.0.1:9/v2",  # discard port: connection refused
        private_url=None,
        symbols=("XLM/USD",),
        backoff=Backoff(initial_s=0.01, cap_s=0.04),
    )
    session = WsSession(cfg, inbound, clock=SystemClock(), rng=random.Random(3))
    events = Collector(inbound)
    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(session.run())
        drain = tg.create_task(events.run())
        await eventually(
            lambda: (
                sum(e.state is ConnectionState.RECONNECTING for e in events.of(ConnectionChanged))
                >= 5
            )
        )
        session.stop()
        await asyncio.wait_for(run, 5)
        drain.cancel()
    assert session.stats.connects == 0
