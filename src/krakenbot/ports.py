"""Ports: the protocols the engine talks to — `Venue`, `MarketFeed`, `Repository`,
`OrderJournal` — and `OrderTimings`, where a venue's transport reports its order timings
(metrics).

Owns: the async seams between the pure core and the shells. Imports: domain and errors only
(never net/, store/, sim/). One code path serves live Kraken, the simulator (the live venue
pointed at a loopback URL) and paper trading: only the objects the composition root injects
differ. Commands go down as method calls; what happens to them comes back as events on the
inbound stream, never as return values (a return only says "handed over").

Error contract for every method (see errors.py): `TransientError` = provably not done, retry
later; `AmbiguousOrderError` = an order request may or may not have reached the exchange —
do NOT re-send, reconcile (query by cl_ord_id / txid); `RejectedError` only for refusals the
venue reports synchronously (most refusals arrive as `OrderRejected` events);
`FatalExchangeError` = halt trading.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from krakenbot.domain.commands import AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import AccountEvent, Fill, MarketEvent, StateEvent
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import OrderSnapshot


class Venue(Protocol):
    """Where orders go: live Kraken (REST + private WS), paper, or the sim."""

    async def place(self, command: PlaceOrder) -> None:
        """Send one order (already persisted by the order manager). Its fate arrives on
        `events()` as OrderAccepted / OrderRejected / ExecutionReport."""
        ...

    async def cancel(self, command: CancelOrder) -> None:
        """Ask to cancel by cl_ord_id or txid; outcome arrives as ExecutionReport(canceled)
        or CancelRejected (e.g. `EOrder:Unknown order` when a fill won the race)."""
        ...

    async def cancel_all(self) -> None:
        """Kraken's CancelAll: every open order of the account, foreign ones included. Not
        used by krakenbot's own cancel paths, which cancel only our orders, one by one
        (orders/bulk_cancel.py)."""
        ...

    async def amend(self, command: AmendOrder) -> None:
        """Amend one of our orders in place (Kraken AmendOrder); the outcome arrives as an
        ExecutionReport(amended) or AmendRejected."""
        ...

    async def cancel_all_after(self, timeout_s: int) -> None:
        """Arm/refresh Kraken's dead man's switch (0 disarms; docs: CancelAllOrdersAfter)."""
        ...

    async def open_orders(self) -> Sequence[OrderSnapshot]:
        """Every open order of the account (ours and foreign)."""
        ...

    async def closed_orders(self, since_ns: int) -> Sequence[OrderSnapshot]:
        """Every order closed since `since_ns` (all pages)."""
        ...

    async def query_orders(self, order_ids: Sequence[str]) -> Sequence[OrderSnapshot]:
        """Orders by txid (reconciliation lookups); unknown ids are simply absent."""
        ...

    async def trades_history(self, since_ns: int) -> Sequence[Fill]:
        """Every fill since `since_ns` (all pages), `cl_ord_id` possibly None."""
        ...

    async def balances(self) -> Mapping[str, Decimal]:
        """Total balance per normalized asset code (e.g. "USD", "XLM")."""
        ...

    def events(self) -> AsyncIterator[AccountEvent | StateEvent]:
        """The inbound stream: execution reports, acks, rejections, balance changes,
        connection and system-status changes. Runs until the venue is closed."""
        ...


@runtime_checkable
class PlaceNow(Protocol):
    """A venue that can put an order's request on the socket without a coroutine: the
    executor calls it right after the order's row committed, so the bytes leave in that
    same step (no task to start first; issue 14, tick-to-order). Optional: a venue without
    it is sent to through `place` alone."""

    def place_now(self, command: PlaceOrder) -> Awaitable[None] | None:
        """`Venue.place` with its first request written before this returns, when nothing
        has to wait (connection up, rate limiter with room); the awaitable finishes it with
        `place`'s outcomes. None: nothing written (use `place`)."""
        ...


class MarketFeed(Protocol):
    """Public market data: verified books, tickers, trades, instruments, system status."""

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        """Pair constraints from AssetPairs / the instrument channel."""
        ...

    def events(self) -> AsyncIterator[MarketEvent | StateEvent]:
        """BookTop (verified or not), BookStatus, Ticker, MarketTrade, ConnectionChanged,
        SystemStatusChanged... Runs until the feed is closed."""
        ...


