"""The daemon's settings applied to the engine's configuration (live, paper, --sim, backtest).

Owns: `settings_engine_config(settings, base)`. Imports: config, engine.
"""

from __future__ import annotations

from dataclasses import replace

from krakenbot.config import Settings
from krakenbot.engine.config import EngineConfig
from krakenbot.kraken.rest_orders import MIN_EXPIRE_S


def settings_engine_config(settings: Settings, base: EngineConfig) -> EngineConfig:
    """The settings' parts of the engine's configuration: the ledger's grace period, the
    protective stop's distance, and the entries' lifetime (GTD, the dead man's switch
    timeout: an entry never outlives what the switch allows, even where there is none)."""
    tuning = base.protection
    protection = replace(tuning.protection, stop_pct=settings.protective_stop_pct)
    expire_s = float(max(MIN_EXPIRE_S, settings.dead_man_switch().timeout_s))
    return replace(
        base,
        ledger_failure_grace_s=settings.ledger_failure_grace_s,
        manager=replace(base.manager, entry_expire_s=expire_s),
        protection=replace(tuning, protection=protection),
    )
