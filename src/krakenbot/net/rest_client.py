"""The async Kraken REST client: typed calls, safe retries, exactly-once orders.

Owns: the public API the engine, reconciliation and `krakenbot api` call. Read-only calls
retry transient errors with capped, jittered backoff. AddOrder is never blindly re-sent:
every order carries a `cl_ord_id` and a `deadline`; after an ambiguous outcome (timeout,
5xx, connection lost after sending, EService:Unavailable/Busy, EGeneral:Internal error) the
client waits until the deadline has passed — after it, Kraken can no longer accept that
request — then looks the id up in open AND closed orders, and re-sends only when Kraken
provably has no such order. CancelOrder is idempotent (an unknown/closed order counts as
cancelled). While the breaker is open new orders are refused, except orders that reduce a
position (`reducing`: an exit must never be locked in by the breaker); cancels always go.
Must not import: anything above `net`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from krakenbot.clock import Clock
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import UnreadableOrder
from krakenbot.errors import RejectedError, TransientError
from krakenbot.kraken import rest_codec as codec
from krakenbot.kraken import rest_market as market
from krakenbot.kraken import rest_orders as orders
from krakenbot.kraken.errors import InvalidNonceError, ThrottledError
from krakenbot.kraken.methods import Priority, is_public, is_read_only
from krakenbot.kraken.rest_order_info import readable, with_cl_ord_id
from krakenbot.kraken.signing import ParamValue
from krakenbot.net.http import AiohttpTransport, HttpTransport
from krakenbot.net.order_attempt import OrderPath, Sending
from krakenbot.net.order_sender import OrderSender
from krakenbot.net.paging import every_page, window_params
from krakenbot.net.rejections import Rejections
from krakenbot.net.rest_core import Credentials, RestConfig, RestCore
from krakenbot.ports import OrderTimings
from krakenbot.resilience.backoff import Backoff
from krakenbot.resilience.breaker import (
    BreakerState,
    BreakerTransition,
    CircuitBreaker,
    CircuitOpenError,
)

logger = logging.getLogger(__name__)

__all__ = ["Credentials", "RestClient", "RestConfig"]
_ORDER = Priority.ORDER
MAX_PAGES = 100  # 5,000 records: more is an error (net/paging.py), never a cut-short listing


class RestClient:
    """Use as `async with RestClient(config, creds, clock=…, rng=…) as client:`."""

    def __init__(
        self,
        config: RestConfig,
        credentials: Credentials | None,
        *,
        clock: Clock,
        rng: random.Random,
        transport: HttpTransport | None = None,
        on_breaker_transition: Callable[[BreakerTransition], None] | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._rng = rng
        self.breaker = CircuitBreaker(
            clock,
            threshold=config.breaker_threshold,
            cooldown_s=config.breaker_cooldown_s,
            on_transition=on_breaker_transition,
        )
        self._core = RestCore(
            config,
            credentials,
            clock=clock,
            transport=transport
            or AiohttpTransport(
                user_agent=config.user_agent, connect_timeout_s=config.connect_timeout_s
            ),
            breaker=self.breaker,
        )
        self._backoff = Backoff(
            base_s=config.retry_base_s, cap_s=config.retry_cap_s, max_attempts=config.read_retries
        )
        self._aliases: dict[str, str] = {}
        self._via: OrderPath | None = None  # orders over the private WebSocket
        self._rejections = Rejections(config.repeated_rejection_threshold)
        self._orders = OrderSender(
            self._core,
            clock=clock,
            rng=rng,
            backoff=self._backoff,
            find_open=lambda cid: self._lookup(self.open_orders(cl_ord_id=cid, priority=_ORDER)),
            find_closed=lambda cid: self._lookup(
                self.closed_orders_all(cl_ord_id=cid, priority=_ORDER)
            ),
            note_rejection=self._rejections.note,
            reset_rejection=self._rejections.reset,
            pair_key=self.pair_key,
        )

    def __repr__(self) -> str:
        return f"RestClient({self._core!r}, breaker={self.breaker.state.value})"

    async def __aenter__(self) -> RestClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._core.close()

    # ------------------------------------------------------------ observability

    @property
    def breaker_state(self) -> BreakerState:
        return self.breaker.state

    @property
    def invalid_nonce_count(self) -> int:
        return self._core.invalid_nonce_count

    def observe_trading_counter(self, pair: str, value: float) -> None:
        """Feed Kraken's live per-pair `ratecounter` (WS v2 executions) into the rate model."""
        self._core.observe_trading_counter(self.pair_key(pair), value)

    def trading_counter_estimate(self, pair: str) -> float:
        """The rate model's current estimate of Kraken's trading counter for `pair`."""
        return self._core.trading_counter_estimate(self.pair_key(pair))

    def rate_counters(self, pairs: Iterable[str]) -> list[tuple[str, float, float]]:
        """(counter, estimated level, Kraken's limit): the key's REST counter, then each
        pair's trading counter (the rate model's view; read-only)."""
        limits, core = self._core.model.limits, self._core
        found = [("rest", core.rest_counter_estimate(), float(limits.rest_max))]
        threshold = float(limits.trade_threshold)
        return found + [(p, self.trading_counter_estimate(p), threshold) for p in pairs]

    def time_orders(self, timings: OrderTimings) -> None:
        """Report each order's time on the wire and its acknowledgement (metrics), over
        REST or the private WebSocket alike."""
        self._orders.timings = timings

    @property
    def core(self) -> RestCore:
        """The signed-request core: its rate model and breaker serve the WS order path too."""
        return self._core

    def route_orders(self, via: OrderPath | None) -> None:
        """Send orders, amends, cancels and the dead man's switch over `via` (the private
        WebSocket) whenever it can send, over REST otherwise: the same rules either way."""
        self._via = via

    def pair_key(self, pair: str) -> str:
        """One name per pair for the trading counter, whatever spelling the caller used."""
        return self._aliases.get(pair, pair)

    # ------------------------------------------------------------ generic

    async def call(self, method: str, params: dict[str, ParamValue] | None = None) -> Any:
        """A raw call (for `krakenbot api`): the decoded `result`. Read-only ones retry."""
        params = dict(params or {})
        if is_read_only(method):
            return (await self._read(method, params)).result
        # Anything else may trade: one send, never retried (except a refused nonce).
        return (await self._core.private(method, params)).result

    async def _read(
        self,
        method: str,
        params: dict[str, ParamValue],
        *,
        priority: Priority | None = None,
    ) -> codec.Envelope:
        delays = self._backoff.delays(self._rng)
        while True:
            try:
                if is_public(method):
                    return await self._core.public(method, params)
                env = await self._core.private(method, params, priority=priority)
                self._rejections.reset(method)
                return env
            except RejectedError as exc:
                raise self._rejections.note(method, exc) from exc
            except (InvalidNonceError, CircuitOpenError):
                raise
            except TransientError as exc:
                delay = next(delays, None)
                if delay is None:
                    raise
                if isinstance(exc, ThrottledError) and exc.retry_at_s is not None:
                    delay = max(delay, exc.retry_at_s - self._clock.now_ns() / 1e9)
                logger.info(
                    "retrying read-only call",
                    extra={"endpoint": method, "error": str(exc), "delay_s": delay},
                )
                await self._clock.sleep(delay)

    # ------------------------------------------------------------ public market data

    async def server_time(self) -> codec.ServerTime:
        return codec.parse_time((await self._read("Time", {})).result)

    async def system_status(self) -> codec.SystemStatusInfo:
        return codec.parse_system_status((await self._read("SystemStatus", {})).result)

    async def asset_pairs(self, pairs: list[str] | None = None) -> dict[str, Instrument]:
        """Instruments by WS v2 symbol (those named in `pairs`, in any of Kraken's forms);
        also teaches the client each pair's other names. Kraken keys an answer by the form
        each pair was asked in (`pair=XLM/USD` comes back under "XLM/USD", not its id), so
        the list is fetched whole and filtered here: `rest_id` stays Kraken's own id."""
        insts = codec.parse_asset_pairs((await self._read("AssetPairs", {})).result)
        for inst in insts.values():
            for name in (inst.rest_id, inst.altname, inst.wsname, inst.symbol):
                if name:
                    self._aliases[name] = inst.symbol
        if pairs:
            wanted = {self._aliases.get(p, p) for p in pairs}
            insts = {s: i for s, i in insts.items() if s in wanted}
        return insts

    async def ticker(self, pairs: list[str]) -> dict[str, codec.RestTicker]:
        result = await self._read("Ticker", {"pair": ",".join(pairs)})
        return codec.parse_ticker(result.result)

    async def depth(self, pair: str, count: int = 100) -> codec.Depth:
        books = codec.parse_depth(
            (await self._read("Depth", {"pair": pair, "count": count})).result
        )
        if len(books) != 1:
            raise codec.CodecError(f"Depth: expected one book, got {len(books)}", endpoint="Depth")
        return next(iter(books.values()))

    async def recent_trades(self, pair: str, since: str | None = None) -> market.TradesPage:
        """One page (up to 1000) of public trades after the cursor `since` (paced per pair)."""
        params: dict[str, ParamValue] = {"pair": pair}
        if since is not None:
            params["since"] = since
        return market.parse_trades((await self._read("Trades", params)).result)

    async def ohlc(self, pair: str, interval: int, since: int | None = None) -> market.OhlcPage:
        """Candles after `since` (epoch s): at most the 720 most recent (paced per pair)."""
        params: dict[str, ParamValue] = {"pair": pair, "interval": interval}
        if since is not None:
            params["since"] = since
        return market.parse_ohlc((await self._read("OHLC", params)).result)

    # ------------------------------------------------------------ account

    async def balance(self) -> codec.Balances:
        return codec.parse_balance((await self._read("Balance", {})).result)

    async def balance_ex(self) -> codec.Balances:
        return codec.parse_balance_ex((await self._read("BalanceEx", {})).result)

    async def get_websockets_token(self) -> codec.WsToken:
        return codec.parse_ws_token((await self._read("GetWebSocketsToken", {})).result)

    @staticmethod
    async def _lookup(listing: Awaitable[orders.OrderList]) -> orders.OrderList:
        return readable(await listing)

    async def open_orders(
        self, *, cl_ord_id: str | None = None, priority: Priority | None = None
    ) -> orders.OrderList:
        """Every open order (those Kraken listed but we cannot read are in `.unreadable`)."""
        params: dict[str, ParamValue] = {"cl_ord_id": cl_ord_id} if cl_ord_id else {}
        env = await self._read("OpenOrders", params, priority=priority)
        found = orders.parse_open_orders(env.result)
        # Filter here as well: the answer must be right even if the filter was ignored.
        return with_cl_ord_id(found, cl_ord_id) if cl_ord_id else found

    async def closed_orders(
        self,
        *,
        ofs: int = 0,
        start: int | None = None,
        end: int | None = None,
        closetime: str | None = None,
        cl_ord_id: str | None = None,
        priority: Priority | None = None,
    ) -> orders.OrdersPage:
        """One page (50) of closed orders, newest first; `count` is the grand total.
        `start` (exclusive) / `end` (inclusive): epoch s; `closetime`: open | close | both
        (Kraken's default), which of the order's times they bound."""
        params: dict[str, ParamValue] = {}
        if cl_ord_id:
            params["cl_ord_id"] = cl_ord_id
        if closetime:
            params["closetime"] = closetime
        params.update(window_params(start, end, ofs))
        env = await self._read("ClosedOrders", params, priority=priority)
        return orders.parse_closed_orders(env.result)

    async def closed_orders_all(
        self,
        *,
        start: int | None = None,
        closetime: str | None = None,
        cl_ord_id: str | None = None,
        max_pages: int = MAX_PAGES,
        priority: Priority | None = None,
    ) -> orders.OrderList:
        """Every closed order (since `start`), page by page (net/paging.py)."""
        pages = await every_page(
            "ClosedOrders",
            lambda ofs: self.closed_orders(
                ofs=ofs, start=start, closetime=closetime, cl_ord_id=cl_ord_id, priority=priority
            ),
            max_pages=max_pages,
        )
        seen = {o.txid: o for page in pages for o in page.orders}
        bad = {u.order_id: u for page in pages for u in page.orders.unreadable}
        found = orders.OrderList(seen.values(), bad.values())
        return with_cl_ord_id(found, cl_ord_id) if cl_ord_id else found

    async def query_orders(self, txids: list[str]) -> orders.OrderList:
        out: list[orders.OrderInfo] = []
        bad: list[UnreadableOrder] = []
        for i in range(0, len(txids), 50):  # QueryOrders takes at most 50 ids
            env = await self._read("QueryOrders", {"txid": ",".join(txids[i : i + 50])})
            found = orders.parse_query_orders(env.result)
            out.extend(found)
            bad.extend(found.unreadable)
        return orders.OrderList(out, bad)

    async def trades_history(
        self, *, ofs: int = 0, start: int | None = None, end: int | None = None
    ) -> orders.TradesPage:
        """One page (50) of the account's trades, newest first (`start`/`end` as above)."""
        params = window_params(start, end, ofs)
        return orders.parse_trades_history((await self._read("TradesHistory", params)).result)

    async def trades_history_all(
        self, *, start: int | None = None, max_pages: int = MAX_PAGES
    ) -> tuple[orders.TradeInfo, ...]:
        """Every trade (since `start`), page by page (net/paging.py)."""
        pages = await every_page(
            "TradesHistory",
            lambda ofs: self.trades_history(ofs=ofs, start=start),
            max_pages=max_pages,
        )
        return tuple({t.trade_txid: t for page in pages for t in page.trades}.values())

    # ------------------------------------------------------------ trading

    async def add_order(
        self, req: orders.OrderRequest, *, reducing: bool = False, first: Sending | None = None
    ) -> orders.AddOrderResult:
        """Place one order exactly once (see module docstring). Raises RejectedError (incl.
        RepeatedRejectionError), CircuitOpenError (never when `reducing`), RateLimitedError,
        AmbiguousOrderError (state unknown after all lookups), or TransientError (provably
        not placed). `first`: its first attempt, written by `add_order_now`."""
        return await self._orders.add_order(req, reducing=reducing, via=self._via, first=first)

    def add_order_now(self, req: orders.OrderRequest, *, reducing: bool = False) -> Sending | None:
        """`add_order`'s first attempt written to the private WebSocket now, without a
        coroutine, when nothing has to wait (`OrderPath.write_add`) and the breaker is
        closed (or the order reduces a position); `add_order(req, first=...)` with what this
        returns then goes on from that attempt's answer. None: nothing written."""
        via = self._via
        if via is None or not (reducing or self.breaker.state is BreakerState.CLOSED):
            return None  # (a breaker not closed: `add_order` decides, taking its probe)
        window_ns = int((req.deadline_s or self._core.config.order_deadline_s) * 1e9)
        sending = Sending(self._clock.now_ns() + window_ns)
        if not via.write_add(req, self.pair_key(req.pair), window_ns, sending):
            return None
        return sending

    async def amend_order(self, req: orders.AmendRequest, *, reducing: bool = False) -> str:
        """Amend one order in place (AmendOrder); returns Kraken's amend id. Raises
        RejectedError (e.g. `EOrder:Unknown order`), CircuitOpenError (never when
        `reducing`) or TransientError (outcome unknown: read the order)."""
        return await self._orders.amend(req, reducing=reducing, via=self._via)

    async def cancel_order(
        self, *, txid: str | None = None, cl_ord_id: str | None = None
    ) -> codec.CancelResult:
        """Idempotent: an order that is already closed or unknown returns count 0."""
        return await self._orders.cancel(txid=txid, cl_ord_id=cl_ord_id, via=self._via)

    async def cancel_all(self) -> codec.CancelResult:
        return await self._orders.cancel_all()

    async def cancel_all_orders_after(self, timeout_s: int) -> codec.CancelAfterResult:
        """Arm/refresh the dead man's switch (0 disarms it)."""
        return await self._orders.cancel_all_after(timeout_s, via=self._via)
