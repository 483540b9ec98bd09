"""Composing one backtest: the settings' strategy, limits and engine, on a tape, to an outcome.

Owns: `BacktestSpec` (everything a run needs besides its market data: frozen and picklable,
so a sweep ships it to worker processes), `spec_from_settings` (the daemon's own settings —
MAX_TRADE_SIZE and the other limits, PROTECTIVE_STOP_PCT, STRATEGY / STRATEGY_PARAMS —
with the backtest's pairs and overrides), `run_spec` (build the engine core exactly as the
daemon's stack builds it, with the backtest venue in the exchange's place, and replay) and
`describe` (the run's description in result.json).
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from krakenbot import __version__
from krakenbot.app.backtest.inputs import InputUsageError, instrument_for
from krakenbot.app.engine_settings import settings_engine_config
from krakenbot.backtest.loop import Backtest, LedgerSink, LoopConfig
from krakenbot.backtest.result import Outcome
from krakenbot.backtest.tape import Tape
from krakenbot.backtest.venue import BacktestVenue
from krakenbot.config import Settings
from krakenbot.config_rules import parse_params
from krakenbot.domain.fees import fee_tier
from krakenbot.domain.instrument import Instrument
from krakenbot.engine.config import EngineConfig
from krakenbot.engine.core import EngineCore
from krakenbot.risk.breaker import BreakerPolicy
from krakenbot.risk.gate import RiskGate
from krakenbot.risk.limits import BreakerLimits, RiskLimits
from krakenbot.strategy.loader import load_strategies

NS = 1_000_000_000
# A metrics row an hour (the daemon writes one a minute): a month of candles stays a few
# hundred rows, not 43,200 writes.
METRICS_INTERVAL_S = 3600.0


@dataclass(frozen=True, slots=True)
class BacktestSpec:
    strategy: str
    params: tuple[tuple[str, str], ...]  # STRATEGY_PARAMS and --params, without `symbol`
    pairs: tuple[str, ...]
    limits: RiskLimits
    engine: EngineConfig
    breaker: BreakerLimits = field(default_factory=BreakerLimits)
    breaker_cooldown_s: float = 300.0
    fee_tier: int = 0
    latency_ms: float = 0.0
    cash: Decimal = Decimal(1000)
    seed: int = 0
    tick_s: float = 60.0
    sample_s: float = 60.0
    # The pairs' rules when they come from the data (download-data's pairs.json); a pair
    # not given here is looked up in the simulator's table (app/backtest/inputs.py).
    instruments: tuple[Instrument, ...] = ()

    def with_params(self, extra: Mapping[str, str]) -> BacktestSpec:
        merged = dict(self.params) | dict(extra)
        return replace(self, params=tuple(sorted(merged.items())))


def spec_from_settings(
    settings: Settings,
    pairs: tuple[str, ...],
    *,
    strategy: str | None = None,
    params: str = "",
    fee_tier_n: int = 0,
    latency_ms: float = 0.0,
    cash: Decimal = Decimal(1000),
    seed: int = 0,
    tick_s: float = 60.0,
    stored: Mapping[str, Instrument] | None = None,
) -> BacktestSpec:
    """The daemon's settings with the backtest's pairs and command-line choices on top;
    `stored`: the pairs' rules recorded beside the data (for pairs the simulator lacks)."""
    name = (strategy or settings.strategy).strip()
    base: dict[str, str] = {}
    if name == "mean_reversion":
        base["trade_usd"] = str(settings.max_trade_size)  # as the daemon sizes its entries
    base |= parse_params(settings.strategy_params) if strategy is None else {}
    try:
        base |= parse_params(params)
    except ValueError as exc:
        raise InputUsageError(f"--params: {exc}") from None
    base.pop("symbol", None)  # each pair gets its own instance, as in the daemon
    limits = replace(settings.risk_limits(), allowed_symbols=frozenset(pairs))
    instruments = tuple(instrument_for(pair, stored) for pair in pairs)
    for pair, inst in zip(pairs, instruments, strict=True):
        if inst.quote != limits.quote_currency:
            raise InputUsageError(f"{pair} is not quoted in {limits.quote_currency}")
    try:
        fee_tier(fee_tier_n)
    except ValueError as exc:
        raise InputUsageError(f"--fee-tier: {exc}") from None
    base_engine = EngineConfig(require_private_ws=False, metrics_interval_s=METRICS_INTERVAL_S)
    return BacktestSpec(
        strategy=name,
        params=tuple(sorted(base.items())),
        pairs=pairs,
        limits=limits,
        engine=settings_engine_config(settings, base_engine),
        breaker_cooldown_s=settings.circuit_breaker_cooldown_s,
        fee_tier=fee_tier_n,
        latency_ms=latency_ms,
        cash=cash,
        seed=seed,
        tick_s=tick_s,
        instruments=instruments,
    )


