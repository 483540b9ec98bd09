"""What the order manager's timer-tick housekeeping owes each live order, and when.

Owns: `chore(manager, order, now)` (what `OrderManager.housekeeping(now)` does about
`order`: "stale" — unacknowledged after `ack_timeout_s`, reconciliation's to look up —, a
cancel's reason — "cancel_retry" for a cancel unconfirmed after `cancel_retry_s`,
"order_timeout" for an unfilled order older than `order_timeout_s` — or None), `due(manager,
now)` (whether housekeeping at `now` would do anything) and `next_at(manager)` (a time
before which, with no order changing, it provably does nothing). A backtest skips the timer
ticks with nothing to do (engine/ticks.py `due`). Part of orders/manager.py, split out for
size. Imports: domain, orders. Pure and synchronous.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.order import Order

if TYPE_CHECKING:
    from krakenbot.orders.manager import OrderManager

_NS = 1_000_000_000
_EARLY_NS = 1_000  # deadlines are told a little early: the tests divide in floats


def chore(manager: OrderManager, order: Order, now: int) -> str | None:
    cfg = manager.config
    age_s = (now - order.created_ns) / _NS
    if order.status is OrderStatus.PENDING_NEW and age_s >= cfg.ack_timeout_s:
        return "stale"
    if order.cancel_requested:
        return "cancel_retry" if manager._cancel_due(order, now) else None
    pending = order.status is OrderStatus.PENDING_NEW
    late = not order.reduces_position and not pending and age_s >= cfg.order_timeout_s
    return "order_timeout" if late else None


def due(manager: OrderManager, now: int) -> bool:
    """Whether `housekeeping(now)` would do anything: a failed row update to write again,
    or a chore for a live order."""
    if manager.rows_to_retry and not manager.ledger_failing:
        return True
    return any(chore(manager, order, now) is not None for order in manager.registry.live())


def next_at(manager: OrderManager) -> int | None:
    """A time before which housekeeping does nothing, orders unchanged (None: never)."""
    if manager.rows_to_retry:
        return 0
    cfg = manager.config
    found: int | None = None
    for order in manager.registry.live():
        waits: list[tuple[int, float]] = []
        if order.status is OrderStatus.PENDING_NEW:
            waits.append((order.created_ns, cfg.ack_timeout_s))
        if order.cancel_requested:
            sent = manager.cancel_sent_ns(order.cl_ord_id)
            waits.append((0, 0.0) if sent is None else (sent, cfg.cancel_retry_s))
        elif not order.reduces_position and order.status is not OrderStatus.PENDING_NEW:
            waits.append((order.created_ns, cfg.order_timeout_s))
        for since, wait_s in waits:
            at = since + int(wait_s * _NS) - _EARLY_NS
            found = at if found is None else min(found, at)
    return found
