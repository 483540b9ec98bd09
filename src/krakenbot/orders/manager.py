"""The order manager's decisions: risk gate → persist → send, exactly once; venue events →
order state. Synchronous: it never awaits, never reads a clock and never touches a venue or
the ledger — it appends effects (domain/effects.py) to the caller's list `out`, in the order
they must be carried out, and the engine's runner carries them out.

Owns: `OrderManager` — the ONLY code that decides to hand orders and cancels to a venue.
Every item (entries, exits, cancels, shutdown and emergency cancels) passes `RiskGate.check`
first and every `Denied` becomes a `risk_denied` event. An approved order is `PersistOrder`
(its row with the `cl_ord_id`, committed) before its `SendOrder` (persist-then-send); the
runner never sends an order whose row (or learning row) could not be written, and tells
`not_persisted` so the order is forgotten or left to reconciliation. An order counts as
"being sent" (`sending`) from the decision until the runner reports its send finished:
reconciliation never declares such an order absent (an ambiguous AddOrder is looked up and
may be re-signed later by the venue, never re-sent from here).

Venue events are applied with the FSM (`orders.fsm`) by `apply`; a new fill is recorded by
the caller (`RecordFill`, once per trade id) BEFORE the order row is written (`persist`),
and a fill whose row could not be inserted is taken back out of the order (`unrecorded`:
the next report or reconciliation brings it again). An order-row update that failed is
written again from the ledger's version by `housekeeping` (`update_failed`).

A ledger that cannot be written never blocks a cancel: `SendCancel` comes first and the
`cancel_requested` flag (`FlagCancel`) after it, and not at all while `ledger_failing`.
Bulk cancels (shutdown, emergency) live in orders/bulk_cancel.py.
Imports: domain, orders, risk. Must not import: net, store, engine, app, asyncio.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from krakenbot.domain.commands import (
    AmendIntent,
    AmendOrder,
    CancelIntent,
    CancelOrder,
    OrderIntent,
)
from krakenbot.domain.effects import (
    Effect,
    Notify,
    OpenLearningEntry,
    PersistOrder,
    RecordEvent,
    SendAmend,
    SendCancel,
    SendOrder,
    UpdateOrder,
)
from krakenbot.domain.enums import TimeInForce
from krakenbot.domain.events import ExecutionReport, Fill
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.orders import bulk_cancel, housekeeping
from krakenbot.orders.clordid import DEFAULT_PREFIX, new_cl_ord_id
from krakenbot.orders.fsm import OrderEvent, order_from_intent, place_command, request_cancel
from krakenbot.orders.registry import OrderRegistry
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Decision, Denied, Rule
from krakenbot.risk.gate import RiskGate

_NS = 1_000_000_000
Out = list[Effect]


@dataclass(frozen=True, slots=True)
class ManagerConfig:
    prefix: str = DEFAULT_PREFIX
    order_deadline_s: float | None = None  # Kraken `deadline` for AddOrder; None: venue default
    order_timeout_s: float = 900.0  # any unfilled working order older than this is cancelled
    cancel_retry_s: float = 10.0  # a cancel not confirmed by then is sent again (idempotent)
    ack_timeout_s: float = 30.0  # a pending_new order unacknowledged this long → reconcile
    # Entries that would rest are sent GTD, expiring this long after Kraken accepts them
    # (the dead man's switch timeout: an entry never outlives what the switch allows).
    entry_expire_s: float | None = None


@dataclass(frozen=True, slots=True)
class Applied:
    """What one venue event did: the order before and after, and the fill it adds (not yet
    recorded: the caller records it, then calls `persist`)."""

    before: Order
    after: Order
    new_fill: Fill | None


class OrderManager:
    def __init__(
        self,
        *,
        gate: RiskGate,
        registry: OrderRegistry,
        rng: random.Random,
        config: ManagerConfig | None = None,
    ) -> None:
        self.gate = gate
        self.registry = registry
        self.config = config or ManagerConfig()
        self._rng = rng
        self.ledger_failing = False  # set by the engine while ledger writes fail
        # Orders whose row update failed: cl_ord_id -> the version the ledger holds.
        self._unpersisted: dict[str, Order] = {}
        self.sending: set[str] = set()  # decided orders whose AddOrder has not returned
        self._cancel_sent_ns: dict[str, int] = {}
        self.kept: set[str] = set()  # exits a shutdown leaves resting: never cancelled again
        self.emergency: bulk_cancel.Emergency | None = None  # between its two steps
        self.denials = 0
        self.denials_by_rule: dict[Rule, int] = {}  # the same denials, by the rule that denied
        self.last_denial: Denied | None = None

    # ------------------------------------------------------------------ commands down
    def submit(
        self, intent: OrderIntent, ctx: RiskContext, out: Out, *, journal: bool = False
    ) -> Decision:
        """Gate, then persist and send (as effects, in that order). Returns the verdict.
        `journal`: persisted to the order journal, not the ledger (`PersistOrder.journal`)."""
        decision = self.gate.check(intent, ctx)
        if isinstance(decision, Denied):
            self.denied(decision, ctx.now_ns, out)
            return decision
        now = ctx.now_ns
        cl_ord_id = new_cl_ord_id(now, self._rng, self.config.prefix)
        while self.registry.get(cl_ord_id) is not None:  # same ms and same random digits
            cl_ord_id = new_cl_ord_id(now, self._rng, self.config.prefix)
        order = order_from_intent(intent, cl_ord_id, now)
        expire_s = self.config.entry_expire_s
        if intent.reduces_position or intent.time_in_force is TimeInForce.IOC:
            expire_s = None  # exits are never cut short; an IOC never rests
        if expire_s is not None:
            order = replace(order, time_in_force=TimeInForce.GTD)
        command = place_command(order, self.config.order_deadline_s, expire_s)
        # Persist-then-send: the row is committed before anything leaves the process, so a
        # crash after this point leaves a pending_new row that reconciliation resolves.
        out.append(PersistOrder(command, intent.tag, intent.reduces_position, now, journal))
        # Marked before the registry shows the order: a reconciliation must never see it as
        # "not sent" while its send is pending or running.
        self.sending.add(cl_ord_id)
        self.registry.add(order)
        # Operators follow the daemon on its console: every order that leaves is announced.
        fields = {
            "cl_ord_id": cl_ord_id,
            "symbol": intent.symbol,
            "side": intent.side.value,
            "qty": str(intent.qty),
            "price": str(intent.limit_price),
            "tag": intent.tag,
        }
        out.append(Notify("order placed", fields))
        if intent.features:
            out.append(OpenLearningEntry(cl_ord_id, intent.symbol, intent.features, now))
        out.append(SendOrder(command))
        return decision

    def not_persisted(self, cl_ord_id: str, *, row_written: bool) -> None:
        """Its row (or learning row) could not be written, so it was never sent: without a
        row it is forgotten; with one its absence becomes provable (reconciliation settles
        it) instead of staying "being sent" forever."""
        self.sending.discard(cl_ord_id)
        if not row_written:
            self.registry.discard(cl_ord_id)

    def send_finished(self, cl_ord_id: str) -> None:
        """The venue's AddOrder returned (whatever the outcome)."""
        self.sending.discard(cl_ord_id)

    def cancel(self, intent: CancelIntent, ctx: RiskContext, out: Out) -> Decision:
        """Cancel one of our orders (through the gate, which always approves cancels)."""
        decision, flag = self.cancel_one(intent, ctx, out)
        self.flag_cancels(flag, ctx.now_ns, out)
        return decision

    def cancel_one(
        self, intent: CancelIntent, ctx: RiskContext, out: Out
    ) -> tuple[Decision, list[str]]:
        """Gate, mark and send one cancel; returns the ids whose flag is still to record."""
        decision = self.gate.check(intent, ctx)
        if isinstance(decision, Denied):  # the gate's policy could change: still audited
            self.denied(decision, ctx.now_ns, out)
            return decision, []
        order = self.registry.get(intent.cl_ord_id)
        if order is None or order.is_terminal or order.cl_ord_id in self.kept:
            return decision, []
        if order.cancel_requested and not self._cancel_due(order, ctx.now_ns):
            return decision, []
        flag: list[str] = []
        if not order.cancel_requested:
            order = request_cancel(order)
            self.registry.update(order)
            flag.append(order.cl_ord_id)
        self._cancel_sent_ns[order.cl_ord_id] = ctx.now_ns
        # Sent before the flag is written: a cancel only reduces risk, so a ledger that
        # cannot be written must never hold it back.
        command = CancelOrder(cl_ord_id=order.cl_ord_id, order_id=order.order_id)
        out.append(SendCancel(command, intent.reason))
        return decision, flag

    def flag_cancels(self, cl_ord_ids: list[str], now_ns: int, out: Out) -> None:
        """Record `cancel_requested` (best effort: the cancel has left already; on a
        restart the exchange's answer settles the order anyway)."""
        if not self.ledger_failing:
            out.extend(bulk_cancel.flags(cl_ord_ids, now_ns))

    def resend_cancel_now(self, cl_ord_id: str) -> None:
        """The next cancel of this order goes out at once (shutdown, emergency)."""
        self._cancel_sent_ns.pop(cl_ord_id, None)

    def keep(self, cl_ord_ids: set[str]) -> None:
        """A stopping daemon leaves these exits resting (no protective stop could take their
        place: a reducing order rather than none); no cancel of them is sent any more."""
        self.kept |= cl_ord_ids

    def cancel_sent(self, cl_ord_id: str, now_ns: int) -> None:
        self._cancel_sent_ns[cl_ord_id] = now_ns

    def amend(self, intent: AmendIntent, ctx: RiskContext, out: Out) -> Decision:
        """Amend one of our live orders in place (through the gate). An amend changes an
        order that already rests, so it is not persisted-then-sent like a new order: the
        row changes when the venue's `amended` report arrives (or reconciliation finds the
        new quantity); the request is written to `events` (kind `amend`) after it has left,
        best effort — like a cancel, a ledger that cannot be written never holds back an
        amend that keeps a protective stop in step with its position."""
        decision = self.gate.check(intent, ctx)
        if isinstance(decision, Denied):
            self.denied(decision, ctx.now_ns, out)
            return decision
        order = self.registry.get(intent.cl_ord_id)
        if order is None or order.is_terminal or order.cancel_requested:
            return decision  # closing anyway: nothing left to amend
        command = AmendOrder(
            cl_ord_id=order.cl_ord_id,
            symbol=order.symbol,
            order_id=order.order_id,
            qty=intent.qty,
            limit_price=intent.limit_price,
            trigger_price=intent.trigger_price,
            reduces_position=order.reduces_position,
        )
        row = {
            "cl_ord_id": order.cl_ord_id,
            "qty": "" if intent.qty is None else str(intent.qty),
            "limit_price": "" if intent.limit_price is None else str(intent.limit_price),
            "trigger_price": "" if intent.trigger_price is None else str(intent.trigger_price),
            "reason": intent.reason,
        }
        out.append(Notify("order amended", row))
        out.append(SendAmend(command))
        if not self.ledger_failing:
            out.append(RecordEvent("amend", row, ctx.now_ns))
        return decision

    def cancel_all_ours(
        self, reason: str, ctx: RiskContext, out: Out, spare: Callable[[Order], bool] | None = None
    ) -> int:
        """Cancel every live order of ours but those `spare` keeps (shutdown keeps the
        protective stops); see orders/bulk_cancel.py."""
        return bulk_cancel.cancel_all_ours(self, reason, ctx, out, spare)

    def cancel_everything(self, reason: str, ctx: RiskContext, out: Out) -> Decision:
        """Emergency, first step: every order of ours the registry knows; see
        orders/bulk_cancel.py (`cancel_listed` is the second step)."""
        return bulk_cancel.cancel_everything(self, reason, ctx, out)

    def cancel_listed(
        self, reason: str, listed: list[OrderSnapshot] | None, now_ns: int, out: Out
    ) -> int:
        """Emergency, second step: orders of ours the exchange lists that the registry
        lacks; returns how many cancels the emergency sent in all."""
        return bulk_cancel.cancel_listed(self, reason, listed, now_ns, out)

    def housekeeping(self, now: int, context: Callable[[], RiskContext], out: Out) -> list[str]:
        """Timeouts at `now`: old unfilled orders are cancelled, unconfirmed cancels re-sent;
        returns the ids of orders still unacknowledged after `ack_timeout_s` (→ reconcile).
        `context` gives the gate's context, built only when a cancel goes through the gate
        (most ticks cancel nothing)."""
        stale: list[str] = []
        self._retry_unpersisted(now, out)
        for order in self.registry.live():
            chore = housekeeping.chore(self, order, now)
            if chore == "stale":
                stale.append(order.cl_ord_id)
            elif chore is not None:
                self.cancel(CancelIntent(order.cl_ord_id, chore), context(), out)
        return stale

    def _retry_unpersisted(self, now_ns: int, out: Out) -> None:
        """Write the order rows whose update failed (not while the ledger is down); a
        write that fails again comes back through `update_failed`."""
        if self.ledger_failing:
            return
        for cl_ord_id, stored in list(self._unpersisted.items()):
            del self._unpersisted[cl_ord_id]
            current = self.registry.get(cl_ord_id)
            if current is not None:  # forgotten meanwhile: the next start-up reconciles it
                out.append(_update(stored, current, now_ns))

    def update_failed(self, effect: UpdateOrder) -> None:
        """The row still holds `effect.ledger_has`: write it again later."""
        self._unpersisted.setdefault(effect.cl_ord_id, effect.ledger_has)

    def _cancel_due(self, order: Order, now_ns: int) -> bool:
        sent = self._cancel_sent_ns.get(order.cl_ord_id)
        return sent is None or now_ns - sent >= self.config.cancel_retry_s * _NS

    def cancel_sent_ns(self, cl_ord_id: str) -> int | None:
        return self._cancel_sent_ns.get(cl_ord_id)

    @property
    def rows_to_retry(self) -> bool:
        return bool(self._unpersisted)

    def denied(self, denied: Denied, now_ns: int, out: Out) -> None:
        self.denials += 1
        by_rule = self.denials_by_rule
        by_rule[denied.rule] = by_rule.get(denied.rule, 0) + 1
        self.last_denial = denied
        fields = {"rule": str(denied.rule), "reason": denied.reason}
        out.append(Notify("risk denied", fields, warning=True))
        out.append(RecordEvent("risk_denied", denied.describe(), now_ns))

    # ------------------------------------------------------------------ events up
    def apply(self, event: OrderEvent) -> Applied | None:
        """Apply a venue event to its order; None if not ours. The caller records
        `new_fill` (if any), then calls `persist` (or `unrecorded` if the fill's row
        could not be written).

        Raises InvariantError for an illegal transition (the caller halts trading)."""
        routed = self.registry.apply(event)
        if routed is None:
            return None
        before, after = routed
        if after is before:
            return Applied(before, after, None)
        fill = _fill_of(event)
        if fill is None or fill.trade_id not in after.fill_ids - before.fill_ids:
            return Applied(before, after, None)
        return Applied(before, after, replace(fill, cl_ord_id=after.cl_ord_id))

    def unrecorded(self, applied: Applied) -> None:
        """The fill's row could not be inserted: not recorded, so not trusted either — the
        order goes back to what it was and the next report or reconciliation brings it."""
        self.registry.update(applied.before)

    def persist(self, applied: Applied, now_ns: int, out: Out) -> None:
        """Write the order's new state (its fill, if any, is recorded already)."""
        before, after = applied.before, applied.after
        if after is before:
            return
        out.append(_update(before, after, now_ns))
        if after.status is not before.status:
            fields = {"cl_ord_id": after.cl_ord_id, "status": after.status.value}
            out.append(Notify("order status", fields))
        if after.is_terminal:
            self._cancel_sent_ns.pop(after.cl_ord_id, None)

    def adopt(self, order: Order) -> bool:
        """Track an exchange order of ours that the ledger lacks (reconciliation); the
        caller records it (`AdoptOrder`). False if it is known already."""
        if self.registry.get(order.cl_ord_id) is not None:
            return False
        self.registry.add(replace(order, filled_qty=Decimal(0)))
        return True


def _update(before: Order, after: Order, now_ns: int) -> UpdateOrder:
    changed_reason = after.reason if after.reason != before.reason else None
    price, was = (
        (after.trigger_price, before.trigger_price)
        if after.order_type.is_triggered
        else (after.limit_price, before.limit_price)
    )
    return UpdateOrder(
        cl_ord_id=after.cl_ord_id,
        qty=after.qty if after.qty != before.qty else None,  # amended
        price=price if price != was else None,
        status=after.status if after.status is not before.status else None,
        txid=after.order_id if after.order_id != before.order_id else None,
        reason=changed_reason or None,
        venue_cum_qty=after.venue_cum_qty,
        updated_ns=after.updated_ns or now_ns,
        ledger_has=before,
    )


def _fill_of(event: OrderEvent) -> Fill | None:
    if isinstance(event, Fill):
        return event
    if isinstance(event, ExecutionReport):
        return event.fill
    return None


__all__ = ["Applied", "ManagerConfig", "OrderManager"]
