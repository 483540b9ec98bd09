"""An order's first add_order written without a coroutine (issue 14, tick-to-order): the
frame is on the socket when `write_add` / `RestClient.add_order_now` return, `add` /
`add_order(first=...)` then go on from its ack with the outcomes of the usual path, and
nothing is written or charged when anything would have to wait (rate limiter, connection,
breaker)."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from tests.metrics_check import Timings
from tests.unit.net.test_ws_orders import WINDOW_NS, Budget, Socket, _ack, _req

from krakenbot.clock import ManualClock
from krakenbot.domain.events import OrderAccepted
from krakenbot.net.order_attempt import Sending
from krakenbot.net.rest_client import RestClient
from krakenbot.net.rest_config import RestConfig, TradeCharge
from krakenbot.net.ws_orders import WsOrderPath
from krakenbot.net.ws_trading import TradingRequests, WsConnectionLostError


class NowSocket(Socket):
    """The session's synchronous writer (`WsSession._write_private_now`) as a fake."""

    def __init__(self) -> None:
        super().__init__()
        self.writable = True  # False: up, but not writable without a coroutine
        self.fail: Exception | None = None

    def write_now(self, text: str | None) -> bool:
        if not (self.up and self.writable):
            return False
        if text is None:
            return True
        if self.fail is not None:
            raise self.fail
        self.sent.append(json.loads(text))
        return True


def _setup() -> tuple[NowSocket, TradingRequests, WsOrderPath, Budget, ManualClock]:
    sock, clock, budget = NowSocket(), ManualClock(), Budget()
    trading = TradingRequests(
        sock.send,
        sock.next_id,
        clock,
        token=lambda: "tok" if sock.up else None,
        write_now=sock.write_now,
    )
    return sock, trading, WsOrderPath(trading, budget, clock, ack_grace_s=0.5), budget, clock


async def test_the_frame_is_written_before_write_add_returns_and_add_waits_for_its_ack() -> None:
    sock, trading, path, budget, clock = _setup()
    sending = Sending(0)
    assert path.write_add(_req(), "XLM/USD", WINDOW_NS, sending)
    assert [f["method"] for f in sock.sent] == ["add_order"]  # no loop turn needed
    assert sock.sent[0]["params"]["cl_ord_id"] == "kb1"  # type: ignore[index]
    assert (sending.wire_ns, sending.transport) == (clock.now_ns(), "websocket")
    assert sending.deadline_ns == clock.now_ns() + WINDOW_NS
    assert budget.charged == [("ws:add_order", TradeCharge("XLM/USD", 1), None)]
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, sending))
    await asyncio.sleep(0)
    events = trading.on_response(_ack("add_order", 1, order_id="OAAAAA-BBBBB-CCCCCC"))
    assert events == [OrderAccepted("kb1", "OAAAAA-BBBBB-CCCCCC", 5)]
    result = await task
    assert result is not None and result.txid == "OAAAAA-BBBBB-CCCCCC"
    assert len(sock.sent) == 1 and path.sent == 1  # written once, charged once
    assert len(budget.charged) == 1 and budget.outcomes == [None]


@pytest.mark.parametrize("why", ["no room on the counter", "not writable now", "not connected"])
async def test_nothing_is_written_or_charged_when_something_would_have_to_wait(why: str) -> None:
    sock, _, path, budget, _ = _setup()
    if why == "no room on the counter":
        budget.room = False
    elif why == "not writable now":
        sock.writable = False
    else:
        sock.up = False
    sending = Sending(0)
    assert not path.write_add(_req(), "XLM/USD", WINDOW_NS, sending)
    assert sock.sent == [] and budget.charged == [] and sending.wire_ns == 0


async def test_a_failed_write_is_raised_by_add_as_an_ambiguous_send() -> None:
    sock, trading, path, budget, _ = _setup()
    sock.fail = WsConnectionLostError("send failed", endpoint="ws:send")
    sending = Sending(0)
    assert path.write_add(_req(), "XLM/USD", WINDOW_NS, sending)  # its fate is unknown
    assert sending.wire_ns == 0 and budget.outcomes == []
    with pytest.raises(WsConnectionLostError):
        await path.add(_req(), "XLM/USD", WINDOW_NS, sending)
    assert budget.outcomes == [sock.fail]
    # The request stays known: a late ack still announces the order.
    assert trading.on_response(_ack("add_order", 1, order_id="OAAAAA-BBBBB-CCCCCC")) == [
        OrderAccepted("kb1", "OAAAAA-BBBBB-CCCCCC", 5)
    ]


async def test_add_order_now_then_add_order_places_it_once_and_times_it(tmp_path: Path) -> None:
    sock, trading, path, _, clock = _setup()
    config = RestConfig(state_dir=tmp_path, base_url="http://127.0.0.1:9")  # no REST call
    async with RestClient(config, None, clock=clock, rng=random.Random(1)) as client:
        client.route_orders(path)
        timings = Timings()
        client.time_orders(timings)
        written_ns = clock.now_ns()
        first = client.add_order_now(_req())
        assert first is not None and len(sock.sent) == 1
        task = asyncio.ensure_future(client.add_order(_req(), first=first))
        await asyncio.sleep(0)
        clock.advance(0.25)
        trading.on_response(_ack("add_order", 1, order_id="OAAAAA-BBBBB-CCCCCC"))
        result = await task
    assert result.txids == ("OAAAAA-BBBBB-CCCCCC",) and len(sock.sent) == 1
    assert timings.wired == [("kb1", written_ns)]
    assert timings.acks == [("websocket", 0.25)]


@pytest.mark.parametrize("reducing", [False, True])
async def test_add_order_now_leaves_an_entry_to_add_order_while_the_breaker_is_not_closed(
    tmp_path: Path, reducing: bool
) -> None:
    sock, _, path, budget, clock = _setup()
    config = RestConfig(state_dir=tmp_path, base_url="http://127.0.0.1:9")
    async with RestClient(config, None, clock=clock, rng=random.Random(1)) as client:
        client.route_orders(path)
        client.breaker.trip("test")
        first = client.add_order_now(_req(), reducing=reducing)
    # An entry is left to `add_order` (which refuses it, or takes the half-open probe);
    # an exit goes whatever the breaker says, as in `add_order`.
    assert (first is not None) is reducing
    assert len(sock.sent) == int(reducing) and len(budget.charged) == int(reducing)


async def test_add_order_now_without_a_websocket_path_writes_nothing(tmp_path: Path) -> None:
    config = RestConfig(state_dir=tmp_path, base_url="http://127.0.0.1:9")
    async with RestClient(config, None, clock=ManualClock(), rng=random.Random(1)) as client:
        assert client.add_order_now(_req()) is None
