"""`MeanReversionParams`: the built-in mean_reversion strategy's settings (strategy/
mean_reversion.py says what each rule does), validated from settings text.

Owns: the frozen parameters, their checks and `parse`. Imports: errors. Split from
strategy/mean_reversion.py for size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation

from krakenbot.errors import ConfigError

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class MeanReversionParams:
    symbol: str = "XLM/USD"
    trade_usd: Decimal = Decimal("10")  # MAX_TRADE_SIZE: the notional of one entry
    ema_halflife_s: float = 300.0
    warmup_s: float = 900.0  # history needed before the first entry
    min_samples: int = 50
    entry_z: float = 2.0
    entry_timeout_s: float = 60.0
    take_profit_pct: Decimal = Decimal("1.0")  # above two taker fees (2 × 0.40 %)
    stop_loss_pct: Decimal = Decimal("1.5")
    max_hold_s: float = 4 * 3600.0
    cooldown_s: float = 60.0  # between entry attempts
    exit_retry_s: float = 5.0  # between exit attempts

    def __post_init__(self) -> None:
        if "/" not in self.symbol:
            raise ConfigError(f"mean_reversion: symbol {self.symbol!r} is not BASE/QUOTE")
        positive: dict[str, Decimal | float] = {
            "trade_usd": self.trade_usd,
            "ema_halflife_s": self.ema_halflife_s,
            "entry_z": self.entry_z,
            "entry_timeout_s": self.entry_timeout_s,
            "take_profit_pct": self.take_profit_pct,
            "stop_loss_pct": self.stop_loss_pct,
            "max_hold_s": self.max_hold_s,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(f"mean_reversion: {name} must be > 0, got {value}")
        non_negative: dict[str, Decimal | float] = {
            "warmup_s": self.warmup_s,
            "min_samples": self.min_samples,
            "cooldown_s": self.cooldown_s,
            "exit_retry_s": self.exit_retry_s,
        }
        for name, value in non_negative.items():
            if value < 0:
                raise ConfigError(f"mean_reversion: {name} must be >= 0, got {value}")
        if self.stop_loss_pct >= HUNDRED:
            raise ConfigError("mean_reversion: stop_loss_pct must be < 100")

    @classmethod
    def parse(cls, params: Mapping[str, object]) -> MeanReversionParams:
        """Build from settings text (or values); unknown names and bad numbers are errors."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ConfigError(f"mean_reversion: unknown parameter(s) {', '.join(unknown)}")
        values: dict[str, object] = {}
        for name, raw in params.items():
            default = getattr(cls(), name)
            values[name] = _coerce(name, raw, type(default))
        return cls(**values)  # type: ignore[arg-type]


def _coerce(name: str, raw: object, kind: type) -> object:
    text = str(raw).strip()
    try:
        if kind is Decimal:
            value = Decimal(text)
            if not value.is_finite():
                raise ValueError(text)
            return value
        if kind is int:
            return int(text)
        if kind is float:
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(text)
            return number
    except (ValueError, InvalidOperation) as exc:
        raise ConfigError(f"mean_reversion: {name}={text!r} is not a number") from exc
    return text
