"""The engine's shutdown: cancel our orders but the protective stops, confirm, settle.

Owns: `shutdown(engine, timeout_s)` and the venue lookup of which of our orders are still
open. Split out of engine/engine.py for size; part of the engine (it takes the engine's lock
and uses its manager, venue and reconciliation). Imports: domain, orders, engine.health.
Must not import: net, store, app.

Positions are kept on a stop (README: "Positions are kept"), so their protective stops are
kept too: a daemon that is not running leaves every position covered at Kraken. They are
reported as `kept`, not as orders that failed to cancel.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from krakenbot.domain.commands import CancelIntent
from krakenbot.domain.enums import OrderStatus
from krakenbot.engine.health import ShutdownReport
from krakenbot.orders.protection import is_protective

if TYPE_CHECKING:
    from krakenbot.engine.engine import Engine

logger = logging.getLogger(__name__)
_NS = 1_000_000_000


def _open_ours(e: Engine) -> tuple[str, ...]:
    return tuple(o.cl_ord_id for o in e.registry.live() if not is_protective(o))


def _kept(e: Engine) -> tuple[str, ...]:
    return tuple(o.cl_ord_id for o in e.registry.live() if is_protective(o))


async def shutdown(e: Engine, timeout_s: float) -> ShutdownReport:
    """Cancel every live order of ours but the protective stops (through the gate), confirm
    by polling the venue's open orders (1 REST point per poll: the streams may already be
    gone), then one reconciliation settles the ledger if anything happened since start-up's.
    Bounded by `timeout_s`; never raises."""
    e.request_stop("shutdown")
    clock = e.clock
    deadline = clock.monotonic_ns() + int(timeout_s * _NS)
    sent = 0
    still: tuple[str, ...] = ()
    polled = False
    try:
        async with e.lock:
            ctx = e.risk_context()
            sent = await e.manager.cancel_all_ours("shutdown", ctx, spare=is_protective)
        await e.manager.drain(max(0.1, timeout_s / 3))
        while True:
            still = await _still_open(e)
            polled = True
            if not still or clock.monotonic_ns() >= deadline:
                break
            await clock.sleep(min(0.5, max(0.01, timeout_s / 20)))
            async with e.lock:  # re-sent only after cancel_retry_s (idempotent)
                for cl_ord_id in still:
                    await e.manager.cancel(CancelIntent(cl_ord_id, "shutdown"), e.risk_context())
        busy = bool(sent or e._counts.orders or e._counts.fills)
        if busy and clock.monotonic_ns() < deadline and e.ledger.failing is None:
            # Settles the ledger. Not with nothing sent or filled since start-up's (a stop
            # soon after start stays quick), nor unwritable (every write would wait).
            await e.reconcile("shutdown")
            still = _open_ours(e)
        await e.manager.drain(0.1)
        detail = "all orders closed" if not still else f"{len(still)} order(s) still open"
        kept = _kept(e)
        if kept:
            detail += f"; {len(kept)} protective stop(s) kept"
        failing = e.ledger.failing
        if failing is not None:
            detail += f"; {failing.describe()}"
        await e.repo.record_event("shutdown", {"cancels": str(sent), "detail": detail})
    except Exception as exc:
        logger.error("shutdown incomplete", extra={"error": repr(exc)})
        e.note_error(f"shutdown: {exc!r}")
        if not polled or e.ledger.failing is None:
            # Unknown: count our live orders as open. With the ledger failing the
            # registry cannot be settled, so the venue's own answer is the better one.
            still = still or _open_ours(e)
        return ShutdownReport(sent, still, False, f"shutdown failed: {exc!r}", _kept(e))
    clean = not still and e.ledger.failing is None
    return ShutdownReport(sent, still, clean, detail, kept)


async def _still_open(e: Engine) -> tuple[str, ...]:
    live = {o.cl_ord_id: o for o in e.registry.live() if not is_protective(o)}
    if not live:
        return ()
    try:
        listed = await e.venue.open_orders()
    except Exception as exc:  # unknown: count them all as open and try again
        e.note_error(f"shutdown lookup: {exc!r}")
        return tuple(live)
    by_txid = {o.order_id: c for c, o in live.items() if o.order_id}
    found = {s.cl_ord_id for s in listed if s.cl_ord_id in live}
    found |= {by_txid[s.order_id] for s in listed if s.order_id in by_txid}
    # An order still pending locally and not listed may be in flight: keep waiting.
    pending = {c for c, o in live.items() if o.status is OrderStatus.PENDING_NEW}
    return tuple(sorted(found | (pending - found)))
