"""Notifications from a real stack trading against the simulator: the core's notices reach
the endpoint, and an endpoint that hangs delays no order (entry, protective stop, exit all
go while the first notification is still waiting for its answer)."""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from enginetest_helpers import XLM, Scripted, buy, engine_env, ours, resting, sell
from tests.eventually import eventually

from krakenbot.app.notices import Notices
from krakenbot.app.notifier import Notifier, NotifierConfig
from krakenbot.app.notify_targets import parse_targets
from krakenbot.app.observers import attach
from krakenbot.clock import SystemClock


async def test_orders_keep_flowing_while_the_notification_endpoint_hangs(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []
    forever = asyncio.Event()

    async def hang(request: web.Request) -> web.Response:
        seen.append(json.loads(await request.read()))
        await forever.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hang)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    clock = SystemClock()
    config = NotifierConfig(timeout_s=60, retries=0)  # the hang outlives the whole test
    notifier = Notifier(
        parse_targets(str(server.make_url("/hook"))),
        mode="sim",
        clock=clock,
        rng=random.Random(5),
        config=config,
    )
    strategy = Scripted()
    done = asyncio.Event()
    sender: asyncio.Future[None] | None = None
    try:
        async with engine_env(tmp_path, strategy) as env:
            metrics = attach(env.stack, clock, Notices(notifier, clock))
            sender = asyncio.ensure_future(notifier.run(done))
            engine = env.engine
            await eventually(strategy.books, what="a verified book")
            strategy.later(lambda v: [buy("30", "0.289000")])
            env.sim.control.set_mid(XLM, Decimal("0.290001"))
            await eventually(lambda: ours(env), what="entry on the exchange")
            env.sim.control.set_mid(XLM, Decimal("0.288000"))  # fills the entry
            await eventually(lambda: seen, what="the fill's notification is hanging")
            # Everything after the fill happens while that request hangs:
            await resting(env, "protect")  # the protective stop
            strategy.later(lambda v: [sell("30", "0.287500", tag="take_profit")])
            env.sim.control.set_mid(XLM, Decimal("0.288001"))
            await eventually(lambda: engine.core.portfolio.position(XLM) == 0, what="flat")
            assert len(seen) == 1 and not forever.is_set()  # still hanging, still the first
            # The exit's fill and the close are queued once the runner has carried out the
            # core's effects (the portfolio is flat a moment before).
            await eventually(
                lambda: notifier.counts()["webhook"].queued >= 2, what="the exit's notices queued"
            )
            counts = notifier.counts()["webhook"]
            assert counts.sent == 0 and counts.queued >= 2  # the exit's fill, the close
            queued = [m.kind.value for m in notifier._outboxes[0].queue]
            assert "position_closed" in queued
            acked = sum(timings.count for timings in metrics.ack.values())  # WS or REST
            assert metrics.tick_to_order.count >= 1 and acked >= 3
    finally:
        done.set()
        if sender is not None:
            async with asyncio.timeout(5):  # the hanging request is cut when the daemon ends
                await sender
        forever.set()
        await server.close()
    assert seen[0]["kind"] == "fill" and seen[0]["fields"]["symbol"] == XLM
