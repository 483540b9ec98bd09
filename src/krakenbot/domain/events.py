"""Typed events: everything that flows *up* from venues and feeds to the engine.

Owns: the frozen event dataclasses that the WebSocket session, REST reconciliation, the paper
venue and the order manager emit. Imports: stdlib and domain only. Nothing outside `kraken/`
sees Kraken JSON; these are what the rest of the program sees instead. Times are integer
nanoseconds: `exchange_ns` as stamped by Kraken (0 when absent), `recv_ns` from our clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from krakenbot.domain.construct import slot_constructor
from krakenbot.domain.enums import (
    Channel,
    ConnectionState,
    ExecType,
    Liquidity,
    OrderStatus,
    OrderType,
    Side,
    SystemState,
    TimeInForce,
)
from krakenbot.domain.order_terms import ContingentOrder, OrderPrice, TriggerState


@dataclass(frozen=True, slots=True)
class PriceLevel:
    price: Decimal
    qty: Decimal


# The ticker's numbers, in `Ticker.numbers` order (Kraken's ticker field names).
TICKER_FIELDS = (
    "bid",
    "bid_qty",
    "ask",
    "ask_qty",
    "last",
    "volume",
    "vwap",
    "low",
    "high",
    "change",
    "change_pct",
)
TickerNumbers = tuple[str, str, str, str, str, str, str, str, str, str, str]


class Ticker(NamedTuple):
    """Best bid/ask and 24 h statistics for one symbol.

    The eleven numbers are kept as exact decimal text (validated by the decoder) and each
    becomes a Decimal when read: a symbol's ticker stream is mostly superseded before anyone
    reads it, and building eleven Decimals per frame was most of the decode cost
    (benchmarks/bench_ws.py). A NamedTuple for the same reason as the wire BookMessage:
    a frozen dataclass's __init__ costs several times more.
    """

    symbol: str
    numbers: TickerNumbers  # TICKER_FIELDS order
    exchange_ns: int
    recv_ns: int = 0

    @property
    def bid(self) -> Decimal:
        return Decimal(self.numbers[0])

    @property
    def bid_qty(self) -> Decimal:
        return Decimal(self.numbers[1])

    @property
    def ask(self) -> Decimal:
        return Decimal(self.numbers[2])

    @property
    def ask_qty(self) -> Decimal:
        return Decimal(self.numbers[3])

    @property
    def last(self) -> Decimal:
        return Decimal(self.numbers[4])

    @property
    def volume(self) -> Decimal:
        return Decimal(self.numbers[5])

    @property
    def vwap(self) -> Decimal:
        return Decimal(self.numbers[6])

    @property
    def low(self) -> Decimal:
        return Decimal(self.numbers[7])

    @property
    def high(self) -> Decimal:
        return Decimal(self.numbers[8])

    @property
    def change(self) -> Decimal:
        return Decimal(self.numbers[9])

    @property
    def change_pct(self) -> Decimal:
        return Decimal(self.numbers[10])


@dataclass(frozen=True, slots=True)
class BookTop:
    """A verified (or explicitly unverified) view of the top of a local order book."""

    symbol: str
    bids: tuple[PriceLevel, ...]  # best first (descending)
    asks: tuple[PriceLevel, ...]  # best first (ascending)
    verified: bool
    exchange_ns: int
    recv_ns: int = 0

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    @property
    def mid(self) -> Decimal | None:
        if not self.bids or not self.asks:
            return None
        return (self.bids[0].price + self.asks[0].price) / 2


@dataclass(frozen=True, slots=True)
class BookStatus:
    """The book for `symbol` became invalid (checksum mismatch, gap) or verified again."""

    symbol: str
    verified: bool
    reason: str
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class MarketTrade:
    symbol: str
    side: Side  # taker side
    price: Decimal
    qty: Decimal
    ord_type: OrderType
    trade_id: int
    exchange_ns: int
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class Candle:
    symbol: str
    interval_min: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    vwap: Decimal
    volume: Decimal
    trades: int
    begin_ns: int


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of one of our orders; `trade_id` is Kraken's and unique per fill."""

    trade_id: str  # exec_id / REST trade txid, e.g. "TGBB7L-HT5LX-J3BZ4A"
    order_id: str  # Kraken txid of the order
    cl_ord_id: str | None
    symbol: str
    side: Side
    price: Decimal
    qty: Decimal
    cost: Decimal  # quote amount, price * qty as Kraken reports it
    fee: Decimal
    fee_asset: str
    liquidity: Liquidity | None
    exchange_ns: int


