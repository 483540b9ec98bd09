"""Simulator configuration (frozen, typed).

Owns: `SimConfig`. Imports: stdlib and krakenbot.clock only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from krakenbot.clock import Clock


def _default_balances() -> dict[str, Decimal]:
    return {"USD": Decimal("1000"), "XLM": Decimal("0")}


@dataclass(frozen=True, slots=True)
class SimConfig:
    pairs: tuple[str, ...] = ("XLM/USD", "BTC/USD")  # WS v2 names
    feed: str = "random"  # "random" (seeded walk) | "replay" (bundled real data)
    seed: int = 1
    speed: float = 1.0  # time compression of the replay feed
    tier: str = "starter"  # starter | intermediate | pro
    balances: dict[str, Decimal] = field(default_factory=_default_balances)
    api_key: str | None = None  # generated when None
    api_secret: str | None = field(default=None, repr=False)
    clock: Clock | None = None  # SystemClock when None
    feed_interval_s: float = 0.05  # how often the market feed ticks
    host: str = "127.0.0.1"
    port: int = 0
    ws_auth_port: int = 0  # the private WS endpoint listens on its own port (0 = any free)
    allow_remote: bool = False  # binding to a non-loopback host needs this
    pair_overrides: dict[str, dict[str, object]] = field(default_factory=dict)
    heartbeat_s: float = 1.0
    history_minutes: int = 0  # 1-minute candles of real history before start (CLI: 240)
    rest_rate_limit: bool = True  # False only for benchmarks that measure raw throughput
    public_rate_limit: bool = True  # Trades/OHLC per client IP and pair (sim/ratelimit.py)
    rng: random.Random | None = None  # overrides `seed` when given
    # True: an order's `executions` reports go only to the private sessions of the API key that
    # placed it (Kraken sends them to every session of the account). For benchmarks that run
    # several clients on one sim: a client decodes no other client's reports.
    reports_per_key: bool = False
