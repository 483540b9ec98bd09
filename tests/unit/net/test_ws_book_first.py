"""A book frame's view wakes the idle engine before the reader decodes the frames buffered
behind it (issue 14: frame -> engine `post`). aiohttp's `receive()` does not suspend while
frames are buffered, so without a yield the engine would only see a burst's first book once
every frame of the burst had been decoded (and conflated). When the engine is busy nothing
changes: the reader reads on and the views are conflated as before."""

from __future__ import annotations

import asyncio
import random

from tests.conftest import DATA
from tests.unit.net.test_ws_ack_first import BufferedSocket

from krakenbot.clock import ManualClock
from krakenbot.domain.events import BookStatus, BookTop, Event
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession, WsSessionConfig

RECORDING = DATA / "ws" / "book10_BTCUSD_2023-07-30.jsonl"
FRAMES = RECORDING.read_text().splitlines()[:12]  # the snapshot and 11 updates


def _session() -> tuple[WsSession, InboundQueue]:
    inbound = InboundQueue()
    config = WsSessionConfig(symbols=("BTC/USD",), book_decimals=(("BTC/USD", 1, 8),))
    return WsSession(config, inbound, clock=ManualClock(), rng=random.Random(1)), inbound


async def test_each_book_view_reaches_the_waiting_engine_before_the_next_frame() -> None:
    session, inbound = _session()
    conn = session._public
    taken: list[tuple[type[Event], int]] = []  # (event type, frames read when taken)

    async def engine() -> None:
        while True:
            event = await inbound.get()
            taken.append((type(event), session.stats.frames))

    consumer = asyncio.ensure_future(engine())
    await asyncio.sleep(0)  # the engine waits for its first event
    await session._read(conn, BufferedSocket(FRAMES))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    consumer.cancel()
    assert taken[:2] == [(BookStatus, 1), (BookTop, 1)]  # the snapshot, verified
    # Every update's view was taken before the next frame was read: none conflated away.
    assert taken[2:] == [(BookTop, n) for n in range(2, len(FRAMES) + 1)]
    assert inbound.stats.coalesced == 0


async def test_a_busy_engine_still_gets_the_latest_view_conflated() -> None:
    session, inbound = _session()
    conn = session._public
    await session._read(conn, BufferedSocket(FRAMES))  # type: ignore[arg-type]
    events = inbound.drain()
    assert [type(e) for e in events] == [BookStatus, BookTop]
    assert inbound.stats.coalesced == len(FRAMES) - 1  # every update after the snapshot
    assert not inbound.woke
