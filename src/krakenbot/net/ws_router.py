"""The WebSocket session's synchronous frame handling: decode, verify, track, deliver.

Owns: `FrameRouter` — what happens to one received frame (ticker conflation, book
verification and resync requests, private sequence tracking and de-duplication, acks) and the
subscription messages it needs; plus the lazy conflation values `BookView` / `LazyTicker`.
Never awaits: anything to send goes to the connection's `outbox`, which the reader flushes.
Imports: stdlib, domain, kraken and net only (no sockets).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from krakenbot.clock import Clock
from krakenbot.domain.enums import Channel
from krakenbot.domain.events import (
    BookStatus,
    BookTop,
    Candle,
    DecodeFailed,
    Event,
    ExecutionReport,
    MarketTrade,
    RateCounter,
    ReconcileRequested,
    SubscriptionFailed,
    Ticker,
)
from krakenbot.kraken.ws_acks import ACK_PREFIXES, fast_method_response
from krakenbot.kraken.ws_codec import (
    BOOK_PREFIX,
    decode,
    encode_subscribe,
    encode_unsubscribe,
    fast_book,
    peek_ticker_symbol,
)
from krakenbot.kraken.ws_messages import (
    BookMessage,
    MethodResponse,
    PrivateItem,
    SequencedBatch,
    StatusMessage,
    SubscriptionAck,
    WsMessage,
)
from krakenbot.net.ws_config import Conn, SessionStats, WsSessionConfig
from krakenbot.net.ws_inbound import InboundQueue
from krakenbot.net.ws_tracking import BookKeeper, BookOutcome, BookState, SequenceTracker
from krakenbot.net.ws_trading import Pending, TradingRequests, accepted

logger = logging.getLogger("krakenbot.net.ws_session")

# Kraken errors on a private subscribe that mean the token is bad: reconnect with a new one.
TOKEN_ERRORS = ("EAPI:Invalid token", "ESession:Invalid session", "EAPI:Invalid key")


class BookView:
    """The conflation slot's value for a book: the top-N view is built when taken."""

    __slots__ = ("depth", "recv_ns", "state")

    def __init__(self, state: BookState, depth: int) -> None:
        self.state = state
        self.depth = depth
        self.recv_ns = 0

    def __call__(self) -> BookTop:
        st = self.state
        return st.book.top(self.depth, verified=st.valid, recv_ns=self.recv_ns)


class LazyTicker:
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


