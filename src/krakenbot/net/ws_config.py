"""Configuration, counters and per-connection state of the WebSocket session.

Owns: `WsSessionConfig` (frozen, units in names), `SessionStats`, `Conn` (one public or
private connection's mutable state). Imports: aiohttp (types only), stdlib, domain, net.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp

from krakenbot.domain.enums import Channel
from krakenbot.errors import ConfigError
from krakenbot.net.ws_backoff import Backoff

BOOK_DEPTHS = frozenset({10, 25, 100, 500, 1000})  # docs: websocket-v2/book


@dataclass(frozen=True, slots=True)
class WsSessionConfig:
    public_url: str = "wss://ws.kraken.com/v2"
    private_url: str | None = "wss://ws-auth.kraken.com/v2"
    symbols: tuple[str, ...] = ("XLM/USD",)
    ticker: bool = True
    ticker_event_trigger: str = "trades"  # or "bbo" (docs: websocket-v2/ticker)
    book: bool = True
    trade: bool = True
    book_depth: int = 10  # 10, 25, 100, 500, 1000 (docs: websocket-v2/book)
    # (symbol, price_decimals, qty_decimals): re-pad number text (only for lossy feeds).
    book_decimals: tuple[tuple[str, int, int], ...] = ()
    executions: bool = True
    balances: bool = True
    snap_trades: bool = True  # last 50 fills in every executions snapshot: closes gaps
    ratecounter: bool = True
    # Kraken sends a heartbeat ~1/s once subscribed (docs: websocket-v2/heartbeat).
    heartbeat_interval_s: float = 1.0
    stale_after_heartbeats: float = 5.0
    ping_interval_s: float = 10.0
    connect_timeout_s: float = 10.0
    backoff: Backoff = field(default_factory=Backoff)
    backoff_reset_after_s: float = 30.0  # a connection that lived this long resets backoff
    slow_close_delay_s: float = 60.0  # after close code 1008/1013
    token_timeout_s: float = 15.0
    book_resync_min_interval_s: float = 1.0  # between resubscribes of one failing book

    def __post_init__(self) -> None:
        if self.book_depth not in BOOK_DEPTHS:
            raise ConfigError(f"book_depth must be one of {sorted(BOOK_DEPTHS)}")
        if self.ticker_event_trigger not in ("trades", "bbo"):
            raise ConfigError("ticker_event_trigger must be 'trades' or 'bbo'")
        for name in (
            "heartbeat_interval_s",
            "stale_after_heartbeats",
            "ping_interval_s",
            "connect_timeout_s",
            "token_timeout_s",
        ):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive")

    @property
    def stale_after_s(self) -> float:
        return self.heartbeat_interval_s * self.stale_after_heartbeats

    @property
    def wants_public(self) -> bool:
        return bool(self.symbols) and (self.ticker or self.book or self.trade)


@dataclass(slots=True)
class SessionStats:
    frames: int = 0
    connects: int = 0
    disconnects: int = 0
    book_failures: int = 0
    gaps: int = 0
    decode_failures: int = 0


@dataclass(slots=True)
class Conn:
    channel: Channel
    url: str
    ws: aiohttp.ClientWebSocketResponse | None = None
    ever_connected: bool = False
    last_frame_ns: int = 0
    close_reason: str = ""
    slow_retry: bool = False
    token: str | None = None
    outbox: list[str] = field(default_factory=list)
    drop_reason: str | None = None  # set by a handler: end this connection after the frame
    ready: asyncio.Event = field(default_factory=asyncio.Event)
