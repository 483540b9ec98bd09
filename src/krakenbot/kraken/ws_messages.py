"""Wire-level WebSocket v2 messages that stay between the codec and the session.

Owns: frozen types for frames the engine never sees directly (heartbeats, pongs, raw book
messages, subscription acks, trading-method responses, sequenced private batches, instrument
rows). Imports: stdlib and domain only. Everything the engine consumes is a
`krakenbot.domain.events` type; the session turns these into those.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from krakenbot.domain.events import (
    BalanceChange,
    Candle,
    DecodeFailed,
    ExecutionReport,
    MarketTrade,
    RateCounter,
    SystemStatusChanged,
    Ticker,
)

Level = tuple[str, str]  # (price_text, qty_text) exactly as on the wire


@dataclass(frozen=True, slots=True)
class Heartbeat:
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class Pong:
    req_id: int | None
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """`status` channel: engine state plus the connection id (may exceed 2**63)."""

    event: SystemStatusChanged
    connection_id: int | None
    version: str


class BookMessage(NamedTuple):
    """One symbol's `book` snapshot or update with the exact level text.

    A NamedTuple rather than a frozen dataclass: it is built for every book frame and a
    frozen dataclass's __init__ costs ~3x more (measured in benchmarks/bench_ws.py).
    """

    symbol: str
    is_snapshot: bool
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    checksum: int | None
    exchange_ns: int
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class SubscriptionAck:
    """Ack of `subscribe`/`unsubscribe` (Kraken sends one per symbol)."""

    method: str
    success: bool
    channel: str | None
    symbol: str | None
    error: str | None
    req_id: int | None
    maxratecount: int | None = None
    warnings: tuple[str, ...] = ()
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class OrderRef:
    order_id: str | None
    cl_ord_id: str | None
    order_userref: int | None


@dataclass(frozen=True, slots=True)
class MethodResponse:
    """Response to a trading method (add_order, cancel_order, cancel_all, batch_add, ...).

    `method` is "error" for Kraken's "MalformedError request" reply. `orders` holds the result's
    order references (one for add/cancel/amend, several for batch_add, none for cancel_all).
    """

    method: str
    success: bool
    error: str | None
    req_id: int | None
    orders: tuple[OrderRef, ...] = ()
    count: int | None = None
    trigger_time: str | None = None  # cancel_all_orders_after result.triggerTime
    current_time: str | None = None
    warnings: tuple[str, ...] = ()
    recv_ns: int = 0
    amend_id: str | None = None  # amend_order result.amend_id


PrivateItem = ExecutionReport | BalanceChange | RateCounter | DecodeFailed


@dataclass(frozen=True, slots=True)
class SequencedBatch:
    """An `executions` or `balances` push: its `sequence` and its decoded rows."""

    channel: str
    is_snapshot: bool
    sequence: int | None
    items: tuple[PrivateItem, ...]
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class InstrumentPair:
    """One `instrument` channel pair row (docs: websocket-v2/instrument)."""

    symbol: str
    base: str
    quote: str
    status: str
    price_precision: int
    qty_precision: int
    cost_precision: int | None
    price_increment: Decimal | None
    qty_increment: Decimal | None
    qty_min: Decimal | None
    cost_min: Decimal | None


@dataclass(frozen=True, slots=True)
class InstrumentMessage:
    is_snapshot: bool
    pairs: tuple[InstrumentPair, ...]
    recv_ns: int = 0


WsMessage = (
    Heartbeat
    | Pong
    | StatusMessage
    | BookMessage
    | SubscriptionAck
    | MethodResponse
    | SequencedBatch
    | InstrumentMessage
    | Ticker
    | MarketTrade
    | Candle
    | DecodeFailed
)
