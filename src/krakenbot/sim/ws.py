"""The simulator's WebSocket v2 shell (aiohttp): public `/v2` and private (ws-auth) `/v2`.

Owns: connections (one writer task + queue each, so pushes from the synchronous core never
interleave and faults — latency, stalls, garbage frames — apply per frame), subscription
bookkeeping, heartbeats, and fan-out of market data and private events. Request handling
lives in ws_methods.py. aiohttp's WebSocket server is used rather than `websockets` so REST
and public WS share one server, one event loop and one set of fault hooks.
Imports: aiohttp, orjson, stdlib and sim.* only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import orjson
from aiohttp import WSMsgType, web

from krakenbot.sim import wire_ws, wire_ws_private
from krakenbot.sim.model import ExecEvent, LedgerEvent
from krakenbot.sim.state import SimState
from krakenbot.sim.ws_feed import BookGroup, MarketWatch
from krakenbot.sim.ws_methods import dispatch
from krakenbot.sim.wsframe import payload, text_frame

logger = logging.getLogger(__name__)
Json = wire_ws.Json
_HEARTBEAT = text_frame(b'{"channel":"heartbeat"}')
_OPEN_CLOSE = frozenset({"new", "filled", "canceled", "expired"})
_SLOW_CONSUMER_BYTES = 8 << 20  # a client this far behind is disconnected, as Kraken does


def frame_of(msg: Json) -> bytes:
    return text_frame(orjson.dumps(msg))


def _write(transport: asyncio.Transport, frames: list[bytes]) -> bool:
    """One socket write for `frames`; False when the client is too far behind (then it is
    disconnected, as Kraken does)."""
    transport.write(b"".join(frames))
    if transport.get_write_buffer_size() > _SLOW_CONSUMER_BYTES:
        logger.warning("sim ws: slow consumer disconnected")
        transport.abort()
        return False
    return True


@dataclass(eq=False)
class Conn:
    ws: web.WebSocketResponse
    kind: str  # "public" | "private"
    connection_id: int
    transport: asyncio.Transport | None = None
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    subs: dict[tuple[str, str], dict[str, object]] = field(default_factory=dict)
    exec_seq: int = 0
    bal_seq: int = 0
    authed_tokens: set[str] = field(default_factory=set)
    api_key: str = ""  # the key its token was issued to (SimConfig.reports_per_key)
    stalled: bool = False
    held: bytes | None = None  # an execution report held back by the out-of-order fault
    last_send: float = 0.0  # event-loop time of the last frame written

    def send(self, msg: Json) -> None:
        self.queue.put_nowait(frame_of(msg))

    def subscribed(self, channel: str, symbol: str = "") -> bool:
        return (channel, symbol) in self.subs


class Hub:
    def __init__(self, state: SimState, closing: asyncio.Event) -> None:
        self.state = state
        self.closing = closing
        self.conns: set[Conn] = set()
        self.groups: dict[tuple[str, int], tuple[BookGroup, set[Conn]]] = {}
        self.watch = {s: MarketWatch(m) for s, m in state.exchange.markets.items()}
        state.publish = self.publish
        state.on_status = self.push_status
        state.faults.ws_drop_hook = self.drop

    # -- lifecycle -----------------------------------------------------------------------
    async def handle(self, request: web.Request, kind: str) -> web.StreamResponse:
        if kind in self.state.faults.ws_refused:
            return web.Response(status=503, text="refused by fault injection")
        # No permessage-deflate: frames are pre-encoded once per broadcast.
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20, compress=False)
        await ws.prepare(request)
        conn = Conn(ws, kind, self.state.rng.getrandbits(64), request.transport)
        self.conns.add(conn)
        conn.send(wire_ws.status(self.state.exchange.system, conn.connection_id))
        writer = asyncio.create_task(self._writer(conn), name="sim-ws-writer")
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    break
                if conn.stalled:
                    continue
                try:
                    dispatch(self, conn, msg.data)
                except Exception:  # a bad request must never kill the connection task
                    logger.exception("sim ws request failed")
        finally:
            self._forget(conn)
            conn.queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    def _forget(self, conn: Conn) -> None:
        self.conns.discard(conn)
        for _, members in self.groups.values():
            members.discard(conn)

    async def _writer(self, conn: Conn) -> None:
        """Write queued frames in batches: one socket write for everything pending."""
        faults = self.state.faults
        queue = conn.queue
        loop = asyncio.get_running_loop()
        while True:
            batch = [queue.get_nowait() if queue.qsize() else await queue.get()]
            while queue.qsize():
                batch.append(queue.get_nowait())
            done = None in batch
            frames = [f for f in batch if f is not None]
            transport = conn.transport
            if transport is None or transport.is_closing() or conn.ws.closed:
                return
            if frames and not conn.stalled:
                conn.last_send = loop.time()
                if faults.latency_s:
                    await asyncio.sleep(faults.latency_s)
                    if transport.is_closing():
                        return
                if faults.has_ws_garbage(conn.kind):
                    frames = self._spoil(conn.kind, frames)
                if not _write(transport, frames):
                    return
            if done:
                return

    def flush_now(self, conn: Conn) -> None:
        """Write what is queued for `conn` at once, as the writer would: a trading method's
        ack leaves before the executions reports its request caused are rendered (the same
        frames in the same order; the writer task writes the rest). Left to the writer while
        a fault shapes this connection's frames (latency, garbage, a stall)."""
        queue = conn.queue
        transport = conn.transport
        if (
            not queue.qsize()
            or conn.stalled
            or transport is None
            or transport.is_closing()
            or conn.ws.closed
            or self.state.faults.latency_s
            or self.state.faults.has_ws_garbage(conn.kind)
        ):
            return
        frames: list[bytes] = []
        while queue.qsize():
            frame = queue.get_nowait()
            if frame is None:  # the connection's end: the writer's, after these frames
                queue.put_nowait(None)
                break
            frames.append(frame)
        conn.last_send = asyncio.get_running_loop().time()
        _write(transport, frames)

    def _spoil(self, kind: str, frames: list[bytes]) -> list[bytes]:
        """Put a garbage frame before each frame while malformed/truncated faults are armed."""
        out: list[bytes] = []
        for frame in frames:
            spoil = self.state.faults.take_ws_garbage(kind)
            if spoil is not None:
                text = payload(frame)
                bad = b"}{not json" if spoil == "malformed" else text[: max(1, len(text) // 2)]
                out.append(text_frame(bad))
            out.append(frame)
        return out

    async def heartbeats(self) -> None:
        """`{"channel":"heartbeat"}` to subscribed connections that were quiet for a period."""
        period = self.state.cfg.heartbeat_s
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(period / 4)
            now = loop.time()
            for conn in self.conns:
                if conn.subs and not conn.stalled and now - conn.last_send >= period:
                    conn.last_send = now
                    conn.queue.put_nowait(_HEARTBEAT)

    def abort(self, conn: Conn) -> None:
        """Kill one connection at once: frames still queued for it never leave."""
        self._forget(conn)
        conn.stalled = True
        if conn.transport is not None:
            conn.transport.abort()

    def drop(self, mode: str, channel: str) -> None:
        """Apply a `ws_drop` fault to every current connection on `channel`."""
        for conn in [c for c in self.conns if c.kind == channel]:
            if mode == "stall":
                conn.stalled = True
            elif mode == "close":
                self._forget(conn)
                asyncio.get_running_loop().create_task(conn.ws.close(code=1001))
            else:
                self._forget(conn)
                if conn.transport is not None:
                    conn.transport.abort()

    # -- fan-out -------------------------------------------------------------------------
    def push_status(self) -> None:
        system = self.state.exchange.system
        for conn in self.conns:
            conn.send(wire_ws.status(system, conn.connection_id))

    def group(self, symbol: str, depth: int) -> tuple[BookGroup, set[Conn]]:
        key = (symbol, depth)
        entry = self.groups.get(key)
        if entry is None:
            entry = self.groups[key] = (
                BookGroup(self.state.exchange.markets[symbol], depth),
                set(),
            )
        return entry

    def publish(self) -> None:
        """Push everything that changed since the last call (runs synchronously)."""
        state = self.state
        events = state.exchange.drain()
        if events:
            self._publish_private(events)
        now = state.now_ns()
        for symbol, market in state.exchange.markets.items():
            if not market.dirty:
                continue
            market.dirty = False
            self._publish_market(symbol, now)

    def _publish_market(self, symbol: str, now: int) -> None:
        faults = self.state.faults
        for (sym, _depth), (group, members) in self.groups.items():
            if sym != symbol or not members:
                continue
            msg = group.update(now, corrupt=faults.take_bad_checksum())
            if msg is not None:
                frame = frame_of(msg)
                for conn in members:
                    conn.queue.put_nowait(frame)
        watch = self.watch[symbol]
        trades = watch.new_trades()
        bbo = watch.bbo_changed()
        market = self.state.exchange.markets[symbol]
        listeners = [c for c in self.conns if c.subs]
        if not listeners:
            return
        ticker_frame = None
        trade_frame = None
        ohlc_frames: dict[int, bytes] = {}
        for conn in listeners:
            sub = conn.subs.get(("ticker", symbol))
            if sub is not None and (trades or (bbo and sub.get("event_trigger") == "bbo")):
                if ticker_frame is None:
                    ticker_frame = frame_of(wire_ws.ticker(market, "update", now))
                conn.queue.put_nowait(ticker_frame)
            if trades and ("trade", symbol) in conn.subs:
                if trade_frame is None:
                    trade_frame = frame_of({"channel": "trade", "type": "update", "data": trades})
                conn.queue.put_nowait(trade_frame)
            sub = conn.subs.get(("ohlc", symbol))
            if sub is not None and trades:
                interval = int(sub["interval"])  # type: ignore[call-overload]
                if interval not in ohlc_frames:
                    candle = market.candles_for(interval, now)[-1]
                    ohlc_frames[interval] = frame_of(
                        {
                            "channel": "ohlc",
                            "type": "update",
                            "timestamp": wire_ws.ts9(now),
                            "data": [wire_ws.ohlc_row(market.spec, candle, interval)],
                        }
                    )
                conn.queue.put_nowait(ohlc_frames[interval])

    def _publish_private(self, events: list[ExecEvent | LedgerEvent]) -> None:
        exec_events = [e for e in events if isinstance(e, ExecEvent)]
        reports = [wire_ws_private.exec_report(e) for e in exec_events]
        ledgers = [wire_ws_private.ledger_row(e) for e in events if isinstance(e, LedgerEvent)]
        counted: list[Json] | None = None
        per_key = self.state.cfg.reports_per_key
        for conn in self.conns:
            if conn.kind != "private":
                continue
            sub = conn.subs.get(("executions", ""))
            if reports and sub is not None:
                every = sub.get("order_status", True)
                sent = reports
                if sub.get("ratecounter", False):
                    if counted is None:
                        counted = self._with_ratecount(exec_events, reports)
                    sent = counted
                for event, report in zip(exec_events, sent, strict=True):
                    if per_key and event.order.owner and event.order.owner != conn.api_key:
                        continue  # another key's order (SimConfig.reports_per_key)
                    # order_status=false: only new / filled / canceled / expired (docs).
                    if every or report.get("exec_type") in _OPEN_CLOSE:
                        self._send_exec(conn, report)
            if ledgers and conn.subscribed("balances"):
                conn.bal_seq += 1
                conn.send(wire_ws_private.balances_update(ledgers, conn.bal_seq))

    def _with_ratecount(self, events: list[ExecEvent], reports: list[Json]) -> list[Json]:
        """Copies of the reports carrying the account's trading counter for the report's pair.

        docs websocket-v2/executions: with `ratecounter: true` "the rate-limit counter is
        included in the stream"; the counter is per (client, pair) (guides/spot-ratelimits)
        and on the scale of the ack's `maxratecount` (the tier threshold). The sim prints it
        as a plain JSON number under `ratecount` on each update report; the report keeps its
        own fields, so `new` / `canceled` reports still name no `symbol`."""
        trading = self.state.exchange.trading
        now = self.state.now_ns()
        out: list[Json] = []
        for event, report in zip(events, reports, strict=True):
            value = trading.value(event.order.pair.symbol, now)
            out.append({**report, "ratecount": wire_ws.num(value, 2)})
        return out

    def _send_exec(self, conn: Conn, report: Json) -> None:
        faults = self.state.faults
        if faults.exec_gap_pending:
            faults.exec_gap_pending = False
            conn.exec_seq += 1  # a sequence number is skipped
        conn.exec_seq += 1
        frame = frame_of(wire_ws_private.executions("update", [report], conn.exec_seq))
        if conn.held is not None:
            conn.queue.put_nowait(frame)
            conn.queue.put_nowait(conn.held)
            conn.held = None
            return
        if faults.exec_out_of_order_count > 0:
            faults.exec_out_of_order_count -= 1
            conn.held = frame  # sent after the next report
            return
        conn.queue.put_nowait(frame)
        if faults.exec_duplicate_count > 0:
            faults.exec_duplicate_count -= 1
            conn.queue.put_nowait(frame)


def attach_ws(
    app: web.Application, state: SimState, closing: asyncio.Event
) -> tuple[web.Application, Hub]:
    """Add public `/v2` to `app`; return the private (ws-auth) app for its own port + the hub."""
    hub = Hub(state, closing)

    async def public(request: web.Request) -> web.StreamResponse:
        return await hub.handle(request, "public")

    async def private(request: web.Request) -> web.StreamResponse:
        return await hub.handle(request, "private")

    app.router.add_get("/v2", public)
    private_app = web.Application()
    private_app.router.add_get("/v2", private)
    return private_app, hub
