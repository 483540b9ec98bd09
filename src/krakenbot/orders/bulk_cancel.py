"""The order manager's bulk cancels: shutdown (`cancel_all_ours`) and the emergency stop
(`cancel_everything`, then `cancel_listed`). Split out of orders/manager.py for size; part of
the manager (it uses the manager's own cancel plumbing, so each cancel is gated, marked and
sent the same way). Synchronous: effects are appended to `out`.

Only OUR orders are ever cancelled — those the registry holds, and on an emergency also any
order the exchange lists with our client-id prefix that the registry does not know (sent by an
earlier process whose ledger was lost, say). Never Kraken's CancelAll: it would also remove
orders that are not ours (placed by hand or by another program — an operator's own
trailing stop protecting a holding), and a careful operator expects our emergency button to
stop krakenbot, not to strip their own protection (README: Emergency stop). Every cancel is
on its way before any ledger write: a ledger that cannot be written never holds one back.

The emergency takes two steps because listing the exchange's open orders is I/O: the runner
carries out the first step's cancels, lists the open orders and hands them to the second
step, which cancels the unknown ones of ours and only then records the flags and the
`cancel_all` event.
Imports: domain, risk, orders. Must not import: net, store, engine, app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from krakenbot.domain.commands import CancelIntent, CancelOrder
from krakenbot.domain.effects import Effect, FlagCancel, RecordEvent, SendCancel
from krakenbot.domain.order import Order, OrderSnapshot, unreadable_of
from krakenbot.orders.clordid import is_ours
from krakenbot.orders.fsm import request_cancel
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Decision, Denied

if TYPE_CHECKING:
    from krakenbot.orders.manager import OrderManager


@dataclass(frozen=True, slots=True)
class Emergency:
    """An emergency between its two steps: what was sent and what is still to record."""

    reason: str
    sent: frozenset[str]  # cl_ord_ids and txids already cancelled
    flags: tuple[str, ...]
    count: int


def flags(cl_ord_ids: Iterable[str], now_ns: int) -> list[Effect]:
    return [FlagCancel(cl_ord_id, now_ns) for cl_ord_id in cl_ord_ids]


def cancel_all_ours(
    m: OrderManager,
    reason: str,
    ctx: RiskContext,
    out: list[Effect],
    spare: Callable[[Order], bool] | None = None,
) -> int:
    """Cancel every live order of ours (but those `spare` keeps), each through the gate;
    returns how many."""
    count = 0
    flagged: list[str] = []
    for order in m.registry.live():
        if spare is not None and spare(order):
            continue
        if order.cancel_requested:
            m.resend_cancel_now(order.cl_ord_id)  # send it again now
        _, flag = m.cancel_one(CancelIntent(order.cl_ord_id, reason), ctx, out)
        flagged += flag
        count += 1
    m.flag_cancels(flagged, ctx.now_ns, out)
    return count


def cancel_everything(
    m: OrderManager, reason: str, ctx: RiskContext, out: list[Effect]
) -> Decision:
    """Emergency: every order of ours the registry knows, one cancel each, through the gate."""
    decision = m.gate.check(CancelOrder(), ctx)
    if isinstance(decision, Denied):
        m.denied(decision, ctx.now_ns, out)
        return decision
    flagged: list[str] = []
    sent: set[str] = set()
    live = m.registry.live()
    for order in live:
        if not order.cancel_requested:
            m.registry.update(request_cancel(order))
            flagged.append(order.cl_ord_id)
        m.cancel_sent(order.cl_ord_id, ctx.now_ns)
        command = CancelOrder(cl_ord_id=order.cl_ord_id, order_id=order.order_id)
        out.append(SendCancel(command, reason))  # first: never held back by the ledger
        sent |= {i for i in (order.cl_ord_id, order.order_id) if i}
    m.emergency = Emergency(reason, frozenset(sent), tuple(flagged), len(live))
    return decision


def cancel_listed(
    m: OrderManager,
    reason: str,
    listed: list[OrderSnapshot] | None,
    now_ns: int,
    out: list[Effect],
) -> int:
    """Cancel the open orders the venue lists as ours (by prefix) that were not cancelled in
    the first step (`listed` is None when the listing failed: the first step's cancels are
    out and reconciliation follows); then record the flags and the `cancel_all` event."""
    step = m.emergency
    m.emergency = None
    if step is None or step.reason != reason:
        step = Emergency(reason, frozenset(), (), 0)
    prefix = m.config.prefix
    found = [(s.cl_ord_id, s.order_id) for s in listed or ()]
    found += [(u.cl_ord_id, u.order_id) for u in unreadable_of(listed or ())]
    extra = [
        CancelOrder(cl_ord_id=cl_ord_id, order_id=order_id)
        for cl_ord_id, order_id in found
        if is_ours(cl_ord_id, prefix) and cl_ord_id not in step.sent and order_id not in step.sent
    ]
    out.extend(SendCancel(command, reason) for command in extra)
    total = step.count + len(extra)
    if not m.ledger_failing:
        out.extend(flags(step.flags, now_ns))
        out.append(RecordEvent("cancel_all", {"reason": reason, "cancels": str(total)}, now_ns))
    return total
