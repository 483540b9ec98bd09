"""The WebSocket order path without sockets: req_id correlation, an ack that never comes
(connection lost, overdue), Kraken's refusals mapped like REST's (rate limit charged to the
shared model, a refused token sends the order over REST), an ambiguous order found by
its own executions report, and the metrics' timings of an order sent over the WebSocket."""

from __future__ import annotations

import asyncio
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from tests.metrics_check import Timings

from krakenbot.clock import ManualClock
from krakenbot.domain.enums import ExecType, OrderStatus, OrderType, Side
from krakenbot.domain.events import ExecutionReport, OrderAccepted
from krakenbot.errors import RejectedError
from krakenbot.kraken.errors import TradingRateLimitedError, UnknownOrderError
from krakenbot.kraken.methods import Priority
from krakenbot.kraken.rest_orders import OrderRequest
from krakenbot.kraken.ws_messages import MethodResponse, OrderRef
from krakenbot.net.http import RequestNotSentError
from krakenbot.net.order_attempt import Sending
from krakenbot.net.rest_client import RestClient
from krakenbot.net.rest_config import RestConfig, TradeCharge
from krakenbot.net.ws_orders import WsOrderPath
from krakenbot.net.ws_trading import TradingRequests, WsAckTimeoutError, WsConnectionLostError

WINDOW_NS = 2_000_000_000


class Budget:
    def __init__(self) -> None:
        self.charged: list[tuple[str, TradeCharge, Priority | None]] = []
        self.limited: list[str] = []
        self.outcomes: list[BaseException | None] = []
        self.room = True  # reserve_trade_now charges at once (False: the caller must wait)

    def reserve_trade_now(self, endpoint: str, trade: TradeCharge) -> float:
        if not self.room:
            return 1.5
        self.charged.append((endpoint, trade, None))
        return 0.0

    async def reserve_trade(
        self,
        endpoint: str,
        trade: TradeCharge,
        *,
        priority: Priority,
        cl_ord_id: str | None = None,
    ) -> None:
        self.charged.append((endpoint, trade, priority))

    async def trade_limited(self, pair: str) -> None:
        self.limited.append(pair)

    def record(self, exc: BaseException | None) -> None:
        self.outcomes.append(exc)


class Socket:
    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []
        self.up = True
        self.req_id = 0

    async def send(self, text: str) -> bool:
        if not self.up:
            return False
        self.sent.append(json.loads(text))
        return True

    def next_id(self) -> int:
        self.req_id += 1
        return self.req_id


def _setup() -> tuple[Socket, TradingRequests, WsOrderPath, Budget, ManualClock]:
    sock, clock, budget = Socket(), ManualClock(), Budget()
    trading = TradingRequests(
        sock.send, sock.next_id, clock, token=lambda: "tok" if sock.up else None
    )
    return sock, trading, WsOrderPath(trading, budget, clock, ack_grace_s=0.5), budget, clock


def _req() -> OrderRequest:
    return OrderRequest("XLMUSD", Side.BUY, OrderType.LIMIT, Decimal("30"), "kb1", Decimal("0.28"))


def _ack(method: str, req_id: int, *, error: str | None = None, **ref: str) -> MethodResponse:
    orders = (OrderRef(ref.get("order_id"), ref.get("cl_ord_id"), None),) if ref else ()
    return MethodResponse(method, error is None, error, req_id, orders, recv_ns=5)


async def _sent(sock: Socket, n: int = 1) -> None:
    for _ in range(100):  # the task runs up to its send within a few loop turns
        if len(sock.sent) >= n:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{n} frames expected, {len(sock.sent)} sent")


