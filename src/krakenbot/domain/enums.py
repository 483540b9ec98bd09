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
    MARKET = "market"
    LIMIT = "limit"


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
