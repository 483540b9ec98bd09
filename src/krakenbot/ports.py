"""Ports: the protocols the engine talks to — `Venue`, `MarketFeed`, `Repository`.

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

from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Protocol

from krakenbot.domain.commands import CancelOrder, PlaceOrder
from krakenbot.domain.events import AccountEvent, Fill, MarketEvent, StateEvent
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import Order, OrderSnapshot


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
        """Cancel every open order of the account (operator emergency stop)."""
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


class MarketFeed(Protocol):
    """Public market data: verified books, tickers, trades, instruments, system status."""

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        """Pair constraints from AssetPairs / the instrument channel."""
        ...

    def events(self) -> AsyncIterator[MarketEvent | StateEvent]:
        """BookTop (verified or not), BookStatus, Ticker, MarketTrade, ConnectionChanged,
        SystemStatusChanged... Runs until the feed is closed."""
        ...


class Repository(Protocol):
    """The ledger (SQLite). Decimals round-trip exactly; one writer."""

    async def save_order(self, order: Order) -> None:
        """Insert a new order row; committed before the order is sent (persist-then-send)."""
        ...

    async def update_order(self, order: Order) -> None:
        """Store the order's new state (status, txid, cumulative fill values, reason)."""
        ...

    async def record_fill(self, fill: Fill, order: Order) -> bool:
        """Insert the fill (UNIQUE trade_id) and update its order in one transaction;
        False, with nothing changed, when the trade id is already stored."""
        ...

    async def load_orders(self, since_ns: int) -> Sequence[Order]:
        """Every non-terminal order plus every order created since `since_ns`."""
        ...

    async def load_fills(self, since_ns: int = 0) -> Sequence[Fill]:
        """Fills in execution order (the portfolio is rebuilt from them at start-up)."""
        ...

    async def record_event(self, kind: str, detail: Mapping[str, str], at_ns: int) -> None:
        """Append to the audit log `events` (risk denials, reconciliation corrections...)."""
        ...

    async def get_state(self, key: str) -> str | None:
        """Persisted daemon state (e.g. "trading_state", "loss_halted_day")."""
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
