"""Kraken WebSocket v2 session: public market data and private executions/balances.

Owns: the connections (aiohttp), subscriptions, liveness (watchdog + ping), reconnect forever
with capped exponential backoff and jitter, resubscription, book verification and resync,
execution de-duplication and gap recovery, and delivery of typed events to one
`InboundQueue`. Imports: aiohttp, stdlib, domain, kraken and net only. Decisions live in the
pure helpers (`ws_tracking`, `ws_backoff`, `kraken.ws_codec`); this module does the I/O.

Engine contract: consume `inbound.get()`; every item is a `krakenbot.domain.events` event.
Books are trustworthy only between `BookStatus(verified=True)` and the next
`BookStatus(verified=False)`; `BookTop.verified` says the same per view. A
`ReconcileRequested` means "our picture of orders/fills may be stale: check via REST".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from krakenbot.clock import Clock
from krakenbot.domain.enums import Channel, ConnectionState
from krakenbot.domain.events import (
    BookStatus,
    BookTop,
    Candle,
    ConnectionChanged,
    DecodeFailed,
    Event,
    MarketTrade,
    RateCounter,
    ReconcileRequested,
    SubscriptionFailed,
    Ticker,
)
from krakenbot.kraken.ws_codec import (
    decode,
    encode_ping,
    encode_subscribe,
    encode_unsubscribe,
    peek_ticker_symbol,
)
from krakenbot.kraken.ws_messages import (
    BookMessage,
    MethodResponse,
    SequencedBatch,
    StatusMessage,
    SubscriptionAck,
    WsMessage,
)
from krakenbot.net.ws_backoff import Backoff
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_tracking import BookKeeper, BookOutcome, BookState, SequenceTracker
from krakenbot.net.ws_trading import TradingRequests

logger = logging.getLogger(__name__)

TokenProvider = Callable[[], Awaitable[str]]

# WebSocket close codes (RFC 6455) with Kraken-specific handling (API.md 7.1): 1008 is a
# policy violation (rate limit / Cloudflare block) - retrying fast makes it worse, so wait the
# long delay; 1013 "try again later" likewise. Everything else: normal backoff.
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TRY_AGAIN_LATER = 1013
_SLOW_CLOSE_CODES = frozenset({CLOSE_POLICY_VIOLATION, CLOSE_TRY_AGAIN_LATER})
# Kraken errors on a private subscribe that mean the token is bad: reconnect with a new one.
_YIELD_EVERY_MASK = 63  # yield to other tasks every 64 frames
_TOKEN_ERRORS = ("EAPI:Invalid token", "ESession:Invalid session", "EAPI:Invalid key")


@dataclass(frozen=True, slots=True)
class WsSessionConfig:
    public_url: str = "wss://ws.kraken.com/v2"
    private_url: str | None = "wss://ws-auth.kraken.com/v2"
    symbols: tuple[str, ...] = ("XLM/USD",)
    ticker: bool = True
    book: bool = True
    trade: bool = True
    book_depth: int = 10  # 10, 25, 100, 500, 1000 (docs: websocket-v2/book)
    # (symbol, price_decimals, qty_decimals): re-pad number text (only for lossy feeds).
    book_decimals: tuple[tuple[str, int, int], ...] = ()
    executions: bool = True
    balances: bool = True
    snap_trades: bool = True  # last 50 fills in every executions snapshot: closes gaps
    ratecounter: bool = True
    # Kraken sends a heartbeat ~1/s once subscribed (docs: websocket-v2/heartbeat).
    heartbeat_interval_s: float = 1.0
    stale_after_heartbeats: float = 5.0
    ping_interval_s: float = 10.0
    connect_timeout_s: float = 10.0
    backoff: Backoff = field(default_factory=Backoff)
    backoff_reset_after_s: float = 30.0  # a connection that lived this long resets backoff
    slow_close_delay_s: float = 60.0  # after close code 1008/1013
    token_timeout_s: float = 15.0

    @property
    def stale_after_s(self) -> float:
        return self.heartbeat_interval_s * self.stale_after_heartbeats

    @property
    def wants_public(self) -> bool:
        return bool(self.symbols) and (self.ticker or self.book or self.trade)


@dataclass(slots=True)
class SessionStats:
    frames: int = 0
    connects: int = 0
    disconnects: int = 0
    book_failures: int = 0
    gaps: int = 0
    decode_failures: int = 0


class _LazyTicker:
    """A ticker frame held in the conflation slot; decoded when the engine takes it."""

    __slots__ = ("frame", "recv_ns")

    def __init__(self, frame: str | bytes, recv_ns: int) -> None:
        self.frame = frame
        self.recv_ns = recv_ns

    def __call__(self) -> Event:
        items = decode(self.frame, self.recv_ns)
        if len(items) == 1 and type(items[0]) is Ticker:
            return items[0]
        failed = [i for i in items if type(i) is DecodeFailed]
        if failed:
            return failed[0]
        return DecodeFailed("ticker", "unexpected ticker frame shape", str(self.frame)[:200])


@dataclass(slots=True)
class _Conn:
    channel: Channel
    url: str
    ws: aiohttp.ClientWebSocketResponse | None = None
    ever_connected: bool = False
    last_frame_ns: int = 0
    close_reason: str = ""
    slow_retry: bool = False
    token: str | None = None
    outbox: list[str] = field(default_factory=list)
    drop_reason: str | None = None  # set by a handler: end this connection after the frame
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class WsSession:
    """Run with `await session.run()` (until `stop()`); read events from `inbound`."""

    def __init__(
        self,
        config: WsSessionConfig,
        inbound: InboundQueue,
        *,
        clock: Clock,
        rng: random.Random,
        token_provider: TokenProvider | None = None,
    ) -> None:
        self.config = config
        self.inbound = inbound
        self._clock = clock
        self._rng = rng
        self._token_provider = token_provider
        self.stats = SessionStats()
        self.books = BookKeeper(config.book_depth, {s: (p, q) for s, p, q in config.book_decimals})
        self.executions = SequenceTracker("executions")
        self.balances = SequenceTracker("balances")
        self._public = _Conn(Channel.PUBLIC, config.public_url)
        self._private = _Conn(Channel.PRIVATE, config.private_url or "")
        self._stopping = asyncio.Event()
        self._req_id = 0
        self.trading = TradingRequests(
            self._send_private, self._next_req_id, clock, token=self._private_token
        )
        self._handlers: dict[type, Callable[[_Conn, WsMessage], None]] = {
            BookMessage: self._on_book,  # type: ignore[dict-item]
            SequencedBatch: self._on_private_batch,  # type: ignore[dict-item]
            SubscriptionAck: self._on_subscription_ack,  # type: ignore[dict-item]
            MethodResponse: self._on_method_response,  # type: ignore[dict-item]
            StatusMessage: self._on_status,  # type: ignore[dict-item]
            DecodeFailed: self._on_decode_failed,  # type: ignore[dict-item]
            Ticker: self._on_ticker,  # type: ignore[dict-item]
            MarketTrade: self._on_trade,  # type: ignore[dict-item]
            Candle: self._on_candle,  # type: ignore[dict-item]
        }

    @property
    def wants_private(self) -> bool:
        cfg = self.config
        return (
            bool(cfg.private_url)
            and self._token_provider is not None
            and (cfg.executions or cfg.balances)
        )

    # ---- lifecycle ------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until `stop()`. Network failures never escape: they cause reconnects."""
        self._stopping.clear()
        timeout = aiohttp.ClientTimeout(total=None, connect=self.config.connect_timeout_s)
        async with aiohttp.ClientSession(timeout=timeout) as http, asyncio.TaskGroup() as tg:
            tasks = []
            if self.config.wants_public:
                tasks.append(tg.create_task(self._connection_loop(self._public, http)))
            if self.wants_private:
                tasks.append(tg.create_task(self._connection_loop(self._private, http)))
            await self._stopping.wait()
            for task in tasks:
                task.cancel()
        for conn in (self._public, self._private):
            if conn.ever_connected:
                self._emit_conn(conn, ConnectionState.CLOSED, "stopped")

    def stop(self) -> None:
        self._stopping.set()

    def events(self) -> AsyncIterator[Event]:
        """The inbound stream (the engine's `MarketFeed.events()` / `Venue.events()`)."""
        return self.inbound.events()

    async def wait_connected(self, channel: Channel) -> None:
        conn = self._public if channel is Channel.PUBLIC else self._private
        await conn.ready.wait()

    def _private_token(self) -> str | None:
        return self._private.token if self._private.ready.is_set() else None

    def _next_req_id(self) -> int:
        self._req_id += 1
        return self._req_id

    # ---- connection loop ------------------------------------------------------------------

    async def _connection_loop(self, conn: _Conn, http: aiohttp.ClientSession) -> None:
        attempt = 0
        cfg = self.config
        self._emit_conn(conn, ConnectionState.CONNECTING, "")
        while True:
            started = self._clock.monotonic_ns()
            conn.slow_retry = False
            try:
                reason = await self._connect_once(conn, http)
            except asyncio.CancelledError:
                await self._close_ws(conn)
                raise
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # token provider or anything else: keep the loop alive
                logger.exception("ws connection failed", extra={"channel": conn.channel.value})
                reason = f"{type(exc).__name__}: {exc}"
            await self._close_ws(conn)
            self._on_disconnected(conn, reason)
            lived_s = (self._clock.monotonic_ns() - started) / 1e9
            if lived_s >= cfg.backoff_reset_after_s:
                attempt = 0
            if conn.slow_retry:
                delay = cfg.slow_close_delay_s
            else:
                delay = cfg.backoff.delay(attempt, self._rng)
            attempt += 1
            self._emit_conn(conn, ConnectionState.RECONNECTING, f"{reason}; retry in {delay:.2f} s")
            await self._clock.sleep(delay)

    async def _connect_once(self, conn: _Conn, http: aiohttp.ClientSession) -> str:
        cfg = self.config
        if conn.channel is Channel.PRIVATE:
            assert self._token_provider is not None
            # A fresh token per connection (docs: GetWebSocketsToken; tokens are single-use
            # for establishing a connection within 15 minutes).
            async with asyncio.timeout(cfg.token_timeout_s):
                conn.token = await self._token_provider()
        async with asyncio.timeout(cfg.connect_timeout_s):
            ws = await http.ws_connect(
                conn.url,
                autoping=True,
                heartbeat=None,
                max_msg_size=16 * 1024 * 1024,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=1.0),
            )
        conn.ws = ws
        conn.last_frame_ns = self._clock.monotonic_ns()
        reconnect = conn.ever_connected
        conn.ever_connected = True
        self.stats.connects += 1
        self._emit_conn(conn, ConnectionState.CONNECTED, "")
        if conn.channel is Channel.PRIVATE:
            self.executions.reset()
            self.balances.reset()
            if reconnect:
                # Fills may have happened while we were away; the fresh snapshot (snap_trades)
                # plus a REST reconciliation closes the hole.
                self._put(ReconcileRequested("private websocket reconnected", self._now()))
        await self._subscribe_all(conn, ws)
        conn.ready.set()
        reader = asyncio.create_task(self._read(conn, ws))
        watchdog = asyncio.create_task(self._watchdog(conn))
        pinger = asyncio.create_task(self._pinger(ws))
        try:
            done, _ = await asyncio.wait({reader, watchdog}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, watchdog, pinger):
                task.cancel()
            await asyncio.gather(reader, watchdog, pinger, return_exceptions=True)
        if watchdog in done and not watchdog.cancelled() and watchdog.exception() is None:
            return watchdog.result()
        return reader.result() if reader in done and not reader.cancelled() else "closed"

    async def _close_ws(self, conn: _Conn) -> None:
        ws, conn.ws = conn.ws, None
        conn.ready.clear()
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await ws.close()

    def _on_disconnected(self, conn: _Conn, reason: str) -> None:
        self.stats.disconnects += 1
        conn.close_reason = reason
        now = self._now()
        if conn.channel is Channel.PUBLIC:
            for symbol in self.books.invalidate_all():
                self._put(BookStatus(symbol, False, f"disconnected: {reason}", now))
        else:
            for event in self.trading.on_disconnect():
                self._put(event)

    async def _read(self, conn: _Conn, ws: aiohttp.ClientWebSocketResponse) -> str:
        receive = ws.receive
        mono = self._clock.monotonic_ns
        now = self._clock.now_ns
        stats = self.stats
        while True:
            msg = await receive()
            kind = msg.type
            if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                conn.last_frame_ns = mono()
                stats.frames += 1
                self.on_frame(conn, msg.data, now())
                if not stats.frames & _YIELD_EVERY_MASK:
                    # receive() does not suspend while frames are buffered: under a flood the
                    # reader would starve the engine. Yield now and then.
                    await asyncio.sleep(0)
                if conn.outbox:
                    outbox, conn.outbox = conn.outbox, []
                    for text in outbox:
                        await ws.send_str(text)
                if conn.drop_reason is not None:
                    reason, conn.drop_reason = conn.drop_reason, None
                    return reason
                continue
            code = ws.close_code
            if code in _SLOW_CLOSE_CODES:
                conn.slow_retry = True
            if kind is aiohttp.WSMsgType.ERROR:
                return f"error: {ws.exception()!r}"
            return f"closed by server (code {code})"

    async def _watchdog(self, conn: _Conn) -> str:
        cfg = self.config
        limit_ns = int(cfg.stale_after_s * 1e9)
        step = max(cfg.heartbeat_interval_s / 2, 0.01)
        while True:
            await self._clock.sleep(step)
            silent = self._clock.monotonic_ns() - conn.last_frame_ns
            if silent > limit_ns:
                reason = f"stale: no frame for {silent / 1e9:.1f} s"
                self._emit_conn(conn, ConnectionState.STALE, reason)
                return reason

    async def _pinger(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            await self._clock.sleep(self.config.ping_interval_s)
            await ws.send_str(encode_ping(self._next_req_id()))

    # ---- subscriptions --------------------------------------------------------------------

    def _public_subscriptions(self, symbols: list[str]) -> list[str]:
        cfg = self.config
        out = []
        if cfg.ticker:
            out.append(encode_subscribe("ticker", symbols=symbols, req_id=self._next_req_id()))
        if cfg.book:
            out.append(
                encode_subscribe(
                    "book", symbols=symbols, depth=cfg.book_depth, req_id=self._next_req_id()
                )
            )
        if cfg.trade:
            out.append(encode_subscribe("trade", symbols=symbols, req_id=self._next_req_id()))
        return out

    def _executions_subscription(self, token: str) -> str:
        cfg = self.config
        return encode_subscribe(
            "executions",
            token=token,
            req_id=self._next_req_id(),
            snap_orders=True,
            snap_trades=cfg.snap_trades,
            ratecounter=cfg.ratecounter,
        )

    async def _subscribe_all(self, conn: _Conn, ws: aiohttp.ClientWebSocketResponse) -> None:
        if conn.channel is Channel.PUBLIC:
            texts = self._public_subscriptions(list(self.config.symbols))
        else:
            assert conn.token is not None
            texts = []
            if self.config.executions:
                texts.append(self._executions_subscription(conn.token))
            if self.config.balances:
                texts.append(
                    encode_subscribe("balances", token=conn.token, req_id=self._next_req_id())
                )
        for text in texts:
            await ws.send_str(text)

    def _book_resubscribe(self, symbol: str) -> list[str]:
        depth = self.config.book_depth
        return [
            encode_unsubscribe("book", symbols=[symbol], depth=depth, req_id=self._next_req_id()),
            encode_subscribe("book", symbols=[symbol], depth=depth, req_id=self._next_req_id()),
        ]

    def _private_resubscribe(self, channel: str) -> list[str]:
        token = self._private.token
        if token is None:
            return []
        sub = (
            self._executions_subscription(token)
            if channel == "executions"
            else encode_subscribe("balances", token=token, req_id=self._next_req_id())
        )
        unsub = encode_unsubscribe(channel, token=token, req_id=self._next_req_id())
        return [unsub, sub]

    async def resync_book(self, symbol: str) -> None:
        """Engine-requested: drop the local book and fetch a fresh verified snapshot."""
        st = self.books.state(symbol)
        was_valid = st.valid
        st.valid = False
        st.book.clear()
        if was_valid:
            self._put(BookStatus(symbol, False, "resync requested", self._now()))
        await self._send(self._public, self._book_resubscribe(symbol))

    async def request_executions_snapshot(self, reason: str) -> None:
        """Engine-requested: a fresh executions snapshot (open orders + last fills)."""
        self.executions.expect_snapshot()
        self._put(ReconcileRequested(reason, self._now()))
        await self._send(self._private, self._private_resubscribe("executions"))

    async def _send(self, conn: _Conn, texts: list[str]) -> None:
        ws = conn.ws
        if ws is None or ws.closed:
            return  # the next connection subscribes afresh anyway
        for text in texts:
            await ws.send_str(text)

    async def _send_private(self, text: str) -> bool:
        ws = self._private.ws
        if ws is None or ws.closed or not self._private.ready.is_set():
            return False
        await ws.send_str(text)
        return True

    # ---- inbound handling (synchronous: never awaits the consumer) -------------------------

    def _now(self) -> int:
        return self._clock.now_ns()

    def _put(self, event: Event) -> None:
        self.inbound.put(event)

    def _emit_conn(self, conn: _Conn, state: ConnectionState, reason: str) -> None:
        logger.info(
            "ws connection state",
            extra={"channel": conn.channel.value, "state": state.value, "reason": reason},
        )
        self._put(ConnectionChanged(conn.channel, state, reason, self._now()))

    def on_frame(self, conn: _Conn, frame: str | bytes, recv_ns: int) -> None:
        """Everything the reader does with one frame (synchronous; never waits)."""
        symbol = peek_ticker_symbol(frame)
        if symbol is not None:
            # Conflate first, parse later: only the ticker the engine actually takes is
            # decoded, so a ticker flood costs the reader next to nothing.
            self.inbound.put_latest(("ticker", symbol), _LazyTicker(frame, recv_ns))
            return
        for item in decode(frame, recv_ns):
            self._handle(conn, item)

    def _handle(self, conn: _Conn, msg: WsMessage) -> None:
        handler = self._handlers.get(type(msg))
        if handler is not None:
            handler(conn, msg)
        # Heartbeat, Pong, InstrumentMessage: liveness only (last_frame_ns already moved).

    def _on_ticker(self, conn: _Conn, msg: Ticker) -> None:
        self.inbound.put_latest(("ticker", msg.symbol), msg)

    def _on_trade(self, conn: _Conn, msg: MarketTrade) -> None:
        self.inbound.put(msg)

    def _on_candle(self, conn: _Conn, msg: Candle) -> None:
        self.inbound.put_latest(("ohlc", msg.symbol, msg.interval_min, msg.begin_ns), msg)

    def _book_thunk(self, st: BookState) -> Callable[[], BookTop]:
        depth = self.config.book_depth
        recv = self._now()

        def view() -> BookTop:
            return st.book.top(depth, verified=st.valid, recv_ns=recv)

        return view

    def _on_book(self, conn: _Conn, msg: BookMessage) -> None:
        outcome, st = self.books.on_message(msg)
        if outcome is BookOutcome.APPLIED:
            self.inbound.put_latest(("book", msg.symbol), self._book_thunk(st))
        elif outcome is BookOutcome.VERIFIED:
            self._put(BookStatus(msg.symbol, True, st.last_reason, msg.recv_ns))
            self.inbound.put_latest(("book", msg.symbol), self._book_thunk(st))
        elif outcome is BookOutcome.INVALID:
            self.stats.book_failures += 1
            logger.warning(
                "book invalid; resubscribing",
                extra={"symbol": msg.symbol, "reason": st.last_reason},
            )
            self._put(BookStatus(msg.symbol, False, st.last_reason, msg.recv_ns))
            conn.outbox.extend(self._book_resubscribe(msg.symbol))

    def _on_private_batch(self, conn: _Conn, batch: SequencedBatch) -> None:
        tracker = self.executions if batch.channel == "executions" else self.balances
        result = tracker.on_batch(batch)
        inbound = self.inbound
        for item in result.items:
            if type(item) is RateCounter:
                inbound.put_latest(("ratecounter", item.symbol), item)
            elif type(item) is DecodeFailed:
                self.stats.decode_failures += 1
                inbound.put(item)
                inbound.put(ReconcileRequested(f"undecodable {batch.channel} row", batch.recv_ns))
            else:
                inbound.put(item)
        if result.resync_reason is not None:
            self.stats.gaps += 1
            logger.warning("private sequence gap", extra={"reason": result.resync_reason})
            inbound.put(ReconcileRequested(result.resync_reason, batch.recv_ns))
            conn.outbox.extend(self._private_resubscribe(batch.channel))

    def _on_subscription_ack(self, conn: _Conn, ack: SubscriptionAck) -> None:
        if ack.success:
            return
        error = ack.error or "unknown error"
        if ack.method == "unsubscribe":
            return  # e.g. "Subscription Not Found" while resyncing: harmless
        logger.warning(
            "subscription refused",
            extra={"channel": ack.channel, "symbol": ack.symbol, "error": error},
        )
        self._put(SubscriptionFailed(ack.channel or "?", ack.symbol, error, ack.recv_ns))
        if conn.channel is Channel.PRIVATE and error.startswith(_TOKEN_ERRORS):
            # Bad/expired token: drop this connection; the next one fetches a fresh token.
            conn.drop_reason = f"token refused: {error}"

    def _on_method_response(self, conn: _Conn, resp: MethodResponse) -> None:
        for event in self.trading.on_response(resp):
            self._put(event)

    def _on_status(self, conn: _Conn, msg: StatusMessage) -> None:
        self._put(msg.event)

    def _on_decode_failed(self, conn: _Conn, msg: DecodeFailed) -> None:
        self.stats.decode_failures += 1
        self._put(msg)
        if conn.channel is Channel.PRIVATE:
            self._put(ReconcileRequested("undecodable private frame", msg.recv_ns))
