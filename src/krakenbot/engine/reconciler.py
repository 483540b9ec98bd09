"""Reconciliation runner: fetch the venue's picture, diff it (pure), apply the corrections.

Owns: `Reconciler` — the I/O around `orders.reconcile.reconcile`: it snapshots our local
state first, then queries the balances (tagged with the account sequence at the request, so
`risk.account` can tell which fills they may contain) and then open orders, closed orders and
trade history (in that order, so an order closing mid-query is seen at least once; the trade
history after the balances, so every fill the balances contain is known by the time they are
compared); it applies the corrections through the order manager under the engine's lock,
writes every one to `events`, resolves `LookupRequired` by a QueryOrders lookup (never by
guessing), and hands the balances to the engine, which reports mismatches to the breaker
policy. Imports: domain, orders, ports, risk.
Must not import: net, store, app.

Cost against Kraken's REST budget (docs: rest-api-rate-limits): OpenOrders, ClosedOrders and
Balance cost 1 point each, TradesHistory 2 — about 5 points per run, so the periodic run
interval (default 120 s) stays far inside even the starter tier's decay of 0.33 points/s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from krakenbot.clock import Clock
from krakenbot.domain.order import Order, unreadable_of
from krakenbot.errors import InvariantError
from krakenbot.orders.fsm import OrderEvent
from krakenbot.orders.manager import OrderManager
from krakenbot.orders.reconcile import (
    FOREIGN_KINDS,
    AdoptOrder,
    Conflict,
    Correction,
    ExchangeState,
    LocalState,
    LookupRequired,
    MissingFill,
    ProvablyAbsent,
    StatusCorrection,
    reconcile,
)
from krakenbot.ports import Repository, Venue
from krakenbot.risk.account import BalanceSnapshot

logger = logging.getLogger(__name__)
_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ReconcileConfig:
    interval_s: float = 120.0  # periodic run
    min_gap_s: float = 1.0  # requested runs closer than this are merged
    lookback_s: float = 2 * 86400.0  # closed orders / trades window on a first run
    overlap_s: float = 300.0  # later runs look back this far before the oldest live order
    absent_after_s: float = 90.0  # an unlisted pending order is provably absent after this
    prefix: str = "kb"


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    reason: str
    corrections: tuple[Correction, ...]
    balances: BalanceSnapshot
    lookups: int = 0


class Reconciler:
    def __init__(
        self,
        *,
        venue: Venue,
        repo: Repository,
        manager: OrderManager,
        clock: Clock,
        lock: asyncio.Lock,
        known_fill_ids: Callable[[], frozenset[str]],
        account_seq: Callable[[], int],
        apply_event: Callable[[OrderEvent], Awaitable[None]],
        on_applied: Callable[[Correction], Awaitable[None]],
        config: ReconcileConfig | None = None,
    ) -> None:
        self.venue = venue
        self.repo = repo
        self.manager = manager
        self.config = config or ReconcileConfig()
        self._clock = clock
        self._lock = lock
        self._known_fill_ids = known_fill_ids
        self._account_seq = account_seq
        self._apply_event = apply_event
        self._on_applied = on_applied
        self._running = asyncio.Lock()
        self.runs = 0
        self._foreign_seen: set[str] = set()  # foreign orders / fills already recorded
        # Txids of orders reconciliation found to be foreign: their stream reports are not
        # "unknown" (the engine does not ask for a reconciliation on each of them).
        self.foreign_order_ids: set[str] = set()
        # Orders created before this moment were sent (if at all) by an earlier process.
        self.started_ns = clock.now_ns()

    def _window_start(self, now_ns: int, orders: Sequence[Order]) -> int:
        cfg = self.config
        start = now_ns - int(cfg.lookback_s * _NS)
        live = [o.created_ns for o in orders if not o.is_terminal]
        if self.runs and not live:
            start = max(start, now_ns - int(cfg.overlap_s * _NS))
        elif live:
            start = min(start, min(live) - int(cfg.overlap_s * _NS))
        return start

    async def run_once(self, reason: str) -> ReconcileResult:
        """One full reconciliation (never two at a time)."""
        async with self._running:
            return await self._run(reason)

    async def _run(self, reason: str) -> ReconcileResult:
        now = self._clock.now_ns()
        async with self._lock:
            orders = tuple(self.manager.registry.all())
            fill_ids = self._known_fill_ids()
            sending = self.manager.sending
        since = self._window_start(now, orders)
        local = LocalState(
            orders=[o for o in orders if not o.is_terminal or o.created_ns >= since],
            fill_ids=fill_ids,
            sending=sending,
            started_ns=self.started_ns,
        )
        venue = self.venue
        seq, requested_ns = self._account_seq(), self._clock.now_ns()  # before it leaves
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
            local, exchange, prefix=self.config.prefix, absent_after_s=self.config.absent_after_s
        )
        applied = await self._apply_all(corrections, reason)
        lookups = [c for c in corrections if isinstance(c, LookupRequired) and c.order_id]
        if lookups:
            found = await venue.query_orders([c.order_id for c in lookups if c.order_id])
            if found:
                # A second pass with the looked-up orders: only what they newly explain.
                async with self._lock:
                    orders2 = tuple(self.manager.registry.all())
                    fill_ids2 = self._known_fill_ids()
                    sending2 = self.manager.sending
                local2 = LocalState(
                    [o for o in orders2 if o.cl_ord_id in _ids(lookups)],
                    fill_ids2,
                    sending=sending2,
                    started_ns=self.started_ns,
                )
                extra = reconcile(
                    local2,
                    ExchangeState((), found, trades, since, now, unreadable_of(found)),
                    prefix=self.config.prefix,
                    absent_after_s=self.config.absent_after_s,
                )
                applied += await self._apply_all(
                    tuple(c for c in extra if not isinstance(c, LookupRequired | AdoptOrder)),
                    reason,
                )
        self.runs += 1
        return ReconcileResult(reason, applied, balances, len(lookups))

    async def _apply_all(
        self, corrections: Sequence[Correction], reason: str
    ) -> tuple[Correction, ...]:
        done: list[Correction] = []
        async with self._lock:
            for correction in corrections:
                row: dict[str, str] = {**correction.describe(), "reason": reason}
                if row["kind"] in FOREIGN_KINDS:
                    if row["kind"] != "foreign_fill":
                        self.foreign_order_ids.add(row["order_id"])
                    # Not ours: recorded once per process, not at every periodic run.
                    key = f"{row['kind']}:{row['order_id']}:{row['detail']}"
                    if key in self._foreign_seen:
                        continue
                    self._foreign_seen.add(key)
                try:
                    await self._apply(correction)
                except InvariantError as exc:
                    row["error"] = str(exc)
                    logger.error("reconciliation correction failed", extra=row)
                await self.repo.record_event("reconcile", row, self._clock.now_ns())
                done.append(correction)
                await self._on_applied(correction)
        return tuple(done)

    async def _apply(self, correction: Correction) -> None:
        manager = self.manager
        if isinstance(correction, AdoptOrder):
            await manager.adopt(correction.order)
        elif isinstance(correction, MissingFill | StatusCorrection | ProvablyAbsent):
            # Through the engine, so a recovered fill also reaches the portfolio.
            await self._apply_event(correction.event)
        # LookupRequired: resolved by the lookup pass or the next run; Conflict, foreign
        # orders and fills: recorded (and acted on by the engine through `on_applied`).


def _ids(lookups: Sequence[LookupRequired]) -> set[str]:
    return {c.cl_ord_id for c in lookups}


__all__ = ["Conflict", "ReconcileConfig", "ReconcileResult", "Reconciler"]
