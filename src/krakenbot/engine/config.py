"""The engine's tuning: `EngineConfig` (core and runner) and `ReconcileConfig`.

Owns: frozen config values. Imports: orders, engine. No behaviour here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from krakenbot.engine.protect import ProtectionTuning
from krakenbot.orders.manager import ManagerConfig


@dataclass(frozen=True, slots=True)
class ReconcileConfig:
    interval_s: float = 120.0  # periodic run
    min_gap_s: float = 1.0  # requested runs closer than this are merged
    lookback_s: float = 2 * 86400.0  # closed orders / trades window on a first run
    overlap_s: float = 300.0  # later runs look back this far before the oldest live order
    absent_after_s: float = 90.0  # an unlisted pending order is provably absent after this
    prefix: str = "kb"


@dataclass(frozen=True, slots=True)
class EngineConfig:
    tick_interval_s: float = 1.0
    metrics_interval_s: float = 60.0
    quote_currency: str = "USD"
    require_private_ws: bool = True  # healthy() needs the venue's private stream connected
    order_history_s: float = 2 * 86400.0  # orders loaded at start-up (plus every live one)
    # Ledger writes may keep failing this long before the daemon stops safely
    # (LEDGER_FAILURE_GRACE_S); the first failure already pauses new orders.
    ledger_failure_grace_s: float = 30.0
    ledger_check_s: float = 1.0  # how often the watch service looks (and probes a write)
    manager: ManagerConfig = field(default_factory=ManagerConfig)
    reconcile: ReconcileConfig = field(default_factory=ReconcileConfig)
    protection: ProtectionTuning = field(default_factory=ProtectionTuning)