@dataclass(frozen=True, slots=True)
class ExecutionReport:
    """One Kraken `executions` report about one of our orders (WS v2 or a venue's own)."""

    exec_type: ExecType
    order_id: str
    cl_ord_id: str | None
    order_status: OrderStatus
    exchange_ns: int
    symbol: str | None = None
    side: Side | None = None
    order_type: OrderType | None = None
    order_qty: Decimal | None = None
    limit_price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    post_only: bool | None = None
    cum_qty: Decimal | None = None
    cum_cost: Decimal | None = None
    avg_price: Decimal | None = None
    fill: Fill | None = None  # set when exec_type is TRADE
    reason: str | None = None
    order_userref: int | None = None
    is_snapshot: bool = False
    sequence: int | None = None
    recv_ns: int = 0
    # Orders other than plain market/limit (placed by hand or another program, or ours
    # later): `limit_offset` when the limit price is relative (then `limit_price` is None),
    # the trigger, the iceberg's shown quantity, times, margin and the conditional close.
    limit_offset: OrderPrice | None = None
    trigger: TriggerState | None = None
    display_qty: Decimal | None = None
    effective_ns: int | None = None
    expire_ns: int | None = None
    margin: bool | None = None
    reduce_only: bool | None = None
    contingent: ContingentOrder | None = None


# The same objects as Fill(...) and ExecutionReport(...), about twice as fast to build
# (domain/construct.py): the executions decoder builds one of each per fill, ~3 reports per
# order. Call them positionally with every field.
new_fill = slot_constructor(Fill)
new_execution_report = slot_constructor(ExecutionReport)


@dataclass(frozen=True, slots=True)
class BalanceChange:
    """A balance snapshot row or ledger update for one asset (normalized code)."""

    asset: str
    balance: Decimal
    amount: Decimal | None  # the ledger delta for updates, None for snapshot rows
    is_snapshot: bool
    exchange_ns: int
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class SystemStatusChanged:
    state: SystemState
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    channel: Channel
    state: ConnectionState
    reason: str = ""
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class ReconcileRequested:
    """Something (reconnect, sequence gap, ambiguous outcome) means our picture may be stale.

    `unless_listed`: a fresh executions snapshot's order ids (cl_ord_id and txid). What it
    cannot show is an order of ours that closed before the stream began: stale only if a
    live order of ours is not among them (else a reconciliation would spend REST budget on
    nothing)."""

    reason: str
    recv_ns: int = 0
    unless_listed: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class OrderAccepted:
    """The venue acknowledged an order request (REST AddOrder txid / WS add_order ack)."""

    cl_ord_id: str
    order_id: str
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class OrderRejected:
    """The venue refused an order request; `error` is Kraken's string. `local`: refused
    inside this process before it could reach the exchange (our own circuit breaker), so
    it says nothing about the exchange."""

    cl_ord_id: str
    error: str
    endpoint: str = ""
    recv_ns: int = 0
    local: bool = False


@dataclass(frozen=True, slots=True)
class CancelRejected:
    cl_ord_id: str | None
    order_id: str | None
    error: str
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class AmendRejected:
    """An amend the venue refused (e.g. `EOrder:Unknown order` when the order just closed):
    the order itself is unchanged; its real state comes with its reports or reconciliation."""

    cl_ord_id: str | None
    order_id: str | None
    error: str
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class RateCounter:
    """Kraken's live per-pair trading counter (executions `ratecounter`).

    `symbol` is "" when the row that carried the counter did not name its pair; `order_id`
    (when the row had one) lets the consumer resolve the pair from the order's earlier reports.
    """

    symbol: str
    count: Decimal
    recv_ns: int = 0
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class DecodeFailed:
    """A frame we could not decode; the reader keeps going."""

    channel: str
    reason: str
    excerpt: str  # at most ~200 chars of the frame, never from private requests we sent
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class SubscriptionFailed:
    """The venue refused a market-data or private subscription (e.g. unknown pair, bad token).

    The engine must not trade a symbol whose book subscription failed; the session retries
    the subscription on its next (re)connect.
    """

    channel: str
    symbol: str | None
    error: str
    recv_ns: int = 0


@dataclass(frozen=True, slots=True)
class TimerTick:
    """The engine's periodic wake-up (timeouts, metrics), on the injected clock."""

    now_ns: int


MarketEvent = Ticker | BookTop | BookStatus | MarketTrade | Candle
AccountEvent = (
    ExecutionReport | BalanceChange | OrderAccepted | OrderRejected | CancelRejected | AmendRejected
)
StateEvent = (
    SystemStatusChanged
    | ConnectionChanged
    | ReconcileRequested
    | RateCounter
    | DecodeFailed
    | SubscriptionFailed
)
Event = MarketEvent | AccountEvent | StateEvent | TimerTick