async def test_an_accepted_order_is_announced_by_its_ack_in_stream_order() -> None:
    sock, trading, path, budget, _ = _setup()
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)))
    await _sent(sock)
    assert sock.sent[0]["method"] == "add_order" and sock.sent[0]["req_id"] == 1
    assert budget.charged == [("ws:add_order", TradeCharge("XLM/USD", 1), None)]
    # Another request's ack (req_id 2) is not ours; ours carries req_id 1.
    assert trading.on_response(_ack("add_order", 2, order_id="OX")) == []
    events = trading.on_response(_ack("add_order", 1, order_id="OAAAAA-BBBBB-CCCCCC"))
    assert events == [OrderAccepted("kb1", "OAAAAA-BBBBB-CCCCCC", 5)]
    result = await task
    assert result is not None and result.txid == "OAAAAA-BBBBB-CCCCCC" and result.announced
    assert budget.outcomes == [None]


async def test_an_order_without_room_on_its_counter_waits_for_it_before_it_is_sent() -> None:
    sock, trading, path, budget, _ = _setup()
    budget.room = False  # the synchronous charge finds no room: the waiting one is used
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)))
    await _sent(sock)
    assert budget.charged == [("ws:add_order", TradeCharge("XLM/USD", 1), Priority.ORDER)]
    trading.on_response(_ack("add_order", 1, order_id="OAAAAA-BBBBB-CCCCCC"))
    result = await task
    assert result is not None and result.txid == "OAAAAA-BBBBB-CCCCCC"


async def test_an_order_whose_connection_went_down_while_it_waited_for_room_is_not_sent() -> None:
    sock, _, path, budget, _ = _setup()
    budget.room = False
    charge = budget.reserve_trade

    async def then_down(
        endpoint: str, trade: TradeCharge, *, priority: Priority, cl_ord_id: str | None = None
    ) -> None:
        await charge(endpoint, trade, priority=priority, cl_ord_id=cl_ord_id)
        sock.up = False  # the connection went while the order waited for room

    budget.reserve_trade = then_down  # type: ignore[method-assign]
    assert await path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)) is None  # REST goes on
    assert sock.sent == [] and path.sent == 0


async def test_not_connected_means_not_sent() -> None:
    sock, trading, path, budget, _ = _setup()
    sock.up = False
    assert await path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)) is None
    assert budget.charged == [] and sock.sent == []
    with pytest.raises(RequestNotSentError):
        await trading.cancel_all()


async def test_connection_lost_or_no_ack_in_time_is_ambiguous() -> None:
    sock, trading, path, budget, clock = _setup()
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)))
    await _sent(sock)
    trading.on_disconnect()
    with pytest.raises(WsConnectionLostError):
        await task
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)))
    await _sent(sock, 2)
    trading.expire(clock.monotonic_ns() + WINDOW_NS)  # not yet: deadline + grace not over
    assert not task.done()
    trading.expire(clock.monotonic_ns() + WINDOW_NS + 600_000_000)
    with pytest.raises(WsAckTimeoutError):
        await task
    # A late ack of the timed-out request still tells the engine the order exists.
    late = trading.on_response(_ack("add_order", 2, order_id="OLATE"))
    assert late == [OrderAccepted("kb1", "OLATE", 5)]
    assert isinstance(budget.outcomes[-1], WsAckTimeoutError)


async def test_rate_limit_refusal_charges_the_shared_model_and_raises_like_rest() -> None:
    sock, trading, path, budget, _ = _setup()
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)))
    await _sent(sock)
    trading.on_response(_ack("add_order", 1, error="EOrder:Rate limit exceeded"))
    with pytest.raises(TradingRateLimitedError):
        await task
    assert budget.limited == ["XLM/USD"]


async def test_refusals_map_through_the_error_table() -> None:
    sock, trading, path, _, _ = _setup()
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)))
    await _sent(sock)
    trading.on_response(_ack("add_order", 1, error="EOrder:Insufficient funds"))
    with pytest.raises(RejectedError):
        await task
    cancel = asyncio.ensure_future(path.cancel("OTX", None, TradeCharge("XLM/USD", 8, True)))
    await _sent(sock, 2)
    assert sock.sent[1]["params"] == {"order_id": ["OTX"], "token": "tok"}
    trading.on_response(_ack("cancel_order", 2, error="EOrder:Unknown order"))
    with pytest.raises(UnknownOrderError):
        await cancel


