"""Reconciliation runner: fetch the venue's picture, diff it (pure), hand the corrections
to the core.

Owns: `Reconciler` — the I/O around `orders.reconcile.reconcile`: it takes our side from the
core first (under the engine lock: orders, known fills, the orders still being sent, the
window to query), then queries the balances (tagged with the account sequence at the
request, so `risk.account` can tell which fills they may contain) and then open orders,
closed orders and trade history (in that order, so an order closing mid-query is seen at
least once; the trade history after the balances, so every fill the balances contain is
known by the time they are compared). The corrections go to the core as one `Corrections`
event (engine/settle.py applies and records each); a `LookupRequired` is resolved by a
QueryOrders lookup (never by guessing) and a second pass; finally `Reconciled` hands the
balances to the core, which reports mismatches to the breaker policy. A run whose
corrections could not all be written raises `ReconcileWriteError`.
Imports: domain, orders, risk, engine. Must not import: net, store, app.

Cost against Kraken's REST budget (docs: rest-api-rate-limits): OpenOrders, ClosedOrders and
Balance cost 1 point each, TradesHistory 2 — about 5 points per run, so the periodic run
interval (default 120 s) stays far inside even the starter tier's decay of 0.33 points/s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from krakenbot.domain.order import unreadable_of
from krakenbot.engine.config import ReconcileConfig
from krakenbot.engine.inputs import Corrections, Reconciled
from krakenbot.errors import KrakenbotError
from krakenbot.orders.reconcile import (
    AdoptOrder,
    Correction,
    ExchangeState,
    LookupRequired,
    reconcile,
)
from krakenbot.risk.account import BalanceSnapshot

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner


class ReconcileWriteError(KrakenbotError):
    """Some corrections could not be written; the next run finds them again."""


class Reconciler:
    def __init__(self, runner: EngineRunner) -> None:
        self._r = runner
        self._running = asyncio.Lock()

    @property
    def config(self) -> ReconcileConfig:
        return self._r.core.config.reconcile

    async def run_once(self, reason: str) -> int:
        """One full reconciliation (never two at a time); returns the corrections applied."""
        async with self._running:
            return await self._run(reason)

    async def _run(self, reason: str) -> int:
        r, cfg = self._r, self.config
        core, clock, venue = r.core, r.clock, r.venue
        now = clock.now_ns()
        async with r.lock:
            local, since = core.settle.local_state(now)
        seq, requested_ns = core.account.seq, clock.now_ns()  # before it leaves
        balances = BalanceSnapshot(await venue.balances(), seq, requested_ns)
        open_orders = await venue.open_orders()
        closed = await venue.closed_orders(since)
        trades = await venue.trades_history(since)
        exchange = ExchangeState(
            open_orders,
            closed,
            trades,
            since,
            now,
            unreadable=(*unreadable_of(open_orders), *unreadable_of(closed)),
        )
        corrections = reconcile(
            local, exchange, prefix=cfg.prefix, absent_after_s=cfg.absent_after_s
        )
        await self._apply(reason, corrections)
        lookups = [c for c in corrections if isinstance(c, LookupRequired) and c.order_id]
        if lookups:
            found = await venue.query_orders([c.order_id for c in lookups if c.order_id])
            if found:
                # A second pass with the looked-up orders: only what they newly explain.
                async with r.lock:
                    local2 = core.settle.lookup_state({c.cl_ord_id for c in lookups})
                extra = reconcile(
                    local2,
                    ExchangeState((), found, trades, since, now, unreadable_of(found)),
                    prefix=cfg.prefix,
                    absent_after_s=cfg.absent_after_s,
                )
                await self._apply(
                    reason,
                    tuple(c for c in extra if not isinstance(c, LookupRequired | AdoptOrder)),
                )
        await r.post(Reconciled(reason, balances, clock.now_ns()))
        return core.settle.last_applied

    async def _apply(self, reason: str, corrections: Sequence[Correction]) -> None:
        r = self._r
        await r.post(Corrections(reason, tuple(corrections), r.clock.now_ns()))
        failure = r.core.settle.take_failure()
        if failure:
            raise ReconcileWriteError(f"corrections not recorded: {failure}")


__all__ = ["ReconcileConfig", "ReconcileWriteError", "Reconciler"]
