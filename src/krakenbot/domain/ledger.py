"""Ledger records: what the store returns about orders, round trips, metrics and the audit log.

Owns: the frozen values read back from the SQLite ledger, so the order manager, engine and
status command can use them through a `Repository` port without importing `store/`.
Imports: stdlib and domain only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce


class TradeStatus(StrEnum):
    """Status of a round trip in the `trades` table (the seed's upper-case words)."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One row of `orders`: every order we ever tried to place."""

    cl_ord_id: str  # column `order_id`
    txid: str | None  # Kraken's order id once acknowledged
    symbol: str  # column `pair`
    side: Side  # column `type`
    order_type: OrderType  # column `ordertype`
    limit_price: Decimal | None  # column `price` (limit orders)
    qty: Decimal  # column `volume`
    status: OrderStatus
    filled_qty: Decimal  # column `filled_volume`
    avg_fill_price: Decimal | None
    time_in_force: TimeInForce
    post_only: bool
    tag: str
    reason: str | None
    created_ns: int
    updated_ns: int
    filled_cost: Decimal = Decimal(0)  # quote amount executed so far
    fees: Decimal = Decimal(0)
    venue_cum_qty: Decimal = Decimal(0)  # the venue's own cumulative quantity, if reported
    reduces_position: bool = False
    cancel_requested: bool = False
    # Column `price` too, for trigger orders: Kraken's `price` of a stop-loss is its trigger
    # (docs: rest-api/add-order), so the seed's column keeps Kraken's meaning.
    trigger_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One row of `trades`: a position from its first fill until it is flat again.

    `profit_loss` is realized P&L in the quote currency, net of fees charged in the quote
    currency (fees charged in another asset are in `fills` but not deducted here).
    """

    id: int
    symbol: str
    side: Side  # direction of the position: buy = long
    entry_price: Decimal  # column `price`: volume-weighted average entry
    volume: Decimal  # total entered volume
    open_volume: Decimal  # still open; 0 once CLOSED
    status: TradeStatus
    cl_ord_id: str | None  # column `order_id`: the order that opened it
    txid: str | None
    profit_loss: Decimal
    fees: Decimal
    exit_price: Decimal | None  # volume-weighted average exit
    opened_ns: int
    closed_ns: int | None
    notes: str


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    """One row of `metrics` (USD amounts)."""

    balance_usd: Decimal
    total_trades: int
    winning_trades: int
    total_profit_loss: Decimal
    daily_profit_loss: Decimal
    ts_ns: int = 0  # filled in by the store when 0


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One row of `events`, the audit trail (risk denials, breaker moves, start/stop, …)."""

    id: int
    kind: str
    ts_ns: int
    payload: dict[str, object]


@dataclass(frozen=True, slots=True)
class LearningRow:
    """One row of `learning_data`: features seen at a decision and, later, its outcome."""

    id: int
    ts_ns: int
    features: dict[str, object]
    cl_ord_id: str | None
    outcome: str | None
    profit_loss: Decimal | None
    symbol: str | None = None
    outcome_ns: int | None = None
