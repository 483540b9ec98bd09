"""The order manager's bulk cancels: shutdown (`cancel_all_ours`) and the emergency stop
(`cancel_everything`). Split out of orders/manager.py for size; part of the manager (it uses
the manager's own cancel plumbing, so each cancel is gated, marked and sent the same way).

Only OUR orders are ever cancelled — those the registry holds, and on an emergency also any
order the exchange lists with our client-id prefix that the registry does not know (sent by an
earlier process whose ledger was lost, say). Never Kraken's CancelAll: it would also remove
orders that are not ours (placed by hand or by another program — an operator's own
trailing stop protecting a holding), and a careful operator expects our emergency button to
stop krakenbot, not to strip their own protection (README: Emergency stop). Every cancel is
on its way before any ledger write: a ledger that cannot be written never holds one back.
Imports: domain, risk, orders. Must not import: net, store, engine, app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from krakenbot.domain.commands import CancelIntent, CancelOrder
from krakenbot.domain.order import Order, unreadable_of
from krakenbot.orders.clordid import is_ours
from krakenbot.orders.fsm import request_cancel
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Decision, Denied

if TYPE_CHECKING:
    from krakenbot.orders.manager import OrderManager

logger = logging.getLogger(__name__)


async def cancel_all_ours(
    m: OrderManager, reason: str, ctx: RiskContext, spare: Callable[[Order], bool] | None = None
) -> int:
    """Cancel every live order of ours (but those `spare` keeps), each through the gate;
    returns how many."""
    count = 0
    flags: list[str] = []
    for order in m.registry.live():
        if spare is not None and spare(order):
            continue
        if order.cancel_requested:
            m._cancel_sent_ns.pop(order.cl_ord_id, None)  # send it again now
        _, flag = await m._cancel_one(CancelIntent(order.cl_ord_id, reason), ctx)
        flags += flag
        count += 1
    await m._flag_cancels(flags, ctx.now_ns)
    return count


async def cancel_everything(m: OrderManager, reason: str, ctx: RiskContext) -> Decision:
    """Emergency: every order of ours on the account, one cancel each, through the gate."""
    decision = m.gate.check(CancelOrder(), ctx)
    if isinstance(decision, Denied):
        await m._denied(decision, ctx.now_ns)
        return decision
    flags: list[str] = []
    commands: list[CancelOrder] = []
    for order in m.registry.live():
        if not order.cancel_requested:
            m.registry.update(request_cancel(order))
            flags.append(order.cl_ord_id)
        m._cancel_sent_ns[order.cl_ord_id] = ctx.now_ns
        commands.append(CancelOrder(cl_ord_id=order.cl_ord_id, order_id=order.order_id))
    try:
        await _send(m, commands, reason)  # first: never held back by the ledger
        commands += await _unknown_ours(m, commands, reason)
    finally:
        await m._flag_cancels(flags, ctx.now_ns)
        if not m.ledger_failing():
            try:
                row = {"reason": reason, "cancels": str(len(commands))}
                await m.repo.record_event("cancel_all", row, ctx.now_ns)
            except Exception as exc:
                logger.error("could not record the cancel-all", extra={"error": repr(exc)})
    return decision


async def _send(m: OrderManager, commands: list[CancelOrder], reason: str) -> None:
    await asyncio.gather(*(m._send_cancel(c, reason) for c in commands))


async def _unknown_ours(m: OrderManager, sent: list[CancelOrder], reason: str) -> list[CancelOrder]:
    """Cancel the open orders the venue lists as ours (by prefix) that were not just sent."""
    try:
        listed = await m.venue.open_orders()
    except Exception as exc:  # the cancels above are out; reconciliation follows
        logger.error("emergency: could not list open orders", extra={"error": repr(exc)})
        return []
    done = {i for c in sent for i in (c.cl_ord_id, c.order_id) if i}
    prefix = m.config.prefix
    found = [(s.cl_ord_id, s.order_id) for s in listed]
    found += [(u.cl_ord_id, u.order_id) for u in unreadable_of(listed)]
    extra = [
        CancelOrder(cl_ord_id=cl_ord_id, order_id=order_id)
        for cl_ord_id, order_id in found
        if is_ours(cl_ord_id, prefix) and cl_ord_id not in done and order_id not in done
    ]
    await _send(m, extra, reason)
    return extra