class StoredOrder(Protocol):
    """An order row as the ledger returns it (store's `OrderRecord` has these fields)."""

    @property
    def cl_ord_id(self) -> str: ...
    @property
    def txid(self) -> str | None: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def order_type(self) -> OrderType: ...
    @property
    def limit_price(self) -> Decimal | None: ...
    @property
    def qty(self) -> Decimal: ...
    @property
    def status(self) -> OrderStatus: ...
    @property
    def filled_qty(self) -> Decimal: ...
    @property
    def time_in_force(self) -> TimeInForce: ...
    @property
    def post_only(self) -> bool: ...
    @property
    def tag(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def created_ns(self) -> int: ...
    @property
    def updated_ns(self) -> int: ...
    @property
    def filled_cost(self) -> Decimal: ...
    @property
    def fees(self) -> Decimal: ...
    @property
    def venue_cum_qty(self) -> Decimal: ...
    @property
    def reduces_position(self) -> bool: ...
    @property
    def cancel_requested(self) -> bool: ...
    @property
    def trigger_price(self) -> Decimal | None: ...


class LedgerWrites(Protocol):
    """The ledger's writes (engine/ledger_writes.py carries each effect out through them):
    the daemon's `Repository`, and the backtest's writer (store/sync_ledger.py), which
    issues the same SQL straight on its connection. What an order's insert or update
    answers is nobody's business through this port (the backtest's answers nothing)."""

    async def insert_order(
        self,
        order: PlaceOrder,
        *,
        tag: str = "",
        status: OrderStatus = OrderStatus.PENDING_NEW,
        txid: str | None = None,
        reduces_position: bool = False,
        created_ns: int | None = None,
    ) -> object:
        """Insert a new order row (status/txid only when adopting an exchange order)."""
        ...

    async def add_order(
        self, order: PlaceOrder, *, tag: str, reduces_position: bool, created_ns: int
    ) -> None:
        """Insert a new order row (pending_new) before it is sent, committed, nothing read
        back: the persist-then-send write on the tick-to-order path."""
        ...

    async def update_order(
        self,
        cl_ord_id: str,
        *,
        status: OrderStatus | None = None,
        txid: str | None = None,
        filled_volume: Decimal | None = None,
        avg_fill_price: Decimal | None = None,
        reason: str | None = None,
        filled_cost: Decimal | None = None,
        fees: Decimal | None = None,
        venue_cum_qty: Decimal | None = None,
        cancel_requested: bool | None = None,
        updated_ns: int | None = None,
        qty: Decimal | None = None,
        price: Decimal | None = None,
    ) -> object:
        """Change the given columns (None = unchanged). `qty` and `price` (the limit, or a
        stop's trigger) change after an amend."""
        ...

    async def insert_fill(self, fill: Fill) -> bool:
        """Insert the fill (UNIQUE trade_id) and refresh its order's fill totals and the
        round trip in one transaction; False, with nothing changed, for a known trade id."""
        ...

    async def record_event(
        self, kind: str, payload: Mapping[str, object] | None = None, at_ns: int | None = None
    ) -> object:
        """Append to the audit log `events` (risk denials, reconciliation corrections...)."""
        ...

    async def set_state(self, key: str, value: str) -> None: ...

    async def open_learning_entry(
        self, cl_ord_id: str, symbol: str, features: Sequence[tuple[str, str]], at_ns: int
    ) -> None:
        """A `learning_data` row for an entry order, with the strategy's features."""
        ...

    async def close_learning_entry(
        self, cl_ord_id: str, outcome: str, pnl: Decimal, at_ns: int
    ) -> None:
        """Fill in outcome and PnL when the position opened by that entry closes."""
        ...

    async def record_metrics(self, row: Mapping[str, str], at_ns: int) -> None:
        """One `metrics` row (written every minute)."""
        ...


class Repository(LedgerWrites, Protocol):
    """The ledger (SQLite; store's `LedgerRepository` implements it). Decimals round-trip
    exactly; one writer. Persist-then-send: `add_order` commits before the venue call."""

    async def order_by_cl_ord_id(self, cl_ord_id: str) -> StoredOrder | None: ...

    async def order_by_txid(self, txid: str) -> StoredOrder | None: ...

    async def orders_since(self, since_ns: int) -> Sequence[StoredOrder]:
        """Every non-terminal order plus every order created since `since_ns`."""
        ...

    async def fills_for_order(self, cl_ord_id: str) -> Sequence[Fill]: ...

    async def load_fills(self, since_ns: int = 0) -> Sequence[Fill]:
        """Fills in the order they were recorded, which is the order the engine applied
        them (the portfolio is rebuilt from them at start-up and must come out the same)."""
        ...

    async def get_state(self, key: str) -> str | None:
        """Persisted daemon state (e.g. "trading_state", "loss_halted_day")."""
        ...


class OrderTimings(Protocol):
    """Where a venue's transport reports when an order went on the wire and how long the
    exchange took to acknowledge it (app/metrics.py). Synchronous, cheap, never raises."""

    def on_wire(self, cl_ord_id: str, wire_ns: int) -> None:
        """The order's request left at `wire_ns` (wall clock; its first send): REST's
        when signed, the WebSocket's when its frame was written."""
        ...

    def acked(self, transport: str, seconds: float) -> None:
        """The exchange acknowledged an order `seconds` after it went on the wire
        (`transport`: "rest" or "websocket")."""
        ...


class OrderJournal(Protocol):
    """Where an order is recorded before it is sent when the ledger cannot be written: a
    small append-only, fsynced file (store/orderjournal.py) that the next start-up imports
    into the ledger before reconciling. Used only by a shutdown after a ledger failure, to
    put a position's protective stop back (engine/shutdown_cover.py). Both methods raise
    (OSError, TimeoutError) when nothing could be made durable."""

    async def probe(self) -> None:
        """Append and fsync a record that says nothing: can the journal be written now?"""
        ...

    async def record(
        self, order: PlaceOrder, *, tag: str, reduces_position: bool, created_ns: int
    ) -> None:
        """Append `order` and fsync it; returns once it is durable."""
        ...
