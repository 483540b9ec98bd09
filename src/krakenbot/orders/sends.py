"""The order manager's calls to the venue, and how each outcome becomes an event.

Owns: `send_place` (AddOrder: ambiguous → reconcile, refused → `OrderRejected`),
`send_cancel`, and the amend path (`amend`: gate → send in the background; `send_amend`:
refused → `AmendRejected`). Split out of orders/manager.py for size; part of the manager (it
uses the manager's gate, registry, tasks and `deliver`). Imports: domain, errors, orders,
risk, resilience. Must not import: net, store, engine, app.

An amend changes an order that already rests, so it is not "persisted then sent" like a new
order: the order row changes when the venue's `amended` report arrives (or reconciliation
finds the new quantity); the request itself is written to `events` (kind `amend`) after it
has left, best effort — like a cancel, a ledger that cannot be written never holds back an
amend that keeps a protective stop in step with its position.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from krakenbot.domain.commands import AmendIntent, AmendOrder, CancelOrder, PlaceOrder
from krakenbot.domain.events import AmendRejected, OrderRejected, ReconcileRequested
from krakenbot.errors import (
    AmbiguousOrderError,
    FatalExchangeError,
    RejectedError,
    TransientError,
)
from krakenbot.resilience.breaker import CircuitOpenError
from krakenbot.risk.context import RiskContext
from krakenbot.risk.decision import Decision, Denied

if TYPE_CHECKING:
    from krakenbot.orders.manager import OrderManager

logger = logging.getLogger(__name__)


async def send_place(m: OrderManager, command: PlaceOrder) -> None:
    m.orders_sent += 1
    now = m._clock.now_ns
    cl_ord_id = command.cl_ord_id
    try:
        await m.venue.place(command)
    except AmbiguousOrderError as exc:
        logger.warning("order outcome unknown", extra={"cl_ord_id": cl_ord_id})
        await m._deliver(ReconcileRequested(f"ambiguous submission {cl_ord_id}: {exc}", now()))
    except RejectedError as exc:
        error = exc.kraken_error or str(exc)
        await m._deliver(OrderRejected(cl_ord_id, error, "place", now()))
    except CircuitOpenError as exc:
        # Our own breaker refused to send it: not an exchange failure (counting it as
        # one would keep the breaker open by its own refusals).
        await m._deliver(OrderRejected(cl_ord_id, f"not sent: {exc}", "place", now(), True))
    except TransientError as exc:
        # Provably not placed (the venue says so): a local rejection, never a re-send.
        error = f"not placed: {exc.kraken_error or exc}"
        await m._deliver(OrderRejected(cl_ord_id, error, "place", now()))
    except FatalExchangeError as exc:
        await m._deliver(OrderRejected(cl_ord_id, str(exc), "place", now()))
        if m.on_fatal is not None:
            m.on_fatal(exc)
    except Exception as exc:  # an unknown failure: the request may have left
        logger.exception("order send failed", extra={"cl_ord_id": cl_ord_id})
        await m._deliver(ReconcileRequested(f"send of {cl_ord_id} failed: {exc!r}", now()))


async def send_cancel(m: OrderManager, command: CancelOrder, reason: str) -> None:
    try:
        await m.venue.cancel(command)
    except FatalExchangeError as exc:
        if m.on_fatal is not None:
            m.on_fatal(exc)
    except Exception as exc:  # retried by housekeeping; the order's fate comes as events
        logger.warning(
            "cancel failed",
            extra={"cl_ord_id": command.cl_ord_id, "reason": reason, "error": repr(exc)},
        )


async def amend(m: OrderManager, intent: AmendIntent, ctx: RiskContext) -> Decision:
    """Gate, then send the amend in the background; the outcome arrives as events."""
    decision = m.gate.check(intent, ctx)
    if isinstance(decision, Denied):
        await m._denied(decision, ctx.now_ns)
        return decision
    order = m.registry.get(intent.cl_ord_id)
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
    logger.info(
        "order amended",
        extra={
            "cl_ord_id": order.cl_ord_id,
            "qty": str(intent.qty),
            "limit_price": str(intent.limit_price),
            "trigger_price": str(intent.trigger_price),
            "reason": intent.reason,
        },
    )
    m._spawn(send_amend(m, command))
    if not m.ledger_failing():
        row = {
            "cl_ord_id": order.cl_ord_id,
            "qty": "" if intent.qty is None else str(intent.qty),
            "limit_price": "" if intent.limit_price is None else str(intent.limit_price),
            "trigger_price": "" if intent.trigger_price is None else str(intent.trigger_price),
            "reason": intent.reason,
        }
        try:
            await m.repo.record_event("amend", row, ctx.now_ns)
        except Exception as exc:
            logger.error("could not record an amend", extra={"error": repr(exc)})
    return decision


async def send_amend(m: OrderManager, command: AmendOrder) -> None:
    now = m._clock.now_ns
    try:
        await m.venue.amend(command)
    except FatalExchangeError as exc:
        await m._deliver(AmendRejected(command.cl_ord_id, command.order_id, str(exc), now()))
        if m.on_fatal is not None:
            m.on_fatal(exc)
    except RejectedError as exc:
        error = exc.kraken_error or str(exc)
        await m._deliver(AmendRejected(command.cl_ord_id, command.order_id, error, now()))
    except Exception as exc:  # unknown whether it applied: reconciliation reads the order
        logger.warning("amend failed", extra={"cl_ord_id": command.cl_ord_id, "error": repr(exc)})
        error = f"amend outcome unknown: {exc!r}"
        await m._deliver(AmendRejected(command.cl_ord_id, command.order_id, error, now()))
