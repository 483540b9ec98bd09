"""Frozen risk configuration: `RiskLimits` (the gate) and `BreakerLimits` (the trip policy).

Owns: the limit values and their validation. Imports: stdlib, errors. The composition root
builds these from settings (MAX_TRADE_SIZE → max_trade_usd, MIN_ORDER_SIZE → min_order_usd,
MAX_TOTAL_EXPOSURE → max_total_exposure_usd, MAX_POSITIONS → max_positions,
MAX_DAILY_LOSSES → max_daily_loss_usd, POST_ONLY → post_only).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from krakenbot.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RiskLimits:
    allowed_symbols: frozenset[str]
    max_trade_usd: Decimal
    min_order_usd: Decimal
    max_total_exposure_usd: Decimal
    max_positions: int
    max_daily_loss_usd: Decimal
    post_only: bool = True
    quote_currency: str = "USD"  # notional limits are in this currency, so only its pairs
    price_band_pct: Decimal = Decimal("2")  # fat-finger guard: max distance from verified mid
    max_book_age_s: float = 10.0  # market data older than this is stale
    max_orders_per_window: int = 6  # the gate's own order-rate limit (new orders only)
    order_window_s: float = 60.0

    def __post_init__(self) -> None:
        if not self.allowed_symbols:
            raise ConfigError("risk: at least one allowed pair is required")
        if not 0 < self.min_order_usd <= self.max_trade_usd:
            raise ConfigError("risk: need 0 < MIN_ORDER_SIZE <= MAX_TRADE_SIZE")
        if self.max_total_exposure_usd < self.max_trade_usd:
            raise ConfigError("risk: MAX_TOTAL_EXPOSURE must be >= MAX_TRADE_SIZE")
        if self.max_positions < 1:
            raise ConfigError("risk: MAX_POSITIONS must be >= 1")
        if self.max_daily_loss_usd <= 0:
            raise ConfigError("risk: MAX_DAILY_LOSSES must be > 0")
        if not 0 < self.price_band_pct < 100:
            raise ConfigError("risk: price band must be within (0, 100) percent")
        if self.max_book_age_s <= 0 or self.order_window_s <= 0:
            raise ConfigError("risk: market-data age and order window must be > 0 s")
        if self.max_orders_per_window < 1:
            raise ConfigError("risk: order-rate limit must allow at least one order")


@dataclass(frozen=True, slots=True)
class BreakerLimits:
    """Counts within `window_s` that trip the circuit breaker (seed: WS disconnections,
    order execution failures, unexpected price movements, balance inconsistencies)."""

    window_s: float = 300.0
    max_ws_disconnects: int = 5
    max_order_failures: int = 3
    max_balance_mismatches: int = 1
    price_jump_pct: Decimal = Decimal("5")
    price_window_s: float = 60.0

    def __post_init__(self) -> None:
        counts = (self.max_ws_disconnects, self.max_order_failures, self.max_balance_mismatches)
        if min(counts) < 1:
            raise ConfigError("breaker: every count threshold must be >= 1")
        if self.window_s <= 0 or self.price_window_s <= 0 or self.price_jump_pct <= 0:
            raise ConfigError("breaker: windows and the price band must be > 0")
