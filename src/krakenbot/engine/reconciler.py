"""Reconciliation runner: fetch the venue's picture, diff it (pure), hand the corrections
to the core.

Owns: `Reconciler` — the I/O around `orders.reconcile.reconcile`: it takes our side from the
core first (under the engine lock: orders, known fills, the orders still being sent), sets
the window to query (engine/reconcile_window.py: from the mark the last complete run left in
the ledger, less an overlap), then queries the balances (tagged with the account sequence at
the request, so `risk.account` can tell which fills they may contain) and then open orders,
closed orders and trade history (in that order, so an order closing mid-query is seen at
least once; the trade history after the balances, so every fill the balances contain is
known by the time they are compared). The corrections go to the core as one `Corrections`
event (engine/settle.py applies and records each); an order of ours the ledger already holds
but the core no longer keeps in memory is not adopted a second time; a `LookupRequired` is
resolved by a QueryOrders lookup (never by guessing) and a second pass; finally `Reconciled`
hands the balances to the core, which reports mismatches to the breaker policy. A run whose
corrections could not all be written raises `ReconcileWriteError` and leaves the mark where
it was; any other run moves it to the moment its queries started. What a run could not
explain (a `LookupRequired` left) either lies inside the next window (Kraken listed it late:
the overlap) or before this one (no later window would list it either: a lookup resolves
it, a wider window would not), so holding the mark back would only make runs longer.
Imports: domain, orders, risk, engine. Must not import: net, store, app.

Cost against Kraken's REST budget (docs: rest-api-rate-limits): OpenOrders, ClosedOrders and
Balance cost 1 point each, TradesHistory 2, each page of 50 records another call. The window
spans about `interval_s + overlap_s` of history however long the daemon has run (and after a
restart, the time it was down), so a run costs 5 points, plus 1 per further 50 orders closed
and 2 per further 50 fills in that span — the same after an hour as after a month. The calls
are QUERY priority: the client's rate model makes them wait for headroom and keeps room for
orders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from krakenbot.domain.enums import OrderStatus, Side
from krakenbot.domain.order import Order, OrderSnapshot, unreadable_of
from krakenbot.engine.config import ReconcileConfig
from krakenbot.engine.inputs import Corrections, Reconciled
from krakenbot.engine.reconcile_window import MARK_KEY, in_window, parse_mark, window_start
from krakenbot.errors import KrakenbotError
from krakenbot.orders.reconcile import (
    AdoptOrder,
    Correction,
    ExchangeState,
    LookupRequired,
    StatusCorrection,
    reconcile,
)
from krakenbot.risk.account import BalanceSnapshot

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

logger = logging.getLogger(__name__)
_CLOSED_UNFILLED = (OrderStatus.CANCELED, OrderStatus.EXPIRED)
_CLOSED = (*_CLOSED_UNFILLED, OrderStatus.FILLED)


class ReconcileWriteError(KrakenbotError):
    """Some corrections could not be written; the next run finds them again."""


class Reconciler:
    def __init__(self, runner: EngineRunner) -> None:
        self._r = runner
        self._running = asyncio.Lock()
        self._mark_loaded = False
        self.mark_ns: int | None = None  # every fill and close up to here is reconciled

    @property
    def config(self) -> ReconcileConfig:
        return self._r.core.config.reconcile

    @property
    def running(self) -> bool:
        """A reconciliation (or a `settle_closed` lookup) is under way."""
        return self._running.locked()

    async def run_once(self, reason: str) -> int:
        """One full reconciliation (never two at a time); returns the corrections applied."""
        async with self._running:
            return await self._run(reason)

    async def _run(self, reason: str) -> int:
        r, cfg = self._r, self.config
        core, clock, venue = r.core, r.clock, r.venue
        now = clock.now_ns()
        mark = await self._mark()
        async with r.lock:
            local, _ = core.settle.local_state(now)
            orders = core.registry.all()
            since = window_start(now, mark, orders, cfg)
            local = replace(local, orders=in_window(orders, since, cfg))
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
        corrections = await self._not_in_ledger(
            reconcile(local, exchange, prefix=cfg.prefix, absent_after_s=cfg.absent_after_s)
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
        await self._advance(now)
        return core.settle.last_applied

    async def settle_closed(self, reason: str, cl_ord_ids: frozenset[str]) -> bool:
        """The fate of orders of ours the venue no longer lists open (the exits a shutdown
        has just cancelled), from one QueryOrders (1 REST point) instead of a full run (5
        or more): applied, and True, when each closed without executing anything beyond what
        the core has recorded — cancelled or expired, nothing to learn from trade history.
        False, with nothing applied, otherwise (a fill needs the full run)."""
        return (await self.look_up_closed(reason, cl_ord_ids)).settled

    async def look_up_closed(self, reason: str, cl_ord_ids: frozenset[str]) -> ClosedLookup:
        """`settle_closed`, and when each order is closed at the venue but sells of ours
        executed more than the core has recorded (their trades not known yet: only trade
        history tells them, the full run), how much more per symbol (`sold`; nothing
        applied). Nothing said when a buy executed unseen: the position is then larger, which
        only the full run sizes."""
        r = self._r
        orders = [o for o in r.core.registry.all() if o.cl_ord_id in cl_ord_ids]
        if not orders or len(orders) != len(cl_ord_ids) or not all(o.order_id for o in orders):
            return ClosedLookup()
        async with self._running:
            found = {
                s.order_id: s
                for s in await r.venue.query_orders([o.order_id for o in orders if o.order_id])
            }
            if not all(_closed_unfilled(o, found.get(o.order_id or "")) for o in orders):
                return ClosedLookup(sold=_sold_unseen(orders, found))
            now = r.clock.now_ns()
            async with r.lock:
                local = r.core.settle.lookup_state(set(cl_ord_ids))
            since = min(o.created_ns for o in orders)
            snapshots = tuple(found.values())
            exchange = ExchangeState((), snapshots, (), since, now, unreadable_of(snapshots))
            cfg = self.config
            corrections = reconcile(
                local, exchange, prefix=cfg.prefix, absent_after_s=cfg.absent_after_s
            )
            if not all(isinstance(c, StatusCorrection) for c in corrections):
                return ClosedLookup()
            await self._apply(reason, corrections)
            return ClosedLookup(settled=True)

    async def _mark(self) -> int | None:
        """The mark the last complete run left (read from the ledger once)."""
        if not self._mark_loaded:
            self.mark_ns = parse_mark(await self._r.repo.get_state(MARK_KEY))
            self._mark_loaded = True
        return self.mark_ns

    async def _advance(self, mark_ns: int) -> None:
        """Set the mark (and keep it in the ledger). A failed write leaves the stored mark
        older, which only widens the window after a restart; the ledger watch reports it."""
        self.mark_ns = mark_ns
        try:
            await self._r.repo.set_state(MARK_KEY, str(mark_ns))
        except Exception as exc:
            logger.warning("reconciliation mark not stored", extra={"error": repr(exc)})

    async def _not_in_ledger(self, corrections: Sequence[Correction]) -> tuple[Correction, ...]:
        """Drop adoptions of orders the ledger already has — a finished order of ours that
        left the core's memory but closed inside the window is known, not new — and the
        lookups the diff asked for them (it counted none of their recorded fills)."""
        repo = self._r.repo
        known: set[str] = set()
        for c in corrections:
            if isinstance(c, AdoptOrder) and await repo.order_by_cl_ord_id(c.order.cl_ord_id):
                known.add(c.order.cl_ord_id)
        return tuple(
            c
            for c in corrections
            if not (isinstance(c, AdoptOrder) and c.order.cl_ord_id in known)
            and not (isinstance(c, LookupRequired) and c.cl_ord_id in known)
        )

    async def _apply(self, reason: str, corrections: Sequence[Correction]) -> None:
        r = self._r
        await r.post(Corrections(reason, tuple(corrections), r.clock.now_ns()))
        failure = r.core.settle.take_failure()
        if failure:
            raise ReconcileWriteError(f"corrections not recorded: {failure}")


@dataclass(frozen=True, slots=True)
class ClosedLookup:
    """What one QueryOrders told of orders the venue no longer lists (`look_up_closed`)."""

    settled: bool = False  # each closed with nothing unseen: applied
    sold: Mapping[str, Decimal] = field(default_factory=dict)  # symbol -> unseen sells


def _sold_unseen(orders: Sequence[Order], found: Mapping[str, OrderSnapshot]) -> dict[str, Decimal]:
    """Per symbol, how much more our sells executed than the core has recorded — when every
    order is closed at the venue and no buy executed unseen; else nothing."""
    sold: dict[str, Decimal] = {}
    for order in orders:
        snapshot = found.get(order.order_id or "")
        if snapshot is None or snapshot.status not in _CLOSED:
            return {}
        unseen = snapshot.filled_qty - order.filled_qty
        if unseen > 0 and order.side is not Side.SELL:
            return {}
        if unseen > 0:
            sold[order.symbol] = sold.get(order.symbol, Decimal(0)) + unseen
    return sold


def _closed_unfilled(order: Order, snapshot: OrderSnapshot | None) -> bool:
    return (
        snapshot is not None
        and snapshot.status in _CLOSED_UNFILLED
        and snapshot.filled_qty == order.filled_qty
    )


__all__ = ["ClosedLookup", "ReconcileConfig", "ReconcileWriteError", "Reconciler"]
