"""An order's ack wakes its caller before the reader decodes the executions reports that
arrived behind it (issue 15: the order path's ack -> caller hop). aiohttp's `receive()` does
not suspend while frames are buffered, so without a yield after the ack the caller would wait
for every report queued behind it. Stream order is unchanged: the reports still follow the
ack's `OrderAccepted` on the inbound queue, which is put there once the woken caller ran (the
engine's wake-up is not on the order's time) and before the next frame is decoded."""

from __future__ import annotations

import asyncio
import random

import aiohttp

from krakenbot.clock import ManualClock
from krakenbot.domain.events import ExecutionReport, OrderAccepted, ReconcileRequested
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_session import WsSession, WsSessionConfig

CL = "e270fc5693ff45adb47b4b209734e9c1"
TXID = "OZMW0X-9H71X-NS2HKK"
TS = '"timestamp":"2026-12-06T16:43:28.533574Z"'
FRAMES = [
    '{"channel":"executions","type":"snapshot","data":[],"sequence":1}',
    f'{{"method":"add_order","result":{{"order_id":"{TXID}","cl_ord_id":"{CL}"}},'
    '"success":true,"time_in":"2026-12-06T16:43:28.533566Z",'
    '"time_out":"2026-12-06T16:43:28.533998Z","req_id":1}',
    f'{{"channel":"executions","type":"update","data":[{{"order_id":"{TXID}",'
    '"symbol":"XLM/USD","order_qty":30.00000000,"cum_cost":0.00000,"time_in_force":"IOC",'
    '"exec_type":"pending_new","side":"buy","order_type":"limit",'
    f'"cl_ord_id":"{CL}","limit_price":0.200000,"order_status":"pending_new",{TS}}}],'
    '"sequence":2}',
    f'{{"channel":"executions","type":"update","data":[{{{TS},"order_status":"new",'
    f'"exec_type":"new","cl_ord_id":"{CL}","order_id":"{TXID}"}}],"sequence":3}}',
]


class BufferedSocket:
    """Frames already received: `receive()` answers at once, as aiohttp's does then."""

    close_code = 1000

    def __init__(self, frames: list[str]) -> None:
        self._frames = list(frames)
        self.sent: list[str] = []

    async def receive(self) -> aiohttp.WSMessage:
        if self._frames:
            return aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, self._frames.pop(0), None)
        return aiohttp.WSMessage(aiohttp.WSMsgType.CLOSED, None, None)

    async def send_str(self, text: str) -> None:
        self.sent.append(text)

    @property
    def closed(self) -> bool:
        return False


async def test_the_ack_wakes_its_caller_before_the_reports_behind_it_are_decoded() -> None:
    inbound = InboundQueue()
    config = WsSessionConfig(private_url="ws://127.0.0.1:9/v2", symbols=())
    session = WsSession(config, inbound, clock=ManualClock(), rng=random.Random(1))
    conn = session._private
    sock = BufferedSocket(FRAMES)
    conn.ws, conn.token = sock, "tok"  # type: ignore[assignment]
    conn.ready.set()
    frames_at_wake: list[int] = []
    queued_at_wake: list[list[type]] = []

    async def caller() -> None:
        pending = await session.trading.request("add_order", lambda token, rid: f"{rid}", (CL,))
        await pending.future
        frames_at_wake.append(session.stats.frames)
        queued_at_wake.append([type(e) for e in inbound._items])

    waiter = asyncio.ensure_future(caller())
    await asyncio.sleep(0)  # the request is on the wire
    assert sock.sent == ["1"]
    await session._read(conn, sock)  # type: ignore[arg-type]
    await waiter
    assert frames_at_wake == [2]  # the snapshot and the ack; the updates came after
    assert queued_at_wake == [[ReconcileRequested]]  # the snapshot's; the ack's not yet
    events = inbound.drain()
    kinds = [type(e) for e in events if type(e) in (OrderAccepted, ExecutionReport)]
    assert kinds == [OrderAccepted, ExecutionReport, ExecutionReport]


async def test_an_ack_held_for_its_caller_is_put_before_the_next_frame_decoded() -> None:
    # Frames handed to on_frame by anything but the reader (which puts the held events
    # right after its yield): the next frame puts them first, so stream order holds.
    inbound = InboundQueue()
    config = WsSessionConfig(private_url="ws://127.0.0.1:9/v2", symbols=())
    session = WsSession(config, inbound, clock=ManualClock(), rng=random.Random(1))
    conn = session._private
    sock = BufferedSocket([])
    conn.ws, conn.token = sock, "tok"  # type: ignore[assignment]
    conn.ready.set()
    pending = await session.trading.request("add_order", lambda token, rid: f"{rid}", (CL,))
    for recv_ns, frame in enumerate(FRAMES, 1):
        session.on_frame(conn, frame, recv_ns)
    assert pending.future.done()
    kinds = [type(e) for e in inbound.drain() if type(e) in (OrderAccepted, ExecutionReport)]
    assert kinds == [OrderAccepted, ExecutionReport, ExecutionReport]
