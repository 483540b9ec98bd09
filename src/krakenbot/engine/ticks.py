"""The core's timer tick: timeouts, the daily-loss watch, metrics, the protective stops.
Part of `EngineCore` (engine/core.py), plugged into its type → handler table.

Owns: `on_tick(core, tick, out)` — the tick's time is the core's "now" (the runner posts a
`TimerTick` every `tick_interval_s`; a backtest posts them on its virtual clock): the
daily-loss halt set or lifted (UTC day), the order manager's housekeeping (old orders
cancelled, unconfirmed cancels re-sent, unacknowledged orders → reconciliation), the
strategies' look, a `metrics` row and the forgetting of long-finished orders every
`metrics_interval_s`, then the protective stops (engine/cover.py). Imports: domain, engine.
Pure and synchronous.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from krakenbot.domain.effects import Effect, RecordMetrics, RequestReconcile, SaveState
from krakenbot.domain.events import TimerTick
from krakenbot.domain.portfolio import utc_day
from krakenbot.engine import cover

if TYPE_CHECKING:
    from krakenbot.engine.core import EngineCore

_NS = 1_000_000_000
ZERO = Decimal(0)
LOSS_DAY_KEY = "loss_halted_day"
Out = list[Effect]


def on_tick(core: EngineCore, tick: TimerTick, out: Out) -> None:
    now = tick.now_ns
    watch_daily_loss(core, now, out)
    stale = core.manager.housekeeping(now, core.risk_context, out)
    if stale:
        out.append(RequestReconcile(f"unacknowledged orders {', '.join(stale)}"))
    core.decide(tick, out)
    if now >= core.next_metrics_ns:
        core.next_metrics_ns = now + int(core.config.metrics_interval_s * _NS)
        out.append(RecordMetrics(metrics_row(core, now), now))
        # Finished orders older than the reconciliation window leave the hot copy (never
        # sooner: reconciliation must still recognise them as ours).
        keep_s = core.config.reconcile.lookback_s + 86400.0
        core.registry.forget_finished(now - int(keep_s * _NS))
    cover.protect(core, out)


def watch_daily_loss(core: EngineCore, now_ns: int, out: Out) -> None:
    gate = core.gate
    pnl = core.daily_pnl(now_ns)
    today = utc_day(now_ns)
    if gate.loss_halted_day not in (None, today):
        gate.loss_halted_day = None
        out.append(SaveState(LOSS_DAY_KEY, ""))
    limit = gate.limits.max_daily_loss_usd
    if pnl is not None and -pnl >= limit and gate.loss_halted_day != today:
        gate.loss_halted_day = today
        core.loss_halt_persist(f"daily PnL {pnl}", out)


def metrics_row(core: EngineCore, now: int) -> dict[str, str]:
    pnl = core.daily_pnl(now)
    day_pnl = pnl if pnl is not None else core.portfolio.realized_on(utc_day(now))
    return {
        "balance_usd": str(core.account.confirmed.get(core.config.quote_currency, ZERO)),
        "total_trades": str(core.trips.total),
        "winning_trades": str(core.trips.winning),
        "total_profit_loss": str(core.portfolio.realized_total),
        "daily_profit_loss": str(day_pnl),
    }
