"""Private connection tokens: a refused token is replaced by a fresh one; a failing token
fetch is retried with backoff; every connection gets its own fetch."""

from __future__ import annotations

import asyncio
import random

from tests.integration.ws.ws_helpers import Collector, fast_config, token_provider

from krakenbot.clock import SystemClock
from krakenbot.domain.enums import Channel, ConnectionState
from krakenbot.domain.events import BalanceChange, ConnectionChanged, SubscriptionFailed
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession
from krakenbot.sim import Sim


async def _run_with(sim: Sim, provider) -> tuple[WsSession, Collector]:  # type: ignore[no-untyped-def]
    inbound = InboundQueue()
    cfg = fast_config(sim, ticker=False, book=False, trade=False)
    session = WsSession(
        cfg, inbound, clock=SystemClock(), rng=random.Random(1), token_provider=provider
    )
    return session, Collector(inbound)


async def test_refused_token_is_replaced_by_a_fresh_one(sim: Sim) -> None:
    real = token_provider(sim)
    calls: list[str] = []

    async def provider() -> str:
        token = "not-a-token" if not calls else await real()
        calls.append(token)
        return token

    session, events = await _run_with(sim, provider)
    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(session.run())
        drain = tg.create_task(events.run())
        refused = await events.wait_for(lambda e: isinstance(e, SubscriptionFailed))
        assert isinstance(refused, SubscriptionFailed) and "Invalid token" in refused.error
        await events.wait_for(lambda e: isinstance(e, BalanceChange) and e.is_snapshot)
        session.stop()
        await asyncio.wait_for(run, 5)
        drain.cancel()
    assert len(calls) >= 2 and calls[0] == "not-a-token"


async def test_failing_token_fetch_is_retried(sim: Sim) -> None:
    real = token_provider(sim)
    attempts: list[int] = []

    async def provider() -> str:
        attempts.append(1)
        if len(attempts) <= 2:
            raise ConnectionError("REST unavailable")
        return await real()

    session, events = await _run_with(sim, provider)
    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(session.run())
        drain = tg.create_task(events.run())
        await events.wait_for(
            lambda e: (
                isinstance(e, ConnectionChanged)
                and e.channel is Channel.PRIVATE
                and e.state is ConnectionState.CONNECTED
            )
        )
        session.stop()
        await asyncio.wait_for(run, 5)
        drain.cancel()
    assert len(attempts) == 3
    retries = [e for e in events.of(ConnectionChanged) if e.state is ConnectionState.RECONNECTING]
    assert len(retries) == 2 and "REST unavailable" in retries[0].reason
