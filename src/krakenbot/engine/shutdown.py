"""The engine's stops: the orderly shutdown and the emergency stop.

Owns: `shutdown(runner, timeout_s, disarm)` — no new orders from now on; every live order of
ours but the protective stops is cancelled through the gate (`CancelOurs`), confirmed by
polling the venue's open orders (the streams may already be gone) and re-cancelled
(idempotent) while any is still listed; every position is put under its protective stop
(engine/shutdown_cover.py) — before that polling when Kraken's funds check guards the stop
(`Prep.fast`: no REST read while a position has no order at Kraken), else after it; then
one reconciliation settles the ledger if anything happened since start-up's (a stop soon
after start stays quick; cut short, the venue's list says what is still open). Bounded by
`timeout_s`; never raises. And `emergency(runner, reason)`: HALTED, every order of ours
cancelled (the stops too), in two steps (the orders we know, then the ones the exchange
lists).
Imports: domain, orders, engine. Must not import: net, store, app.

Positions are kept on a stop (README: "Positions are kept"), so their protective stops are
kept too: a daemon that is not running leaves every position covered at Kraken. A strategy's
resting exit stands in for the stop while it rests (Kraken holds the coins for one sell at a
time); the shutdown cancels it and places the stop in its place — recorded before it is
sent, in the ledger or, when the ledger cannot be written, in the order journal — or, when
neither can record it, leaves the exit resting (a reducing order is better than none). So
does a position whose stop has not taken the exit's place by the bound (the exit's cancel
kept failing): from then on no cancel of that exit is sent and the retries still waiting are
dropped (engine/shutdown_keep.py; one already on the wire cannot be recalled). The report
names the stops kept and placed, the exits left resting (still open) and every position
left without a stop (`uncovered`): the daemon then exits non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from krakenbot.domain.commands import CancelIntent
from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.order import OrderSnapshot
from krakenbot.engine import services, shutdown_cover, shutdown_keep
from krakenbot.engine.health import ShutdownReport
from krakenbot.engine.inputs import CancelOurs, EmergencyStop, OpenOrdersListed, Submit
from krakenbot.engine.shutdown_cover import Disarm
from krakenbot.orders.protection import is_protective

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

logger = logging.getLogger(__name__)
_NS = 1_000_000_000
_TAKEOVER_S = 1.0


async def shutdown(r: EngineRunner, timeout_s: float, disarm: Disarm | None) -> ShutdownReport:
    r.request_stop("shutdown")
    async with _venue_answers(r):
        return await _shutdown(r, timeout_s, disarm)


@contextlib.asynccontextmanager
async def _venue_answers(r: EngineRunner) -> AsyncIterator[None]:
    """The venue's stream keeps reaching the core while the shutdown works. The services'
    pump ends with the stop request, but the venue still answers what the shutdown sends:
    the protective stop placed now is acknowledged over REST (its txid arrives on that
    stream), an "unknown order" cancel answer too. Left in the venue's queue, the stop stayed
    pending in the ledger without its txid unless the settling reconciliation had the time
    (and the rate budget) to find it. Taken over only once the services' pump has ended, so
    no event is read by two consumers."""
    service = r.account_pump
    if service is not None and not service.done():
        await asyncio.wait({service}, timeout=_TAKEOVER_S)
    pump = asyncio.ensure_future(services.pump_account(r))
    try:
        yield
    finally:
        pump.cancel()
        await asyncio.wait({pump})
        if not pump.cancelled() and pump.exception() is not None:
            logger.error(
                "shutdown: the venue's stream failed", extra={"error": repr(pump.exception())}
            )
        if r.inflight:  # a handler cut loose by the cancel finishes first
            await asyncio.wait(set(r.inflight), timeout=_TAKEOVER_S)


async def _shutdown(r: EngineRunner, timeout_s: float, disarm: Disarm | None) -> ShutdownReport:
    clock, core = r.clock, r.core
    deadline = clock.monotonic_ns() + int(timeout_s * _NS)
    sent = 0
    still: tuple[str, ...] = ()
    polled = False
    cover = shutdown_cover.Cover()
    # At the bound, a bare position's exit is never cancelled again (engine/shutdown_keep.py).
    keeper = shutdown_keep.keep_at(r, timeout_s)
    try:
        prep = shutdown_cover.prepare(r)
        before = r.executor.cancels_sent
        await r.post(CancelOurs("shutdown", clock.now_ns(), prep.spare))
        sent = r.executor.cancels_sent - before
        await r.executor.drain(max(0.1, timeout_s / 3))
        if prep.fast:  # the stops first: no read while a position has no order at Kraken
            cover = await _cover(r, prep, deadline, disarm)
        still = await _confirm_cancelled(r, timeout_s, deadline, prep.spare, cover.listed)
        polled = True
        if not prep.fast:
            cover = await _cover(r, prep, deadline, disarm)
        counts = core.counts
        busy = bool(sent or counts.orders or counts.fills)
        if busy and clock.monotonic_ns() < deadline and r.ledger.failing is None:
            # Not with nothing sent/filled since start-up's, nor unwritable (writes wait).
            left_s = max(0.0, (deadline - clock.monotonic_ns()) / _NS)
            # Cut short, it leaves the registry behind the venue's list above: then that
            # list's "none open" stands (the next start-up records how they closed).
            settled = await shutdown_cover.settle(r, "shutdown", left_s)
            if settled or still:
                still = _open_ours(r)
            if settled:
                cover = _still_owed(r, cover)
        await r.executor.drain(0.1)
        cover = shutdown_keep.left(r, cover, still)
        still = tuple(sorted({*still, *cover.left}))
        detail = _detail(r, still, cover)
        if r.ledger.failing is None:  # else it would only wait out the busy timeout
            await r.repo.record_event("shutdown", {"cancels": str(sent), "detail": detail})
    except Exception as exc:
        logger.error("shutdown incomplete", extra={"error": repr(exc)})
        r.last_error = f"shutdown: {exc!r}"
        if not polled or r.ledger.failing is None:
            # Unknown: count our live orders as open. With the ledger failing the
            # registry cannot be settled, so the venue's own answer is the better one.
            still = still or _open_ours(r)
        uncovered = cover.uncovered if cover.checked else tuple(shutdown_cover.needing(r))
        if uncovered:
            shutdown_keep.keep_exits(r)
        return ShutdownReport(
            sent, still, False, f"shutdown failed: {exc!r}", _kept(r), cover.placed, uncovered
        )
    finally:
        keeper.cancel()
    clean = not still and r.ledger.failing is None and not cover.uncovered
    return ShutdownReport(sent, still, clean, detail, _kept(r), cover.placed, cover.uncovered)


def _still_owed(r: EngineRunner, cover: shutdown_cover.Cover) -> shutdown_cover.Cover:
    """A finished settling reconciliation may have recorded a sale nobody heard (an exit
    that sold the whole position just before its cancel, the private stream down): a
    position it closed owes no stop, and reporting it uncovered made a clean stop exit 1.
    Only positions now known flat leave the list; any other stays reported."""
    owed = set(shutdown_cover.needing(r))
    return replace(cover, uncovered=tuple(s for s in cover.uncovered if s in owed))


async def _cover(
    r: EngineRunner, prep: shutdown_cover.Prep, deadline: int, disarm: Disarm | None
) -> shutdown_cover.Cover:
    """Put the positions under their stops; a position left bare keeps its exit."""
    cover = await shutdown_cover.cover(r, prep, deadline, disarm)
    if cover.uncovered:
        shutdown_keep.keep_exits(r)
    return cover


def _detail(r: EngineRunner, still: tuple[str, ...], cover: shutdown_cover.Cover) -> str:
    detail = "all orders closed" if not still else f"{len(still)} order(s) still open"
    kept = _kept(r)
    if kept:
        detail += f"; {len(kept)} protective stop(s) kept"
        if cover.placed:
            detail += f" ({len(cover.placed)} placed now)"
    if cover.note:
        detail += f"; {cover.note}"
    if cover.uncovered:
        detail += f"; NO protective stop for {', '.join(cover.uncovered)}"
    failing = r.ledger.failing
    if failing is not None:
        detail += f"; {failing.describe()}"
    return detail


async def _confirm_cancelled(
    r: EngineRunner,
    timeout_s: float,
    deadline: int,
    spare: frozenset[str],
    listed: Sequence[OrderSnapshot] | None,
) -> tuple[str, ...]:
    """Poll until none of the cancelled orders is listed (re-cancelling; idempotent). The
    first look may be a list the venue has just given (`listed`): one read less."""
    clock = r.clock
    while True:
        still = await _ours_still_open(r, spare, listed)
        listed = None
        cancelling = [c for c in still if c not in r.core.manager.kept]  # the rest stay
        if not cancelling or clock.monotonic_ns() >= deadline:
            return still
        await clock.sleep(min(0.5, max(0.01, timeout_s / 20)))
        # Re-sent only after cancel_retry_s (idempotent).
        intents = tuple(CancelIntent(cl_ord_id, "shutdown") for cl_ord_id in cancelling)
        await r.post(Submit(intents, clock.now_ns()))


def _open_ours(r: EngineRunner) -> tuple[str, ...]:
    return tuple(o.cl_ord_id for o in r.core.registry.live() if not is_protective(o))


def _kept(r: EngineRunner) -> tuple[str, ...]:
    return tuple(o.cl_ord_id for o in r.core.registry.live() if is_protective(o))


async def _ours_still_open(
    r: EngineRunner, spare: frozenset[str], listed: Sequence[OrderSnapshot] | None
) -> tuple[str, ...]:
    live = {
        o.cl_ord_id: o
        for o in r.core.registry.live()
        if not is_protective(o) and o.cl_ord_id not in spare
    }
    if not live:
        return ()
    try:
        listed = await r.venue.open_orders() if listed is None else listed
    except Exception as exc:  # unknown: count them all as open and try again
        r.last_error = f"shutdown lookup: {exc!r}"
        return tuple(live)
    by_txid = {o.order_id: c for c, o in live.items() if o.order_id}
    found = {s.cl_ord_id for s in listed if s.cl_ord_id in live}
    found |= {by_txid[s.order_id] for s in listed if s.order_id in by_txid}
    # An order still pending locally and not listed may be in flight: keep waiting.
    pending = {c for c, o in live.items() if o.status is OrderStatus.PENDING_NEW}
    return tuple(sorted(found | (pending - found)))


async def emergency(r: EngineRunner, reason: str) -> None:
    """HALTED (persisted), then cancel every order of ours on the account (through the
    gate; never anyone else's); the outcome arrives as events, confirmed by reconciliation."""
    await r.post(EmergencyStop(reason, r.clock.now_ns()))
    await r.executor.wait_cancels(10.0)  # on their way before the listing
    listed: tuple[OrderSnapshot, ...] | None
    try:
        listed = tuple(await r.venue.open_orders())
    except Exception as exc:  # the cancels above are out; reconciliation follows
        logger.error("emergency: could not list open orders", extra={"error": repr(exc)})
        listed = None
    await r.post(OpenOrdersListed(reason, listed, r.clock.now_ns()))
    await r.executor.wait_cancels(10.0)
