"""The streamed trading counter reaches the REST client's rate model (loopback sim).

A second client on the same account (own state dir, so our model is never charged for its
calls) adds and at once cancels orders: only Kraken's counter, streamed on our private
`executions` subscription (`ratecounter: true`), can tell our model about them. Real WebSocket
and HTTP on 127.0.0.1; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import random
import time
from decimal import Decimal
from pathlib import Path

from tests.eventually import eventually
from tests.instruments import XLM
from tests.integration.rest.resttest_helpers import client, post_only_buy
from tests.integration.ws.ws_helpers import WAIT_S, fast_config, token_provider

from krakenbot.clock import SystemClock
from krakenbot.domain.enums import Channel, ExecType
from krakenbot.domain.events import Event, ExecutionReport, RateCounter
from krakenbot.net.kraken_venue import KrakenVenue
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession
from krakenbot.sim import Sim


async def _venue_events(venue: KrakenVenue, out: list[Event]) -> None:
    async for event in venue.events():
        out.append(event)


async def test_streamed_counter_lifts_the_rest_model(sim: Sim, tmp_path: Path) -> None:
    clock = SystemClock()
    ours = client(sim, tmp_path / "ours", clock)
    other = client(sim, tmp_path / "other", clock)
    session = WsSession(
        fast_config(sim, symbols=(), ratecounter=True),
        InboundQueue(),
        clock=clock,
        rng=random.Random(5),
        token_provider=token_provider(sim),
    )
    venue = KrakenVenue(ours, session, {"XLM/USD": XLM}, clock=clock)
    seen: list[Event] = []
    try:
        async with asyncio.TaskGroup() as tg:
            run = tg.create_task(venue.run())
            drain = tg.create_task(_venue_events(venue, seen))
            try:
                async with asyncio.timeout(WAIT_S):
                    await venue.wait_connected()
                assert ours.trading_counter_estimate("XLM/USD") == 0.0

                # Add + cancel at once: +1 and +8 (young order) each on Kraken's counter.
                txids = []
                for _ in range(3):
                    res = await other.add_order(post_only_buy("0.050000", "40"))
                    await other.cancel_order(txid=res.txid)
                    txids.append(res.txid)
                last = txids[-1]

                def last_cancel_counted() -> bool:
                    after = [
                        i
                        for i, e in enumerate(seen)
                        if isinstance(e, ExecutionReport)
                        and e.order_id == last
                        and e.exec_type is ExecType.CANCELED
                    ]
                    return bool(after) and any(
                        isinstance(e, RateCounter) for e in seen[after[0] + 1 :]
                    )

                await eventually(last_cancel_counted)
                counters = [e for e in seen if isinstance(e, RateCounter)]
                # The cancel reports name no symbol; the venue placed them by order id.
                assert any(c.symbol == "" and c.order_id in txids for c in counters)
                assert max(c.count for c in counters) > Decimal(20)

                # The reading is folded into the model at our next private call.
                await ours.balance()
                ours_now = ours.trading_counter_estimate("XLM/USD")
                sim_now = float(sim.control.trading_counter(sim.api_key, "XLM/USD"))
                assert sim_now > 20.0
                # Same scale, same decay (starter: 1/s); rounding to 0.01 and the few ms
                # between the two reads are all that may separate them.
                assert abs(ours_now - sim_now) < 0.5, (ours_now, sim_now)
                # Nothing leaked to another pair we do not trade.
                assert ours.trading_counter_estimate("BTC/USD") == 0.0
            finally:
                venue.stop()
                await asyncio.wait_for(run, 5)
                drain.cancel()
    finally:
        await ours.close()
        await other.close()


async def test_without_ratecounter_the_sim_streams_no_counter(sim: Sim, tmp_path: Path) -> None:
    clock = SystemClock()
    other = client(sim, tmp_path / "other", clock)
    inbound = InboundQueue()
    session = WsSession(
        fast_config(sim, symbols=(), ratecounter=False),
        inbound,
        clock=clock,
        rng=random.Random(6),
        token_provider=token_provider(sim),
    )
    seen: list[Event] = []

    async def drain() -> None:
        while True:
            seen.append(await inbound.get())

    try:
        async with asyncio.TaskGroup() as tg:
            run = tg.create_task(session.run())
            pump = tg.create_task(drain())
            try:
                async with asyncio.timeout(WAIT_S):
                    await session.wait_connected(Channel.PRIVATE)
                res = await other.add_order(post_only_buy("0.050000", "40"))
                await other.cancel_order(txid=res.txid)
                deadline = time.monotonic() + WAIT_S
                while not any(
                    isinstance(e, ExecutionReport)
                    and e.order_id == res.txid
                    and e.exec_type is ExecType.CANCELED
                    for e in seen
                ):
                    assert time.monotonic() < deadline, "cancel report never arrived"
                    await asyncio.sleep(0.01)
                assert not any(isinstance(e, RateCounter) for e in seen)
            finally:
                session.stop()
                await asyncio.wait_for(run, 5)
                pump.cancel()
    finally:
        await other.close()
