"""Wire-neutral enums shared by every layer.

Owns: the small closed vocabularies of trading. Imports: stdlib only. Values are the
lower-case words Kraken uses where it has one, so codecs map them without tables.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    """Every `ordertype` Kraken spot knows (docs: rest-api/add-order `ordertype`; the same ten
    words are WS v2 add_order's `order_type`). krakenbot itself places market and limit
    orders; the others arrive from the account (orders placed by hand or another program)."""

    MARKET = "market"
    LIMIT = "limit"
    ICEBERG = "iceberg"
    STOP_LOSS = "stop-loss"
    TAKE_PROFIT = "take-profit"
    STOP_LOSS_LIMIT = "stop-loss-limit"
    TAKE_PROFIT_LIMIT = "take-profit-limit"
    TRAILING_STOP = "trailing-stop"
    TRAILING_STOP_LIMIT = "trailing-stop-limit"
    SETTLE_POSITION = "settle-position"

    @property
    def is_triggered(self) -> bool:
        """Rests untriggered until the reference price reaches its trigger price."""
        return self in _TRIGGERED

    @property
    def has_limit_leg(self) -> bool:
        """Becomes (or is) a limit order: limit, iceberg and the *-limit trigger types."""
        return self in _LIMIT_LEG


class TriggerReference(StrEnum):
    """The price a trigger order watches (docs: rest-api/add-order `trigger`, default last)."""

    LAST = "last"
    INDEX = "index"


class TimeInForce(StrEnum):
    GTC = "gtc"
    IOC = "ioc"
    GTD = "gtd"


class OrderStatus(StrEnum):
    """Our view of an order's lifecycle (see orders/ for the transition table)."""

    PENDING_NEW = "pending_new"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REJECTED = "rejected"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TRIGGERED = frozenset(
    {
        OrderType.STOP_LOSS,
        OrderType.TAKE_PROFIT,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.TRAILING_STOP,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
_LIMIT_LEG = frozenset(
    {
        OrderType.LIMIT,
        OrderType.ICEBERG,
        OrderType.STOP_LOSS_LIMIT,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.TRAILING_STOP_LIMIT,
    }
)
_TERMINAL = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED}
)


class ExecType(StrEnum):
    """Kraken WS v2 `exec_type` values (docs: websocket-v2/executions)."""

    PENDING_NEW = "pending_new"
    NEW = "new"
    TRADE = "trade"
    FILLED = "filled"
    ICEBERG_REFILL = "iceberg_refill"
    CANCELED = "canceled"
    EXPIRED = "expired"
    AMENDED = "amended"
    RESTATED = "restated"
    STATUS = "status"


class Liquidity(StrEnum):
    MAKER = "m"
    TAKER = "t"


class SystemState(StrEnum):
    """Kraken's engine state (REST SystemStatus, WS `status` channel)."""

    ONLINE = "online"
    MAINTENANCE = "maintenance"
    CANCEL_ONLY = "cancel_only"
    POST_ONLY = "post_only"


class TradingState(StrEnum):
    """The daemon's own trading permission, persisted across restarts."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class ConnectionState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STALE = "stale"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


class Channel(StrEnum):
    """Which WebSocket connection a connection event is about."""

    PUBLIC = "public"
    PRIVATE = "private"


class NoticeKind(StrEnum):
    """What a notification to the operator (NOTIFY_URLS: app/notices.py) is about."""

    STARTED = "started"
    STOPPED = "stopped"
    FAILED = "failed"
    FILL = "fill"
    POSITION_CLOSED = "position_closed"
    RISK_HALT = "risk_halt"  # trading state HALTED
    BREAKER_OPEN = "breaker_open"
    BREAKER_CLOSED = "breaker_closed"
    DAILY_LOSS_HALT = "daily_loss_halt"
    DMS_NOT_REFRESHED = "dms_not_refreshed"  # the dead man's switch could not be refreshed
    LEDGER_FAILURE = "ledger_failure"
    DAILY_SUMMARY = "daily_summary"
