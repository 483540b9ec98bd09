"""The core's order bookkeeping: order events, fills that wait for their ledger row, and
reconciliation corrections. Part of `EngineCore` (engine/core.py), split out for size.

Owns: `Settlement`. An order event goes through the order manager's FSM; a NEW fill is first
written (`RecordFill`) and only trusted once the runner answers `WriteDone` — then it reaches
the account, the portfolio and the round trips, the order row is written, and what was to
follow (the strategies' decision, the next correction) continues. The runner answers before
any other event; if another event arrives first anyway, the fill is treated as unrecorded.
A fill whose row could not be written (`WriteFailed`) is taken back out of its order, exactly
as if the report had never come (the next report or reconciliation brings it again); it is
kept aside (`unrecorded`) until its row is written, for the shutdown's protective stop.

Reconciliation corrections (`Corrections`) are applied one at a time, in order, each written
to `events` after it was applied; a correction that needs a write (a missing fill, an
adopted order) waits for it, and a failed write abandons the rest of the run (`failure`),
which the runner reports as a failed reconciliation. Foreign orders and fills are recorded
once per process and their txids remembered, so their stream reports are not "unknown".
Imports: domain, orders, engine. Pure and synchronous.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from krakenbot.domain.effects import (
    AdoptOrder,
    CloseLearningEntry,
    Effect,
    FlagCancel,
    Notify,
    OpenLearningEntry,
    PersistOrder,
    RecordEvent,
    RecordFill,
    ReportError,
    RequestReconcile,
    UpdateOrder,
)
from krakenbot.domain.enums import NoticeKind, TradingState
from krakenbot.domain.events import ExecutionReport, Fill
from krakenbot.engine.inputs import Corrections, StopRequested, WriteDone, WriteFailed
from krakenbot.errors import InvariantError
from krakenbot.orders.fsm import OrderEvent
from krakenbot.orders.manager import Applied
from krakenbot.orders.reconcile import (
    FOREIGN_KINDS,
    Conflict,
    Correction,
    LocalState,
    MissingFill,
    ProvablyAbsent,
    StatusCorrection,
)
from krakenbot.orders.reconcile import AdoptOrder as Adopt

if TYPE_CHECKING:
    from krakenbot.engine.core import EngineCore

ZERO = Decimal(0)
_NS = 1_000_000_000
Out = list[Effect]
Then = Callable[[Out], None]
Fail = Callable[[str, Out], None]


@dataclass(frozen=True, slots=True)
class _Waiting:
    """A write the core waits for, and what follows it."""

    effect: RecordFill | AdoptOrder
    applied: Applied | None  # the order change behind a fill
    then: Then
    fail: Fail


class Settlement:
    def __init__(self, core: EngineCore) -> None:
        self.core = core
        self.fill_ids: set[str] = set()  # trade ids in the ledger
        # Fills seen whose row could not be written (the ledger failing): not trusted as
        # recorded, but real at the exchange — the shutdown's protective stop counts them
        # (engine/cover.py `counted`). Reconciliation records them once the ledger works.
        self.unrecorded: dict[str, Fill] = {}
        self._waiting: _Waiting | None = None
        self._queue: deque[Correction] = deque()
        self._reason = ""
        self._applied = 0  # corrections applied in the current run
        self.failure = ""  # why the current reconciliation run failed ("" = it did not)
        self.runs = 0
        self.last_applied = 0  # corrections the last finished run applied
        self._foreign_seen: set[str] = set()  # foreign orders / fills already recorded
        # Txids of orders reconciliation found to be foreign: their stream reports are not
        # "unknown" (no reconciliation is asked for on each of them).
        self.foreign_order_ids: set[str] = set()

    # ================================================================== order events
    def order_event(
        self, event: OrderEvent, out: Out, then: Then, fail: Fail | None = None
    ) -> None:
        """Apply an order event (venue, reconciliation or a send outcome) everywhere, then
        `then` — at once, or once the new fill it carries is recorded."""
        core = self.core
        applied = core.manager.apply(event)
        if applied is None:
            self._not_ours(event, out)
            then(out)
            return
        fill = applied.new_fill
        if fill is None:
            self._settled(applied, None, out)
            then(out)
            return
        effect = RecordFill(fill)
        out.append(effect)
        self._waiting = _Waiting(effect, applied, then, fail or self._report(event))

    def _report(self, event: OrderEvent) -> Fail:
        name = type(event).__name__

        def fail(error: str, out: Out) -> None:
            out.append(ReportError(f"{name}: {error}"))

        return fail

    def _not_ours(self, event: OrderEvent, out: Out) -> None:
        if not isinstance(event, ExecutionReport | Fill) or _is_snapshot(event):
            return
        if event.order_id in self.foreign_order_ids:
            return  # a known foreign order (placed by hand?): reported, not ours
        row = {
            "cl_ord_id": event.cl_ord_id or "",
            "order_id": event.order_id,
            "type": type(event).__name__,
        }
        out.append(RecordEvent("unknown_order_event", row, self.core.now_ns))
        out.append(RequestReconcile("event for an unknown order"))

    def _settled(self, applied: Applied, fill: Fill | None, out: Out) -> None:
        """The order row, then what a recorded fill changes (account, portfolio, learning)."""
        core = self.core
        now = core.now_ns
        core.protection.observe(applied.before, applied.after, now)
        core.manager.persist(applied, now, out)
        if fill is not None:
            self.fill_ids.add(fill.trade_id)
            instrument = core.instruments.get(fill.symbol)
            if instrument is not None:
                core.account.on_fill(fill, instrument)
            core.bump(fills=1)
            closed = core.trips.apply(fill)
            if closed is not None:
                row = {"symbol": closed.symbol, "pnl": str(closed.pnl), "outcome": closed.outcome}
                out.append(Notify("position closed", row, notice=NoticeKind.POSITION_CLOSED))
                at = fill.exchange_ns or now
                out.extend(
                    CloseLearningEntry(entry, closed.outcome, closed.pnl, at)
                    for entry in closed.entry_ids
                )
        after = applied.after
        ended = after.is_terminal and not applied.before.is_terminal
        if ended and after.filled_qty == 0 and after.tag == "entry":
            out.append(CloseLearningEntry(after.cl_ord_id, f"unfilled_{after.status}", ZERO, now))

    # ================================================================== write outcomes
    @property
    def waiting(self) -> bool:
        """A write is awaited (its answer comes before any other event)."""
        return self._waiting is not None

    def interrupted(self, event: object, out: Out) -> None:
        """Another event before the awaited write's answer: treat the write as failed."""
        if self._waiting is not None and not isinstance(
            event, WriteDone | WriteFailed | StopRequested
        ):
            self._failed(self._waiting, "no answer before the next event", out)

    def write_done(self, event: WriteDone, out: Out) -> None:
        waiting = self._waiting
        if waiting is None or waiting.effect is not event.effect:
            raise InvariantError(f"unexpected write answer: {type(event.effect).__name__}")
        self._waiting = None
        if isinstance(event.effect, RecordFill):  # in the ledger now (new or not)
            self.unrecorded.pop(event.effect.fill.trade_id, None)
        applied = waiting.applied
        if applied is not None:
            fill = applied.new_fill if event.inserted else None
            if fill is not None:
                fields = {
                    "cl_ord_id": applied.after.cl_ord_id,
                    "trade_id": fill.trade_id,
                    "symbol": fill.symbol,
                    "side": fill.side.value,
                    "qty": str(fill.qty),
                    "price": str(fill.price),
                    "fee": str(fill.fee),
                }
                out.append(Notify("fill recorded", fields, notice=NoticeKind.FILL))
            self._settled(applied, fill, out)
        waiting.then(out)
        self._next_correction(out)

    def write_failed(self, event: WriteFailed, out: Out) -> None:
        manager = self.core.manager
        manager.ledger_failing = True  # until the runner says it works again
        effect = event.effect
        if isinstance(effect, PersistOrder):
            manager.not_persisted(effect.command.cl_ord_id, row_written=False)
        elif isinstance(effect, OpenLearningEntry):
            manager.not_persisted(effect.cl_ord_id, row_written=True)
        elif isinstance(effect, UpdateOrder):
            manager.update_failed(effect)
            return  # the new state stays in memory (a recorded fill must count)
        elif isinstance(effect, FlagCancel):
            return  # best effort: the cancel has left; the exchange's answer settles it
        waiting = self._waiting
        if waiting is not None and waiting.effect is effect:
            self._failed(waiting, event.error, out)
            return
        out.append(ReportError(f"ledger {_name(effect)}: {event.error}"))

    def _failed(self, waiting: _Waiting, error: str, out: Out) -> None:
        self._waiting = None
        if waiting.applied is not None:
            if (fill := waiting.applied.new_fill) is not None:
                self.unrecorded[fill.trade_id] = fill
            self.core.manager.unrecorded(waiting.applied)
        elif isinstance(waiting.effect, AdoptOrder):
            self.core.registry.discard(waiting.effect.order.cl_ord_id)
        waiting.fail(error, out)

    # ================================================================== reconciliation
    def local_state(self, now_ns: int) -> tuple[LocalState, int]:
        """Our side of a reconciliation run, and the start of the window it covers."""
        core = self.core
        cfg = core.config.reconcile
        orders = core.registry.all()
        start = now_ns - int(cfg.lookback_s * _NS)
        live = [o.created_ns for o in orders if not o.is_terminal]
        if self.runs and not live:
            start = max(start, now_ns - int(cfg.overlap_s * _NS))
        elif live:
            start = min(start, min(live) - int(cfg.overlap_s * _NS))
        local = LocalState(
            orders=[o for o in orders if not o.is_terminal or o.created_ns >= start],
            fill_ids=frozenset(self.fill_ids),
            sending=frozenset(core.manager.sending),
            started_ns=core.started_ns,
        )
        return local, start

    def lookup_state(self, cl_ord_ids: set[str]) -> LocalState:
        """Our side of a lookup pass: just the orders looked up."""
        core = self.core
        return LocalState(
            [o for o in core.registry.all() if o.cl_ord_id in cl_ord_ids],
            frozenset(self.fill_ids),
            sending=frozenset(core.manager.sending),
            started_ns=core.started_ns,
        )

    def corrections(self, event: Corrections, out: Out) -> None:
        self._reason = event.reason
        self._queue.extend(event.corrections)
        self._next_correction(out)

    def _next_correction(self, out: Out) -> None:
        try:
            while self._queue and self._waiting is None:
                self._apply(self._queue.popleft(), out)
        except Exception as exc:  # a bug: the run fails rather than continue half-applied
            self._abandon(repr(exc), out)
            raise

    def _apply(self, correction: Correction, out: Out) -> None:
        row: dict[str, str] = {**correction.describe(), "reason": self._reason}
        if row["kind"] in FOREIGN_KINDS:
            if row["kind"] != "foreign_fill":
                self.foreign_order_ids.add(row["order_id"])
            # Not ours: recorded once per process, not at every periodic run.
            key = f"{row['kind']}:{row['order_id']}:{row['detail']}"
            if key in self._foreign_seen:
                return
            self._foreign_seen.add(key)

        def done(out: Out) -> None:
            self._done(correction, row, out)

        try:
            if isinstance(correction, Adopt):
                if self.core.manager.adopt(correction.order):
                    effect = AdoptOrder(correction.order)
                    out.append(effect)
                    self._waiting = _Waiting(effect, None, done, self._abandon)
                    return
            elif isinstance(correction, MissingFill | StatusCorrection | ProvablyAbsent):
                # Through the same path as a live report: a recovered fill reaches the
                # portfolio too.
                self.order_event(correction.event, out, done, self._abandon)
                return
            # LookupRequired: resolved by the lookup pass or the next run; Conflict,
            # foreign orders and fills: recorded (a Conflict halts trading).
        except InvariantError as exc:
            row["error"] = str(exc)
            out.append(Notify("reconciliation correction failed", row, warning=True))
        done(out)

    def _done(self, correction: Correction, row: dict[str, str], out: Out) -> None:
        core = self.core
        out.append(RecordEvent("reconcile", row, core.now_ns))
        self._applied += 1
        if isinstance(correction, Conflict):
            reason = f"reconcile conflict: {correction.detail}"
            core.set_trading_state(TradingState.HALTED, reason, out)

    def _abandon(self, error: str, out: Out) -> None:
        """A correction's write failed: the rest of this run is dropped (the next run
        finds the same differences again)."""
        self._queue.clear()
        self.failure = error

    def run_finished(self) -> None:
        self.runs += 1
        self.core.bump(reconciles=1, corrections=self._applied)
        self.last_applied, self._applied = self._applied, 0

    def take_failure(self) -> str:
        """Why the run's corrections could not all be applied ("" if they were); cleared."""
        failure, self.failure = self.failure, ""
        if failure:
            self._applied = 0
        return failure


def _name(effect: object) -> str:
    return type(effect).__name__


def _is_snapshot(event: ExecutionReport | Fill) -> bool:
    return isinstance(event, ExecutionReport) and event.is_snapshot


__all__ = ["Settlement"]