async def test_a_refused_token_sends_the_order_over_rest_instead() -> None:
    sock, trading, path, _, _ = _setup()
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0)))
    await _sent(sock)
    trading.on_response(_ack("add_order", 1, error="EAPI:Invalid token"))
    assert await task is None


async def test_an_ambiguous_order_is_found_by_its_own_executions_report() -> None:
    _, trading, path, _, _ = _setup()
    found = asyncio.ensure_future(path.sighted("kb1", 30.0))
    await asyncio.sleep(0)
    other = ExecutionReport(ExecType.NEW, "OOTHER", "kb2", OrderStatus.OPEN, 1)
    trading.on_report(other)
    assert not found.done()
    trading.on_report(ExecutionReport(ExecType.NEW, "OFOUND", "kb1", OrderStatus.OPEN, 1))
    assert await found == "OFOUND"
    assert not trading.watching


async def test_dead_man_switch_disarmed_answer() -> None:
    sock, trading, path, _, _ = _setup()
    task = asyncio.ensure_future(path.cancel_after(0))
    await _sent(sock)
    assert sock.sent[0]["params"] == {"timeout": 0, "token": "tok"}
    trading.on_response(
        MethodResponse(
            "cancel_all_orders_after",
            True,
            None,
            1,
            trigger_time="0",
            current_time="2023-11-14T22:13:20Z",
        )
    )
    result = await task
    assert result is not None and result.trigger_time == ""


async def test_an_attempt_learns_when_its_frame_was_written_and_only_then() -> None:
    sock, trading, path, _, clock = _setup()
    sending = Sending(0)
    written_ns = clock.now_ns()
    task = asyncio.ensure_future(path.add(_req(), "XLM/USD", WINDOW_NS, sending))
    await _sent(sock)
    assert (sending.wire_ns, sending.transport) == (written_ns, "websocket")
    trading.on_response(_ack("add_order", 1, order_id="OAAAAA-BBBBB-CCCCCC"))
    await task
    sock.up = False  # not sent: nothing on the wire, the loop goes on over REST
    unsent = Sending(0)
    assert await path.add(_req(), "XLM/USD", WINDOW_NS, unsent) is None
    assert unsent.wire_ns == 0


async def test_an_order_over_the_websocket_is_timed_as_one_over_rest(tmp_path: Path) -> None:
    sock, trading, path, _, clock = _setup()
    # No REST request is made: the URL only has to be well formed.
    config = RestConfig(state_dir=tmp_path, base_url="http://127.0.0.1:9")
    async with RestClient(config, None, clock=clock, rng=random.Random(1)) as client:
        client.route_orders(path)
        timings = Timings()
        client.time_orders(timings)
        written_ns = clock.now_ns()
        task = asyncio.ensure_future(client.add_order(_req()))
        await _sent(sock)
        clock.advance(0.25)  # Kraken's ack comes 250 ms after the frame was written
        trading.on_response(_ack("add_order", 1, order_id="OAAAAA-BBBBB-CCCCCC"))
        result = await task
    assert result.txids == ("OAAAAA-BBBBB-CCCCCC",)
    assert timings.wired == [("kb1", written_ns)]
    assert timings.acks == [("websocket", 0.25)]


async def test_a_write_that_fails_is_ambiguous_and_counts_for_the_breaker() -> None:
    _, trading, path, budget, _ = _setup()

    async def failing(text: str) -> bool:
        raise WsConnectionLostError("send failed", endpoint="ws:send")

    trading._send = failing
    with pytest.raises(WsConnectionLostError):
        await path.add(_req(), "XLM/USD", WINDOW_NS, Sending(0))
    assert isinstance(budget.outcomes[-1], WsConnectionLostError)