class FrameRouter:
    """Per-frame decisions for both connections; owns the books and the private trackers."""

    def __init__(
        self,
        config: WsSessionConfig,
        inbound: InboundQueue,
        *,
        clock: Clock,
        stats: SessionStats,
        trading: TradingRequests,
        next_req_id: Callable[[], int],
    ) -> None:
        self.config = config
        self.inbound = inbound
        self._clock = clock
        self.stats = stats
        self.trading = trading
        self._next_req_id = next_req_id
        self.books = BookKeeper(config.book_depth, {s: (p, q) for s, p, q in config.book_decimals})
        self.executions = SequenceTracker("executions")
        self.balances = SequenceTracker("balances")
        self._views: dict[str, BookView] = {}
        # A trading ack whose caller it woke: its events are built and put once that caller
        # ran (`put_after_wake`), still before anything decoded from a later frame.
        self.after_wake: list[tuple[Pending, MethodResponse]] = []
        self._resync_interval_ns = int(config.book_resync_min_interval_s * 1e9)
        self._handlers: dict[type, Callable[[Conn, WsMessage], None]] = {
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

    def _now(self) -> int:
        return self._clock.now_ns()

    def _put(self, event: Event) -> None:
        self.inbound.put(event)

    # ---- subscription messages ------------------------------------------------------------

    def public_subscriptions(self, symbols: list[str]) -> list[str]:
        cfg = self.config
        out = []
        if cfg.ticker:
            out.append(
                encode_subscribe(
                    "ticker",
                    symbols=symbols,
                    req_id=self._next_req_id(),
                    event_trigger=cfg.ticker_event_trigger,
                )
            )
        if cfg.book:
            out.append(
                encode_subscribe(
                    "book", symbols=symbols, depth=cfg.book_depth, req_id=self._next_req_id()
                )
            )
        if cfg.trade:
            out.append(encode_subscribe("trade", symbols=symbols, req_id=self._next_req_id()))
        return out

    def executions_subscription(self, token: str) -> str:
        cfg = self.config
        return encode_subscribe(
            "executions",
            token=token,
            req_id=self._next_req_id(),
            snap_orders=True,
            snap_trades=cfg.snap_trades,
            ratecounter=cfg.ratecounter,
        )

    def private_subscriptions(self, token: str) -> list[str]:
        out = []
        if self.config.executions:
            out.append(self.executions_subscription(token))
        if self.config.balances:
            out.append(encode_subscribe("balances", token=token, req_id=self._next_req_id()))
        return out

    def book_resubscribe(self, symbol: str) -> list[str]:
        depth = self.config.book_depth
        return [
            encode_unsubscribe("book", symbols=[symbol], depth=depth, req_id=self._next_req_id()),
            encode_subscribe("book", symbols=[symbol], depth=depth, req_id=self._next_req_id()),
        ]

    def private_resubscribe(self, token: str | None, channel: str) -> list[str]:
        if token is None:
            return []
        sub = (
            self.executions_subscription(token)
            if channel == "executions"
            else encode_subscribe("balances", token=token, req_id=self._next_req_id())
        )
        unsub = encode_unsubscribe(channel, token=token, req_id=self._next_req_id())
        return [unsub, sub]

    # ---- inbound handling (synchronous: never awaits the consumer) -------------------------

    def on_frame(self, conn: Conn, frame: str | bytes, recv_ns: int) -> None:
        """Everything the reader does with one frame (synchronous; never waits)."""
        if self.after_wake:
            self.put_after_wake()
        if type(frame) is str and frame.startswith(BOOK_PREFIX):
            # The busiest frame kind goes straight to its decoder and handler.
            book = fast_book(frame, recv_ns)
            if book is not None:
                self._on_book(conn, book)
                return
        if type(frame) is str and frame.startswith(ACK_PREFIXES):
            # A trading method's answer: its caller is waiting (issue 15: ack -> caller).
            resp = fast_method_response(frame, recv_ns)
            if resp is not None:
                self._on_method_response(conn, resp)
                return
        symbol = peek_ticker_symbol(frame)
        if symbol is not None:
            # Conflate first, parse later: only the ticker the engine actually takes is
            # decoded, so a ticker flood costs the reader next to nothing.
            self.inbound.put_latest(("ticker", symbol), LazyTicker(frame, recv_ns))
            return
        for item in decode(frame, recv_ns):
            self._handle(conn, item)

    def _handle(self, conn: Conn, msg: WsMessage) -> None:
        handler = self._handlers.get(type(msg))
        if handler is not None:
            handler(conn, msg)
        # Heartbeat, Pong, InstrumentMessage: liveness only (last_frame_ns already moved).

    def _on_ticker(self, conn: Conn, msg: Ticker) -> None:
        self.inbound.put_latest(("ticker", msg.symbol), msg)

    def _on_trade(self, conn: Conn, msg: MarketTrade) -> None:
        self.inbound.put(msg)

    def _on_candle(self, conn: Conn, msg: Candle) -> None:
        self.inbound.put_latest(("ohlc", msg.symbol, msg.interval_min, msg.begin_ns), msg)

    def _on_book(self, conn: Conn, msg: BookMessage) -> None:
        outcome, st = self.books.on_message(msg)
        if outcome is BookOutcome.APPLIED or outcome is BookOutcome.VERIFIED:
            if outcome is BookOutcome.VERIFIED:
                self._put(BookStatus(msg.symbol, True, st.last_reason, msg.recv_ns))
            view = self._views.get(msg.symbol)
            if view is None:
                view = self._views[msg.symbol] = BookView(st, self.config.book_depth)
            view.recv_ns = msg.recv_ns
            self.inbound.put_latest(("book", msg.symbol), view)
        elif outcome is BookOutcome.INVALID:
            self.stats.book_failures += 1
            logger.warning(
                "book invalid; resubscribing",
                extra={"symbol": msg.symbol, "reason": st.last_reason},
            )
            self._put(BookStatus(msg.symbol, False, st.last_reason, msg.recv_ns))
            now = self._clock.monotonic_ns()
            if now - st.last_resync_ns >= self._resync_interval_ns:
                st.last_resync_ns = now
                st.resync_pending = False
                conn.outbox.extend(self.book_resubscribe(msg.symbol))
            else:
                # Failing again right after a resync: don't hammer Kraken; the watchdog
                # loop sends it once the minimum interval has passed.
                st.resync_pending = True

    def due_book_resyncs(self) -> list[str]:
        now = self._clock.monotonic_ns()
        out: list[str] = []
        for symbol, st in self.books.books.items():
            if st.resync_pending and now - st.last_resync_ns >= self._resync_interval_ns:
                st.resync_pending = False
                st.last_resync_ns = now
                out.extend(self.book_resubscribe(symbol))
        return out

    def _on_private_batch(self, conn: Conn, batch: SequencedBatch) -> None:
        tracker = self.executions if batch.channel == "executions" else self.balances
        result = tracker.on_batch(batch)
        inbound = self.inbound
        watching = self.trading.watching
        for item in result.items:
            if watching and type(item) is ExecutionReport:
                self.trading.on_report(item)  # an order whose send was ambiguous: found
            if type(item) is RateCounter:
                # Latest reading per pair; a reading that names no pair is kept per order
                # (its pair is resolved by the consumer), so one pair's reading can never
                # overwrite another's.
                inbound.put_latest(("ratecounter", item.symbol or item.order_id), item)
            elif type(item) is DecodeFailed:
                self.stats.decode_failures += 1
                inbound.put(item)
                inbound.put(ReconcileRequested(f"undecodable {batch.channel} row", batch.recv_ns))
            else:
                inbound.put(item)
        if batch.is_snapshot and batch.channel == "executions":
            # The stream has begun: an order of ours that closed or filled before it (say, a
            # cancel sent over REST before the subscription, its report gone nowhere) is
            # missing from a snapshot of open orders; only a reconciliation started now sees
            # it. The core asks for one only if a live order of ours is not listed.
            listed = _ids_listed(result.items)
            inbound.put(ReconcileRequested("executions snapshot", batch.recv_ns, listed))
        if result.resync_reason is not None:
            self.stats.gaps += 1
            logger.warning("private sequence gap", extra={"reason": result.resync_reason})
            inbound.put(ReconcileRequested(result.resync_reason, batch.recv_ns))
            conn.outbox.extend(self.private_resubscribe(conn.token, batch.channel))

    def _on_subscription_ack(self, conn: Conn, ack: SubscriptionAck) -> None:
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
        if conn.channel is Channel.PRIVATE and error.startswith(TOKEN_ERRORS):
            # Bad/expired token: drop this connection; the next one fetches a fresh token.
            conn.drop_reason = f"token refused: {error}"

    def _on_method_response(self, conn: Conn, resp: MethodResponse) -> None:
        trading = self.trading
        pending = trading.resolve(resp)
        if pending is not None:
            if trading.woke:
                # Its caller goes first (the reader yields next; issue 15: ack -> caller): the
                # engine's events are not on the order's time.
                self.after_wake.append((pending, resp))
            else:
                for event in accepted(pending, resp):
                    self._put(event)
        error = resp.error
        if error is not None and conn.channel is Channel.PRIVATE and error.startswith(TOKEN_ERRORS):
            # A trading request refused for its token: the connection is no use for orders
            # (they go over REST meanwhile); the next connection fetches a fresh token.
            conn.drop_reason = f"token refused: {error}"

    def put_after_wake(self) -> None:
        held, self.after_wake = self.after_wake, []
        for pending, resp in held:
            for event in accepted(pending, resp):
                self._put(event)

    def _on_status(self, conn: Conn, msg: StatusMessage) -> None:
        self._put(msg.event)

    def _on_decode_failed(self, conn: Conn, msg: DecodeFailed) -> None:
        self.stats.decode_failures += 1
        self._put(msg)
        if conn.channel is Channel.PRIVATE:
            self._put(ReconcileRequested("undecodable private frame", msg.recv_ns))


def _ids_listed(items: list[PrivateItem]) -> frozenset[str]:
    """The cl_ord_ids and txids of the open orders an executions snapshot lists (not of its
    trade rows, `snap_trades`: an order listed only there may have closed since)."""
    ids: set[str] = set()
    for item in items:
        if type(item) is ExecutionReport and item.fill is None:
            ids.add(item.order_id)
            if item.cl_ord_id:
                ids.add(item.cl_ord_id)
    return frozenset(ids)
