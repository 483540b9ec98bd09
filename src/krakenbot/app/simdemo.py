"""`run --sim`: the embedded simulator's configuration and the time-compressed strategy.

Owns: `sim_config` and `sim_strategies`. The replay feed plays real 1-minute candles `speed`
times faster than real time; the built-in strategy's time constants (warm-up, average
half-life, entry time-out, cool-down, maximum hold) are divided by the same factor so it sees
the same market it would see live, only sooner. Its risk limits (MAX_TRADE_SIZE, exposure,
daily loss, pairs, post-only) are the settings' own and are NOT changed, and the daemon's
clock, rate limits, dead man's switch and timeouts stay real time.
Imports: anything (composition root).
"""

from __future__ import annotations

from dataclasses import fields, replace
from decimal import Decimal

from krakenbot.config import Settings
from krakenbot.sim import SimConfig
from krakenbot.strategy.base import Strategy
from krakenbot.strategy.mean_reversion import MeanReversion, MeanReversionParams

SIM_PAIRS = ("XLM/USD", "BTC/USD", "ETH/USD")
# Time constants of MeanReversionParams compressed with the feed, and the floor below which
# compressing stops (the engine ticks once a second; an exit retry must not spin).
_TIME_PARAMS = {
    "ema_halflife_s": 0.5,
    "warmup_s": 1.0,
    "entry_timeout_s": 2.0,
    "max_hold_s": 5.0,
    "cooldown_s": 1.0,
    "exit_retry_s": 1.0,
}


def sim_config(settings: Settings, *, speed: float, feed: str = "replay") -> SimConfig:
    pairs = tuple(p for p in settings.allowed_pairs if p in SIM_PAIRS) or ("XLM/USD",)
    return SimConfig(
        pairs=pairs,
        feed=feed,
        speed=speed,
        balances={"USD": Decimal("1000"), "XLM": Decimal("0"), "XBT": Decimal("0")},
    )


def sim_strategies(settings: Settings, *, speed: float) -> tuple[Strategy, ...]:
    """The configured built-in strategy, one instance per pair, with its clocks compressed
    `speed` times; none for a user strategy (it is loaded unchanged)."""
    if settings.strategy != MeanReversion.name:
        return ()
    return tuple(
        _compressed(settings.strategy_parameters(pair), speed)
        for pair in settings.strategy_config().pairs
    )


def _compressed(raw: dict[str, str], speed: float) -> Strategy:
    params = MeanReversionParams.parse(raw)
    changes: dict[str, object] = {}
    names = {f.name for f in fields(MeanReversionParams)}
    for name, floor in _TIME_PARAMS.items():
        if name in names:
            value = float(getattr(params, name))
            changes[name] = max(floor, value / speed)
    return MeanReversion(replace(params, **changes))  # type: ignore[arg-type]