def build(
    spec: BacktestSpec,
    start_ns: int,
    ledger: LedgerSink,
    progress: Callable[[int], None] | None = None,
) -> Backtest:
    """The engine core as the daemon's stack builds it, over the backtest venue."""
    maker, taker = fee_tier(spec.fee_tier)
    stored = {i.symbol: i for i in spec.instruments}
    instruments = {
        p: replace(instrument_for(p, stored), maker_fee_pct=maker, taker_fee_pct=taker)
        for p in spec.pairs
    }
    strategies = load_strategies(spec.strategy, dict(spec.params), spec.pairs)
    quote = spec.limits.quote_currency
    venue = BacktestVenue(
        instruments, {quote: spec.cash}, latency_ns=round(spec.latency_ms * 1_000_000)
    )
    core = EngineCore(
        strategies=strategies,
        gate=RiskGate(spec.limits),
        policy=BreakerPolicy(spec.breaker),
        instruments=instruments,
        rng=random.Random(spec.seed),  # the client order ids: the same run, the same ids
        balances=dict(venue.balances),
        config=spec.engine,
        started_ns=start_ns,
    )
    config = LoopConfig(
        tick_ns=round(spec.tick_s * NS),
        sample_ns=round(spec.sample_s * NS),
        breaker_cooldown_ns=round(spec.breaker_cooldown_s * NS),
        quote=quote,
    )
    return Backtest(core, venue, ledger, config, progress=progress)


def run_spec(
    spec: BacktestSpec,
    tape: Tape,
    span: tuple[int, int],
    ledger: LedgerSink,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    start_ns, end_ns = span
    loop = build(spec, start_ns, ledger, progress)
    with _collector_spared():
        loop.run(tape, start_ns, end_ns)
    return Outcome(loop, start_ns, end_ns)


@contextmanager
def _collector_spared() -> Iterator[None]:
    """While the loop runs, the cyclic collector's full passes walk only what the run made:
    everything older (the imported code, the tape) is moved aside for the time (`gc.freeze`,
    which collects nothing and frees nothing; plain reference counting still frees as
    before) and given back after (`gc.unfreeze`), unless the caller had frozen it already.
    It saves a few per cent of a run's time, a full pass costing in proportion to what it
    walks; nothing a run decides depends on when the collector runs."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def describe(spec: BacktestSpec, data: Mapping[str, Any]) -> dict[str, Any]:
    """What ran, for result.json (no machine-dependent values: no times, no absolute paths
    the user did not type)."""
    maker, taker = fee_tier(spec.fee_tier)
    lim = spec.limits
    return {
        "krakenbot": __version__,
        "strategy": spec.strategy,
        "params": dict(spec.params),
        "pairs": list(spec.pairs),
        "data": dict(data),
        "fee_tier": spec.fee_tier,
        "maker_fee_pct": str(maker),
        "taker_fee_pct": str(taker),
        "latency_ms": spec.latency_ms,
        "cash": {lim.quote_currency: str(spec.cash)},
        "limits": {
            "max_trade_size": str(lim.max_trade_usd),
            "max_total_exposure": str(lim.max_total_exposure_usd),
            "min_order_size": str(lim.min_order_usd),
            "max_positions": lim.max_positions,
            "max_daily_losses": str(lim.max_daily_loss_usd),
            "post_only": lim.post_only,
            "protective_stop_pct": str(spec.engine.protection.protection.stop_pct),
        },
        "seed": spec.seed,
        "tick_s": spec.tick_s,
        "sample_s": spec.sample_s,
    }


__all__ = ["BacktestSpec", "build", "describe", "run_spec", "spec_from_settings"]
