"""The core's timer tick: timeouts, the daily-loss watch, metrics, the protective stops.
Part of `EngineCore` (engine/core.py), plugged into its type → handler table.

Owns: `on_tick(core, tick, out)` — the tick's time is the core's "now" (the runner posts a
`TimerTick` every `tick_interval_s`; a backtest posts them on its virtual clock): the
daily-loss halt set or lifted (UTC day), the order manager's housekeeping (old orders
cancelled, unconfirmed cancels re-sent, unacknowledged orders → reconciliation), the
strategies' look, a `metrics` row and the forgetting of long-finished orders every
`metrics_interval_s`, then the protective stops (engine/cover.py); and `due(core, now)`,
whether a tick at `now` would do anything at all (a backtest posts only those; the daemon
ticks regardless). Imports: domain, engine. Pure and synchronous.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from krakenbot.domain.effects import Effect, RecordMetrics, RequestReconcile, SaveState
from krakenbot.domain.events import TimerTick
from krakenbot.domain.portfolio import utc_day
from krakenbot.engine import cover
from krakenbot.orders import housekeeping

if TYPE_CHECKING:
    from krakenbot.engine.core import EngineCore

_NS = 1_000_000_000
_DAY_NS = 86_400 * _NS
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


def due(core: EngineCore, now: int) -> bool:
    """Whether `on_tick` at `now` could change anything: False only when each of its steps
    provably does nothing — no loss-watch change, no housekeeping, no metrics row, every
    strategy not due (its `next_due`; one without it always is), the protective stops calm
    and what the switch must cover unchanged. Conservative otherwise (True)."""
    if now > core.now_ns or now >= core.next_metrics_ns or core.settle.waiting:
        return True
    protection = core.protection
    if protection.notes or strategies_due(core, now):
        return True
    if housekeeping.due(core.manager, now) or _loss_watch_due(core, now):
        return True
    if protection.enabled and not protection.quiet(now, cover.holdings(core)):
        return True
    return cover.switch_need(core) != core.switch_need


def strategies_due(core: EngineCore, now: int) -> bool:
    """Whether a strategy could act on a tick at `now` (its `next_due`; a strategy
    without one always could)."""
    view = core.view
    for strategy in core.strategies:
        next_due = getattr(strategy, "next_due", None)
        at = now if next_due is None else next_due(now, view)
        if at is not None and at <= now:
            return True
    return False


def calm_until(core: EngineCore, now: int) -> tuple[int, bool]:
    """After `due(core, now)` said no: (a time before which every step of a tick but the
    strategies' and the daily-loss watch's stays idle while only market data comes — no
    order, fill or other input reaching the core meanwhile: the next metrics row, the next
    UTC midnight, the order housekeeping's and the protective stops' next deadlines;
    whether the loss watch must still be asked, a price move being able to reach the limit
    — unless even every mark at zero cannot)."""
    gate, portfolio = core.gate, core.portfolio
    watch = False
    if gate.loss_halted_day is None:
        worst = portfolio.realized_on(utc_day(now))
        for symbol, qty in portfolio.positions().items():
            if qty < 0:
                watch = True  # a short's loss has no bound
                break
            worst += portfolio.unrealized(symbol, ZERO)
        watch = watch or -worst >= gate.limits.max_daily_loss_usd
    midnight = now - now % _DAY_NS + _DAY_NS
    found = [core.next_metrics_ns, midnight]
    for at in (housekeeping.next_at(core.manager), core.protection.calm_until(now)):
        if at is not None:
            found.append(at)
    return min(found), watch


def market_due(core: EngineCore, now: int, watch_loss: bool) -> bool:
    """`due` while only market data has come since it last said no (see `calm_until`)."""
    if now > core.now_ns or strategies_due(core, now):
        return True
    return watch_loss and _loss_watch_due(core, now)


def _loss_watch_due(core: EngineCore, now_ns: int) -> bool:
    """Whether `watch_daily_loss` at `now_ns` would lift or set the halt."""
    halted, today = core.gate.loss_halted_day, utc_day(now_ns)
    if halted is not None:
        return halted != today
    pnl = core.daily_pnl(now_ns)
    return pnl is not None and -pnl >= core.gate.limits.max_daily_loss_usd


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
