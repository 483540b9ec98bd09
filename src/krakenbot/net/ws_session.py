"""Kraken WebSocket v2 session: public market data and private executions/balances.

Owns: the connections (aiohttp), subscriptions, liveness (watchdog + ping), reconnect forever
with capped exponential backoff and jitter, resubscription, book verification and resync,
execution de-duplication and gap recovery, and delivery of typed events to one
`InboundQueue`. Imports: aiohttp, stdlib, domain, kraken and net only. Decisions live in the
pure helpers (`ws_router` for per-frame handling, `ws_tracking`, `ws_backoff`,
`kraken.ws_codec`); this module does the I/O.

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

import aiohttp

from krakenbot.clock import Clock
from krakenbot.domain.enums import Channel, ConnectionState
from krakenbot.domain.events import BookStatus, ConnectionChanged, Event, ReconcileRequested
from krakenbot.kraken.ws_codec import encode_ping
from krakenbot.net.ws_config import Conn, SessionStats, WsSessionConfig
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_router import FrameRouter
from krakenbot.net.ws_trading import TradingRequests, WsConnectionLostError
from krakenbot.net.ws_write import writable_now, write_text_now

__all__ = ["Conn", "SessionStats", "TokenProvider", "WsSession", "WsSessionConfig"]

logger = logging.getLogger(__name__)

TokenProvider = Callable[[], Awaitable[str]]

# WebSocket close codes (RFC 6455) with Kraken-specific handling (API.md 7.1): 1008 is a
# policy violation (rate limit / Cloudflare block) - retrying fast makes it worse, so wait the
# long delay; 1013 "try again later" likewise. Everything else: normal backoff.
CLOSE_POLICY_VIOLATION = 1008
CLOSE_TRY_AGAIN_LATER = 1013
_SLOW_CLOSE_CODES = frozenset({CLOSE_POLICY_VIOLATION, CLOSE_TRY_AGAIN_LATER})
_YIELD_EVERY_MASK = 63  # yield to other tasks every 64 frames


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
        self._public = Conn(Channel.PUBLIC, config.public_url)
        self._private = Conn(Channel.PRIVATE, config.private_url or "")
        self._stopping = asyncio.Event()
        self._req_id = 0
        self.trading = TradingRequests(
            self._send_private,
            self._next_req_id,
            clock,
            token=self._private_token,
            write_now=self._write_private_now,
        )
        self._router = FrameRouter(
            config,
            inbound,
            clock=clock,
            stats=self.stats,
            trading=self.trading,
            next_req_id=self._next_req_id,
        )
        self.books = self._router.books
        self.executions = self._router.executions
        self.balances = self._router.balances
        # The reader's per-frame entry point (synchronous, never waits on the consumer).
        self.on_frame = self._router.on_frame

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
        """Serve until `stop()` (which may come before run starts). Network failures never
        escape: they cause reconnects."""
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
        self._stopping.clear()  # a later run() starts afresh

    def stop(self) -> None:
        self._stopping.set()

    def events(self) -> AsyncIterator[Event]:
        """The inbound stream (the engine's `MarketFeed.events()` / `Venue.events()`)."""
        return self.inbound.events()

    async def wait_connected(self, channel: Channel) -> None:
        conn = self._public if channel is Channel.PUBLIC else self._private
        await conn.ready.wait()

    def _private_token(self) -> str | None:
        # Stopping: the socket is about to be closed by us, so a request written to it now
        # could only end unanswered (ambiguous); from stop() on, trading requests go over REST.
        if self._stopping.is_set() or not self._private.ready.is_set():
            return None
        return self._private.token

    def _next_req_id(self) -> int:
        self._req_id += 1
        return self._req_id

    # ---- connection loop ------------------------------------------------------------------

    async def _connection_loop(self, conn: Conn, http: aiohttp.ClientSession) -> None:
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
                if conn.channel is Channel.PRIVATE:
                    self.trading.on_disconnect()  # no waiter may wait for a stopped session
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

    async def _connect_once(self, conn: Conn, http: aiohttp.ClientSession) -> str:
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

    async def _close_ws(self, conn: Conn) -> None:
        ws, conn.ws = conn.ws, None
        conn.ready.clear()
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await ws.close()

    def _on_disconnected(self, conn: Conn, reason: str) -> None:
        self.stats.disconnects += 1
        conn.close_reason = reason
        now = self._now()
        if conn.channel is Channel.PUBLIC:
            for symbol in self.books.invalidate_all():
                self._put(BookStatus(symbol, False, f"disconnected: {reason}", now))
        else:
            for event in self.trading.on_disconnect():
                self._put(event)

    async def _read(self, conn: Conn, ws: aiohttp.ClientWebSocketResponse) -> str:
        receive = ws.receive
        mono = self._clock.monotonic_ns
        now = self._clock.now_ns
        stats = self.stats
        trading = self.trading
        inbound = self.inbound
        router = self._router
        while True:
            msg = await receive()
            kind = msg.type
            if kind is aiohttp.WSMsgType.TEXT or kind is aiohttp.WSMsgType.BINARY:
                conn.last_frame_ns = mono()
                stats.frames += 1
                self.on_frame(conn, msg.data, now())
                if trading.woke or inbound.woke:
                    # An order's ack woke its caller (issue 15: ack -> caller first), or this
                    # frame's event woke the idle engine (issue 14: a book view is decided on
                    # before the frames behind it are decoded): let it run first. Stream order
                    # and conflation are unchanged; the reader only yields sooner.
                    trading.woke = inbound.woke = False
                    try:
                        await asyncio.sleep(0)
                    finally:
                        if router.after_wake:  # the woken caller ran: now the engine's events
                            router.put_after_wake()
                    if inbound.woke:  # they woke the idle engine: it runs before the next frame
                        inbound.woke = False
                        await asyncio.sleep(0)
                elif not stats.frames & _YIELD_EVERY_MASK:
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

    async def _watchdog(self, conn: Conn) -> str:
        cfg = self.config
        limit_ns = int(cfg.stale_after_s * 1e9)
        step = max(cfg.heartbeat_interval_s / 2, 0.01)
        while True:
            await self._clock.sleep(step)
            if conn.channel is Channel.PUBLIC and conn.ws is not None:
                for text in self._router.due_book_resyncs():
                    await conn.ws.send_str(text)
            now = self._clock.monotonic_ns()
            if conn.channel is Channel.PRIVATE:
                self.trading.expire(now)
            silent = now - conn.last_frame_ns
            if silent > limit_ns:
                reason = f"stale: no frame for {silent / 1e9:.1f} s"
                self._emit_conn(conn, ConnectionState.STALE, reason)
                return reason

    async def _pinger(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            await self._clock.sleep(self.config.ping_interval_s)
            await ws.send_str(encode_ping(self._next_req_id()))

    # ---- subscriptions --------------------------------------------------------------------

    async def _subscribe_all(self, conn: Conn, ws: aiohttp.ClientWebSocketResponse) -> None:
        router = self._router
        if conn.channel is Channel.PUBLIC:
            texts = router.public_subscriptions(list(self.config.symbols))
        else:
            assert conn.token is not None
            texts = router.private_subscriptions(conn.token)
        for text in texts:
            await ws.send_str(text)

    async def request_executions_snapshot(self, reason: str) -> None:
        """A fresh executions snapshot (open orders + last fills) and a reconciliation: how an
        ambiguous WebSocket order outcome is looked up by `cl_ord_id` (issue 15)."""
        self.executions.expect_snapshot()
        self._put(ReconcileRequested(reason, self._now()))
        await self._send(
            self._private, self._router.private_resubscribe(self._private.token, "executions")
        )

    async def _send(self, conn: Conn, texts: list[str]) -> None:
        ws = conn.ws
        if ws is None or ws.closed:
            return  # the next connection subscribes afresh anyway
        for text in texts:
            await ws.send_str(text)

    async def _send_private(self, text: str) -> bool:
        ws = self._private.ws
        if ws is None or ws.closed or not self._private.ready.is_set():
            return False
        try:
            await ws.send_str(text)
        except (aiohttp.ClientError, OSError) as exc:
            # The socket failed under the write (e.g. aborted by the peer a moment ago): the
            # frame may have left in part or whole, so its outcome is unknown (ambiguous),
            # and aiohttp's exception ends here.
            raise WsConnectionLostError(
                f"private websocket send failed: {type(exc).__name__}: {exc}", endpoint="ws:send"
            ) from exc
        return True

    def _write_private_now(self, text: str | None) -> bool:
        """`_send_private` without a coroutine (net/ws_write.py); False: nothing written
        (not up, or not writable so): send it the usual way. `text` None only asks."""
        ws = self._private.ws
        if ws is None or not self._private.ready.is_set() or not writable_now(ws):
            return False
        if text is None:
            return True
        try:
            return write_text_now(ws, text)
        except (aiohttp.ClientError, OSError) as exc:  # as in `_send_private`: unknown fate
            raise WsConnectionLostError(
                f"private websocket send failed: {type(exc).__name__}: {exc}", endpoint="ws:send"
            ) from exc

    # ---- inbound handling (synchronous: never awaits the consumer) -------------------------

    def _now(self) -> int:
        return self._clock.now_ns()

    def _put(self, event: Event) -> None:
        self.inbound.put(event)

    def _emit_conn(self, conn: Conn, state: ConnectionState, reason: str) -> None:
        logger.info(
            "ws connection state",
            extra={"channel": conn.channel.value, "state": state.value, "reason": reason},
        )
        self._put(ConnectionChanged(conn.channel, state, reason, self._now()))
