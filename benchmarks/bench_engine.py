"""Tick-to-order latency of the whole engine: WS book frame received → order bytes written.

The simulator runs in ANOTHER PROCESS (`python -m krakenbot sim`, pro tier, random walk every
50 ms), so this process does only what the daemon does: the real stack (`app.trading_stack`, live
venue over loopback) decodes and verifies each book frame, a strategy answers a new book view
with one IOC buy 1 % under the bid (never fills, never rests: no cancel), the risk gate
approves it, the runner commits the order row to SQLite (WAL) and the venue sends it over
`ORDER_TRANSPORT`: `websocket` (default; the `add_order` frame on the private WebSocket) or,
with `--transport rest`, the signed AddOrder request.

Measured per order, from the book view's `recv_ns` (stamped when the frame came off the
socket, before decoding) to the moment the order's bytes are written to the socket (the
loop's socket transport `write` is wrapped to stamp it: a REST request by its path and
`cl_ord_id`; a client's WebSocket frame is masked, so the `add_order` text handed to
aiohttp's `send_str`, or to the executor's own synchronous write (net/ws_write.py), names
the order the next write carries). The ledger commit is included.
`--breakdown` prints the stages (frame → core called (the engine's `post` reached the
decision: decode, book, checksum, queue hop), → core decided, → row committed, → send begins
(the executor hands the order over: over WebSocket its frame is written in that same step
when nothing has to wait; else its send task sends it), → socket).

No order should wait for the rate limiter: the per-pair trading counter (pro: 180, decaying
3.75/s; docs guides/spot-ratelimits) is the one limit an order meets (REST: also the REST
counter); three pairs, each paced below the decay (`--per-pair-hz`, default 3.5/s). Orders
that waited for the client's rate model anyway (their send task names them) are counted,
reported and left out of the figures; a run they hold back past its time says so.
Usage: python benchmarks/bench_engine.py [--orders N] [--per-pair-hz F] [--transport T]
[--breakdown]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from asyncio import selector_events
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from krakenbot.app.trading_stack import Endpoints, StackTuning, TradingStack, open_stack
from krakenbot.clock import SystemClock
from krakenbot.config import Settings
from krakenbot.domain.commands import Intent, OrderIntent, PlaceOrder
from krakenbot.domain.effects import Effect, PersistOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, Event
from krakenbot.domain.sections import ApiTier, Credentials, OrderTransport, Secret
from krakenbot.engine.config import EngineConfig
from krakenbot.net import ws_session
from krakenbot.net.kraken_venue import KrakenVenue
from krakenbot.net.rest_config import TradeCharge
from krakenbot.net.rest_core import RestCore
from krakenbot.risk.limits import RiskLimits
from krakenbot.store import LedgerRepository, open_ledger
from krakenbot.strategy.base import StrategyView

PAIRS = ("XLM/USD", "BTC/USD", "ETH/USD")
NS = 1_000_000_000


@dataclass
class Pinger:
    """One instance per pair: answers a new verified book with one IOC buy 1 % under the
    bid, at most `hz` times a second (the pacing that keeps the trading counter low)."""

    symbol: str
    hz: float
    name: str = "bench"
    armed: bool = False
    _last_ns: int = 0

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset({self.symbol})

    def on_event(self, event: Event, view: StrategyView) -> Sequence[Intent]:
        if not (isinstance(event, BookTop) and event.verified and self.armed):
            return []
        if event.recv_ns - self._last_ns < NS / self.hz:
            return []
        inst, bid = view.instrument(self.symbol), event.best_bid
        if inst is None or bid is None:
            return []
        price = inst.quantize_price(bid * Decimal("0.99"))
        qty = inst.quantize_qty(Decimal("12") / price)
        if qty < inst.ordermin:
            return []
        self._last_ns = event.recv_ns
        return [
            OrderIntent(
                symbol=self.symbol,
                side=Side.BUY,
                order_type=OrderType.LIMIT,
                qty=qty,
                limit_price=price,
                time_in_force=TimeInForce.IOC,
                tag="bench",
            )
        ]


@dataclass
class Stamps:
    """Times (ns) per order, by cl_ord_id."""

    tick: dict[str, int] = field(default_factory=dict)  # the book view's recv_ns
    written: dict[str, int] = field(default_factory=dict)  # AddOrder bytes to the socket
    waited: set[str] = field(default_factory=set)  # orders that waited for the rate model
    stages: dict[str, dict[str, int]] = field(default_factory=dict)

    def stage(self, name: str, cl_ord_id: str) -> None:
        self.stages.setdefault(name, {})[cl_ord_id] = time.time_ns()


_CL_ORD_ID = re.compile(rb"cl_ord_id=([0-9a-z]+)")
_WS_ADD = re.compile(r'^\{"method":"add_order".*"cl_ord_id":"([0-9a-z]+)"')
_SENDING: ContextVar[str] = ContextVar("sending", default="")  # the order its send task sends


def _stamp_socket_writes(stamps: Stamps) -> None:
    """Stamp each order as its bytes go to the socket (the loop's transport): a REST
    AddOrder by its request line, a WebSocket add_order by the text aiohttp is writing
    (the frame itself is masked)."""
    transport = selector_events._SelectorSocketTransport  # type: ignore[attr-defined]
    write, writelines = transport.write, transport.writelines
    write_now = ws_session.write_text_now  # type: ignore[attr-defined]
    send_str = aiohttp.ClientWebSocketResponse.send_str
    framing: list[str] = []  # the add_order whose frame aiohttp writes now

    def note(data: bytes) -> None:
        if framing:
            stamps.written.setdefault(framing.pop(), time.time_ns())
        elif data.startswith(b"POST /0/private/AddOrder"):
            found = _CL_ORD_ID.search(data)
            if found is not None:
                stamps.written.setdefault(found.group(1).decode(), time.time_ns())

    def timed(self: object, data: bytes | bytearray | memoryview) -> None:
        note(bytes(data))
        write(self, data)

    def timed_lines(self: object, lines: Sequence[bytes]) -> None:
        lines = list(lines)
        note(b"".join(lines))
        writelines(self, lines)

    async def framed(
        self: aiohttp.ClientWebSocketResponse, data: str, compress: int | None = None
    ) -> None:
        found = _WS_ADD.search(data)
        if found is not None:  # aiohttp writes the frame before its first await
            framing[:] = [found.group(1)]
        try:
            await send_str(self, data, compress)
        finally:
            framing.clear()

    def framed_now(ws: aiohttp.ClientWebSocketResponse, data: str) -> bool:
        found = _WS_ADD.search(data)
        if found is not None:  # the executor's own write (net/ws_write.py), synchronous
            framing[:] = [found.group(1)]
        try:
            return write_now(ws, data)
        finally:
            framing.clear()

    transport.write = timed
    transport.writelines = timed_lines
    aiohttp.ClientWebSocketResponse.send_str = framed  # type: ignore[method-assign, assignment]
    ws_session.write_text_now = framed_now  # type: ignore[attr-defined, assignment]


def _watch_rate_waits(stamps: Stamps) -> None:
    """Count each time an order had to wait for the client's rate model: a REST AddOrder
    (REST or trading counter), or a WebSocket add_order (its pair's trading counter: the
    synchronous charge found no room, so the order waited in `reserve_trade`)."""
    wait_s, reserve_now = RestCore._wait_s, RestCore.reserve_trade_now

    def counted(self: RestCore, method: str, *args: object, **kw: object) -> float:
        wait = wait_s(self, method, *args, **kw)  # type: ignore[arg-type]
        if method == "AddOrder" and wait > 0:
            stamps.waited.add(_SENDING.get())
        return wait

    def reserved_now(self: RestCore, endpoint: str, trade: TradeCharge) -> float:
        wait = reserve_now(self, endpoint, trade)
        if wait > 0 and endpoint == "ws:add_order" and _SENDING.get():
            # (outside a send task: the executor's `place_now`, which leaves such an
            # order to its send task; that one waits and is counted)
            stamps.waited.add(_SENDING.get())
        return wait

    RestCore._wait_s = counted  # type: ignore[method-assign]
    RestCore.reserve_trade_now = reserved_now  # type: ignore[method-assign]


def _watch_orders(stack: TradingStack, stamps: Stamps, breakdown: bool) -> None:
    """Which book view each order answers (its cl_ord_id is made by the core); with
    `breakdown`, also when the core decided, the row was committed and the send began."""
    engine = stack.engine
    handle, executor, repo = engine.core.handle, engine.executor, engine.repo
    insert, send, hand_over = repo.add_order, executor._send, executor._hand_over

    def handled(event: Event, now_ns: int = 0) -> list[Effect]:
        called = time.time_ns()
        effects = handle(event, now_ns)
        for effect in effects:
            if isinstance(effect, PersistOrder) and isinstance(event, BookTop):
                cl_ord_id = effect.command.cl_ord_id
                stamps.tick[cl_ord_id] = event.recv_ns
                if breakdown:
                    stamps.stages.setdefault("core called", {})[cl_ord_id] = called
                    stamps.stage("core decided", cl_ord_id)
        return effects

    async def persisted(command: PlaceOrder, **kw: Any) -> None:
        await insert(command, **kw)
        stamps.stage("row committed", command.cl_ord_id)

    def handing_over(command: PlaceOrder) -> None:
        stamps.stage("send begins", command.cl_ord_id)
        hand_over(command)

    async def sending(command: PlaceOrder, placing: Awaitable[None] | None) -> None:
        _SENDING.set(command.cl_ord_id)  # the send's own task: its rate waits name it
        await send(command, placing)

    engine.core.handle = handled  # type: ignore[method-assign, assignment]
    executor._send = sending  # type: ignore[method-assign]
    if breakdown:
        repo.add_order = persisted  # type: ignore[method-assign, assignment]
        executor._hand_over = handing_over  # type: ignore[method-assign]


@asynccontextmanager
async def sim_process() -> AsyncIterator[dict[str, str]]:
    """`python -m krakenbot sim` in its own process; yields its URLs and credentials."""
    sim = ("sim", "--tier", "pro", "--feed", "random", "--pairs", ",".join(PAIRS))
    cmd = (sys.executable, "-m", "krakenbot", *sim, "--balance", "USD=1000000")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        yield json.loads(line)
    finally:
        proc.terminate()
        await proc.wait()


@asynccontextmanager
async def stack_for(
    tmp: Path, urls: dict[str, str], strategies: Sequence[Pinger], transport: OrderTransport
) -> AsyncIterator[TradingStack]:
    clock = SystemClock()
    db = await open_ledger(tmp / "bench.db", clock)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp / "data",
        allowed_pairs=PAIRS,
        kraken_api_tier=ApiTier.PRO,
        post_only=False,
        log_console=False,
        order_transport=transport,
    )
    limits = RiskLimits(
        allowed_symbols=frozenset(PAIRS),
        max_trade_usd=Decimal("15"),
        min_order_usd=Decimal("1"),
        max_total_exposure_usd=Decimal("1000"),
        max_positions=10,
        max_daily_loss_usd=Decimal("20"),
        post_only=False,
        max_orders_per_window=1_000_000,
    )
    tuning = StackTuning(
        engine=replace(EngineConfig(), tick_interval_s=1.0),
        risk=limits,
        key_state_dir=tmp / "keys",
    )
    creds = Credentials(Secret(urls["api_key"]), Secret(urls["api_secret"]))
    endpoints = Endpoints(urls["rest_url"], urls["ws_url"], urls["ws_auth_url"])
    try:
        async with (
            open_stack(
                settings,
                live=True,
                endpoints=endpoints,
                credentials=creds,
                repo=LedgerRepository(db, clock),
                clock=clock,
                rng=random.Random(1),
                strategies=strategies,
                tuning=tuning,
            ) as stack,
            asyncio.TaskGroup() as tg,
        ):
            for name, service in stack.services():
                tg.create_task(_run(service), name=name)
            try:
                yield stack
            finally:
                stack.request_stop("bench over")
    finally:
        await db.close()


async def _run(service: Callable[[], object]) -> None:
    await service()  # type: ignore[misc]


async def bench(orders: int, hz: float, breakdown: bool, transport: OrderTransport) -> None:
    stamps = Stamps()
    _stamp_socket_writes(stamps)
    _watch_rate_waits(stamps)
    pingers = [Pinger(symbol, hz) for symbol in PAIRS]
    async with sim_process() as urls:
        with tempfile.TemporaryDirectory() as tmp:
            async with stack_for(Path(tmp), urls, pingers, transport) as stack:
                _watch_orders(stack, stamps, breakdown)
                books = stack.engine.core.books
                async with asyncio.timeout(30):
                    while not all(p in books and books[p].verified for p in PAIRS):  # noqa: ASYNC110 - bounded poll
                        await asyncio.sleep(0.01)
                    venue = stack.venue
                    assert isinstance(venue, KrakenVenue)
                    await venue.wait_connected()  # else the first orders go over REST
                for pinger in pingers:
                    pinger.armed = True
                try:
                    async with asyncio.timeout(orders / (hz * len(PAIRS)) * 3 + 60):
                        while len(stamps.written.keys() - stamps.waited) < orders:  # noqa: ASYNC110 - bounded poll
                            await asyncio.sleep(0.05)
                except TimeoutError:  # e.g. orders held back by the rate limiter: say so
                    print(f"timed out before {orders} orders; the figures are partial")
                for pinger in pingers:
                    pinger.armed = False
                await asyncio.sleep(0.5)  # the last sends finish
    report(stamps, breakdown, transport)


def report(stamps: Stamps, breakdown: bool, transport: OrderTransport) -> None:
    ids = [c for c in stamps.tick if c in stamps.written and c not in stamps.waited]
    micros = [(stamps.written[c] - stamps.tick[c]) / 1e3 for c in ids]
    sent = {
        OrderTransport.WEBSOCKET: "add_order frame on the private WebSocket",
        OrderTransport.REST: "signed REST AddOrder",
    }[transport]
    print(f"tick-to-order ({transport}): WS book frame in -> order bytes written to the socket")
    print(f"(sim in another process; strategy + risk gate + SQLite commit + {sent})")
    print(f"orders measured: {len(micros)} over {len(PAIRS)} pairs")
    print(
        f"orders that waited for the rate limiter: {len(stamps.waited)} (left out of the figures)"
    )
    _line("tick -> bytes written", micros)
    if breakdown:
        previous = stamps.tick
        for name in ("core called", "core decided", "row committed", "send begins"):
            times = stamps.stages.get(name, {})
            both = [c for c in ids if c in times and c in previous]
            _line(f"  .. {name}", [(times[c] - previous[c]) / 1e3 for c in both])
            previous = times
        last = [(stamps.written[c] - previous[c]) / 1e3 for c in ids if c in previous]
        _line("  .. bytes written", last)


def _line(label: str, micros: list[float]) -> None:
    if not micros:
        print(f"{label:<26} no samples")
        return
    ordered = sorted(micros)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(
        f"{label:<26} n={len(ordered):5d}  p50 {statistics.median(ordered):8.1f} µs"
        f"  p99 {p99:8.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="orders to measure (2000)")
    parser.add_argument(
        "--per-pair-hz", type=float, default=3.5, help="orders per second per pair (3.5)"
    )
    parser.add_argument(
        "--transport",
        choices=[t.value for t in OrderTransport],
        default=OrderTransport.WEBSOCKET.value,
        help="ORDER_TRANSPORT of the measured stack (websocket, the default)",
    )
    parser.add_argument("--breakdown", action="store_true", help="also print the stages")
    args = parser.parse_args()
    transport = OrderTransport(args.transport)
    asyncio.run(bench(args.orders, args.per_pair_hz, args.breakdown, transport))


if __name__ == "__main__":
    main()
