"""The shutdown's last word on positions: each one ends under its protective stop at Kraken.

Owns: `prepare(runner)` (before the shutdown's cancels: which positions lack an active stop,
and which exits standing in for one must rest until a stop can be recorded), `cover(runner,
prep, deadline, disarm)` (place the missing stops and check, against the venue's own list,
that every position has one) and `needing(runner)`; where a new stop is recorded is
engine/shutdown_record.py's.
Imports: domain, orders, engine. Must not import: net, store, app. The decisions are the
core's (engine/cover.py `final`, engine/protect.py); this module only sequences them with
the venue's answers.

Kraken holds a position's coins for one sell at a time, so a strategy's resting exit stands
in for the protective stop. The shutdown cancels the exit and places the stop through the
gate and the order manager, recorded before it is sent:
* the ledger writable (the usual case): in the ledger. Between the exit's cancel and the
  stop's placement the position has no order at Kraken, and each REST read there waits for
  headroom once the budget is spent (starter tier: 15 points, 0.33 back a second; a daemon
  restarted a few times has spent them). So when Kraken's own funds check keeps a stop of
  the size the core knows from selling more than the position (engine/cover.py
  `funds_guard`: the account holds no more of the coin than the position), the stop goes
  out on the cancels' answers with no read before it: accepted, the exit is gone and sold
  nothing unseen; refused (`EOrder:Insufficient funds`: the exit still holds the coins, or
  sold some of them), one QueryOrders tells what became of it and the stop goes out again
  at the size left. Otherwise that lookup comes first. The reads that check the outcome
  (the venue's list, the exits' fate for the ledger, the settling reconciliation) follow
  the stop;
* the ledger failing (the safe stop after LEDGER_FAILURE_GRACE_S): one more ledger write is
  tried first (a locked ledger may be free again); if it fails, the exits are spared by the
  first cancels, the order journal is tried (a probe record, fsynced), and only when it can
  be written is the exit cancelled and the stop recorded there (`PersistOrder.journal`),
  sent, and imported into the ledger at the next start-up (store/orderjournal.py);
* neither writable: the exit keeps resting (a reducing order is better than nothing) and the
  position is reported `uncovered`.
A resting protective stop is never cancelled here. Before a stop is placed the dead man's
switch is disarmed (`disarm`): Kraken's CancelAllOrdersAfter would cancel the stop too. A
stop the venue refuses is tried again while time remains; whatever the venue does not list
at the end is reported. An exit's sale the lookup found but the core has not recorded
shrinks the stop (`CoverPositions.sold`); its trade is recorded by the settling
reconciliation or the next start-up's, once (by its trade id). With the ledger failing, a
fill the ledger could not take (an entry's, or the exit's during its cancel) still counts:
the stop is sized from the fills the daemon saw, capped at the balance Kraken last reported
(engine/cover.py `counted`), and the next start-up's reconciliation records those fills,
once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from krakenbot.domain.commands import CancelIntent
from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.engine.cover import funds_guard, holdings, shrunk
from krakenbot.engine.inputs import CoverPositions, Submit
from krakenbot.engine.reconciler import ClosedLookup
from krakenbot.engine.shutdown_record import Record, recordable
from krakenbot.orders.protection import is_protective

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

logger = logging.getLogger(__name__)
_POLL_S = 0.1
_ATTEMPTS = 3
_ANSWER_S = 1.0
_PLACE_S = 1.0  # kept for the stops after a lookup before them
_ANSWER_POLL_S = 0.01
# The dead man's switch's disarm (app/deadman.py): True once Kraken confirmed timeout 0.
Disarm = Callable[[], Awaitable[bool]]
_NOT_TOLD = ClosedLookup()
_RESTING = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


@dataclass(frozen=True, slots=True)
class Prep:
    bare: tuple[str, ...] = ()  # symbols whose position has no active protective stop
    spare: frozenset[str] = frozenset()  # exits the first cancels leave resting for now
    # The stops go out on the cancels' answers, before any read (engine/cover.py
    # `funds_guard`): Kraken refuses one too big, and only then is the exit looked up.
    fast: bool = False


@dataclass(frozen=True, slots=True)
class Cover:
    placed: tuple[str, ...] = ()  # protective stops placed by this shutdown
    uncovered: tuple[str, ...] = ()  # symbols whose position has no stop listed at the venue
    left: tuple[str, ...] = ()  # exits left resting: no stop could be recorded
    note: str = ""
    checked: bool = False  # `uncovered` comes from the venue's list
    listed: tuple[OrderSnapshot, ...] | None = None  # that list


def needing(r: EngineRunner, sold: Mapping[str, Decimal] | None = None) -> list[str]:
    """Symbols whose position needs a protective stop (nothing after an emergency stop,
    which cancels the stops too); `sold`: less what the exits' lookup found sold unseen."""
    core, h = r.core, shrunk(holdings(r.core, seen=True), sold)
    return core.protection.needing(h) if core.protection.enabled else []


def prepare(r: EngineRunner) -> Prep:
    core = r.core
    if not core.protection.enabled:
        return Prep()
    h = holdings(core, seen=True)
    active = {o.symbol for o in h.live if is_protective(o) and _may_rest(r, o)}
    bare = tuple(s for s in core.protection.needing(h) if s not in active)
    if r.ledger.failing is None:
        return Prep(bare, fast=bool(bare) and funds_guard(core, h, bare))
    # The ledger failing, the stand-in exits wait until a stop can be recorded somewhere.
    return Prep(bare, frozenset(core.protection.stand_ins(h)))


async def cover(r: EngineRunner, prep: Prep, deadline: int, disarm: Disarm | None) -> Cover:
    if not needing(r):
        return Cover(checked=True)
    placed: list[str] = []
    sold: Mapping[str, Decimal] = {}  # an exit sold out unseen leaves its position flat
    notes: list[str] = []
    left: tuple[str, ...] = ()
    if prep.bare:
        record = await recordable(r)
        if record is None:
            left = tuple(sorted(prep.spare))
            notes.append("no stop could be recorded (ledger and order journal unwritable)")
        else:
            await _cancel_spared(r, prep.spare, deadline)
            found = _NOT_TOLD
            if record is Record.JOURNAL:
                notes.append("protective stop(s) recorded in the order journal")
            elif not prep.fast:
                found = await _look_up(r, deadline)
            if disarm is not None and not await _disarmed(disarm):
                notes.append("the dead man's switch could not be disarmed")
            await _drop_lost(r)
            fast = prep.fast and record is Record.LEDGER
            placed, sold = await _place(r, deadline, fast, found.sold)
            if fast:  # now the reads: how the exits closed, for the ledger (a point)
                await _exits_closed(r, _left_s(r, deadline) / 2)
    listed = await _listing(r)
    if listed is None:
        return Cover(tuple(placed), tuple(needing(r, sold)), left, "; ".join(notes))
    covered = _covered(r, listed)
    uncovered = tuple(s for s in needing(r, sold) if s not in covered)
    return Cover(tuple(placed), uncovered, left, "; ".join(notes), True, tuple(listed))


async def settle(r: EngineRunner, reason: str, within_s: float) -> bool:
    """One reconciliation given at most `within_s`: a shutdown's settling run that runs out
    of time (a long history, a drained rate budget) is left to the next start-up — its
    window's mark does not move, so nothing is lost — and never makes the stop overrun its
    bound (the daemon would then take its safe stop, exit 1, and could leave the dead man's
    switch armed). Real time, like the shutdown's other waits on the venue."""
    try:
        async with asyncio.timeout(max(0.0, within_s)):
            await r.reconcile(reason)
    except TimeoutError:
        logger.warning("shutdown: reconciliation cut at its time limit", extra={"reason": reason})
        r.last_error = f"{reason}: reconciliation did not finish in time (the next start settles)"
        return False
    return True


async def _look_up(r: EngineRunner, deadline: int, *, refused: bool = False) -> ClosedLookup:
    """What became of the exits the shutdown cancelled (a fill shrinks the stop), from one
    QueryOrders: closed with nothing unseen (applied), or closed having sold coins the core
    has not recorded (`sold`: the stop is sized without them; their trades are recorded by
    the settling reconciliation after the stops, or at the next start-up, once). Only when
    it does not tell (an exit still open, a buy filled unseen, the lookup failed) a full
    reconciliation — five REST points or more — given half the time left at most: the
    stops must still go out after it. `refused`: a stop placed on the cancels' answers was
    refused, so an exit may still hold the coins (its cancel failed or is pending): when the
    lookup does not tell, the exits are cancelled again until the venue lists none first
    (as before a stop that waits for the cancels' confirmation)."""
    # All the time left but a moment for the stops: what it tells lets them go out at once.
    found = await _exits_closed(r, _left_s(r, deadline) - _PLACE_S)
    if not found.settled and not found.sold:
        if refused:
            await _cancel_spared(r, _cancelled(r), deadline)
        await settle(r, "shutdown: before the stops", _left_s(r, deadline) / 2)
    return found


async def _exits_closed(r: EngineRunner, within_s: float) -> ClosedLookup:
    """What one lookup of the orders the shutdown cancelled tells (engine/reconciler.py
    `look_up_closed`). The stop waits for what became of the exit standing in for it (a
    fill shrinks it); a full reconciliation costs five REST points or more, and with the
    budget spent (a daemon restarted a few times) that was seconds in which the position
    had no order at Kraken at all."""
    cancelled = _cancelled(r)
    if not cancelled:
        return _NOT_TOLD
    reason = "shutdown: before the stops"
    try:
        async with asyncio.timeout(max(0.0, within_s)):
            return await r.reconciler.look_up_closed(reason, cancelled)
    except Exception as exc:  # TimeoutError included: the full reconciliation then
        logger.warning("shutdown: the exits' lookup failed", extra={"error": repr(exc)})
        return _NOT_TOLD


def _cancelled(r: EngineRunner) -> frozenset[str]:
    """Our live orders but the protective stops that the shutdown asked to cancel."""
    live = r.core.registry.live()
    return frozenset(o.cl_ord_id for o in live if not is_protective(o) and o.cancel_requested)


async def _cancel_spared(r: EngineRunner, spare: frozenset[str], deadline: int) -> None:
    """Cancel the exits the first cancels spared (or whose cancel did not take), and wait
    until the venue lists none."""
    if not spare:
        return
    intents = tuple(CancelIntent(c, "shutdown: the protective stop takes its place") for c in spare)
    await r.post(Submit(intents, r.clock.now_ns()))
    await r.executor.drain(_left_s(r, deadline) / 3)
    while r.clock.monotonic_ns() < deadline:
        listed = await _listing(r)
        if listed is not None and not _listed_ids(r, listed, spare):
            return
        await r.clock.sleep(_POLL_S)
        await r.post(Submit(intents, r.clock.now_ns()))  # re-sent after cancel_retry_s


async def _drop_lost(r: EngineRunner) -> None:
    """Cancel (by client order id, through the gate) each protective stop still pending with
    no send of ours in flight: the gate counts a live exit against the position, so the stop
    that takes its place would be refused; a cancelled one no longer counts. If the lost
    AddOrder reached Kraken after all, the cancel removes it; if it were to arrive after the
    cancel, Kraken holds the coins for one sell and refuses one of the two."""
    lost = [o.cl_ord_id for o in _stops(r) if not _may_rest(r, o) and not o.cancel_requested]
    if lost:
        reason = "shutdown: its AddOrder's answer was lost; another stop takes its place"
        intents = tuple(CancelIntent(c, reason) for c in lost)
        await r.post(Submit(intents, r.clock.now_ns()))


async def _place(
    r: EngineRunner, deadline: int, fast: bool, sold: Mapping[str, Decimal]
) -> tuple[list[str], Mapping[str, Decimal]]:
    """Place the missing stops (tried again after a refusal while time remains); the
    cl_ord_ids of those placed. Each is recorded in the ledger, or in the order journal
    while the ledger fails (also when it fails just now, at the stop's own row). `fast`:
    the first goes out on the cancels' answers alone, with no read before it (the position
    has no order at Kraken until it rests, and with the REST budget spent each read waits
    seconds); Kraken's answer to it decides (`_answer`): refused, the exits are looked up
    and, when that tells, the stop goes out again at once. `sold`: see `_look_up`; returned
    as last known."""
    tried: list[str] = []
    for _ in range(_ATTEMPTS):
        journal = r.ledger.failing is not None and r.journal is not None
        if fast:  # the exits whose cancel was sent count as gone: Kraken checks the funds
            gone = frozenset(o.cl_ord_id for o in r.core.registry.live() if o.cancel_requested)
        else:
            listed = await _listing(r)
            gone = _gone(r, listed) if listed is not None else frozenset()
        before = {o.cl_ord_id for o in r.core.registry.all() if is_protective(o)}
        shrink = tuple(sold.items())
        await r.post(CoverPositions("shutdown", r.clock.now_ns(), gone, journal, shrink))
        new = [
            o.cl_ord_id
            for o in r.core.registry.all()
            if is_protective(o) and o.cl_ord_id not in before
        ]
        if not new:
            if not journal and r.ledger.failing is not None and r.journal is not None:
                continue  # its row could not be written: the journal next
            break
        tried += new
        await r.executor.drain(max(0.1, _left_s(r, deadline)))
        if fast:
            answer = await _answer(r, frozenset(new), deadline)
            if answer is _Answer.RESTING:
                break  # the venue's list at the end checks it (`cover`)
            if answer is _Answer.REFUSED:
                # Too big (the exit sold some coins unseen) or the exit still holds them:
                # what became of it, then the stop again at the size that tells.
                found = await _look_up(r, deadline, refused=True)
                fast, sold = found.settled or bool(found.sold), found.sold
                continue
            fast = False
        listed = await _until_listed(r, frozenset(new), deadline)
        covered = _covered(r, listed or ())
        if all(s in covered for s in needing(r)) or r.clock.monotonic_ns() >= deadline:
            break
    live = {o.cl_ord_id for o in _stops(r)}
    return [c for c in tried if c in live], sold


class _Answer(StrEnum):
    RESTING = "resting"  # every stop acknowledged: Kraken accepted it
    REFUSED = "refused"  # one refused (`EOrder:Insufficient funds` above all)
    UNKNOWN = "unknown"  # still pending, or closed otherwise: the venue's list tells


async def _answer(r: EngineRunner, placed: frozenset[str], deadline: int) -> _Answer:
    """Kraken's answer to the stops just `placed`, from their acknowledgements (the AddOrder
    answer reaches the core over the venue's stream: `_venue_answers`), waited for a moment
    without a read."""
    until = min(deadline, r.clock.monotonic_ns() + int(_ANSWER_S * 1e9))
    while True:
        stops = [r.core.registry.get(c) for c in placed]
        statuses = {OrderStatus.REJECTED if o is None else o.status for o in stops}
        if OrderStatus.REJECTED in statuses:
            return _Answer.REFUSED
        if statuses <= _RESTING:
            return _Answer.RESTING
        if statuses - _RESTING - {OrderStatus.PENDING_NEW} or r.clock.monotonic_ns() >= until:
            return _Answer.UNKNOWN
        await r.clock.sleep(_ANSWER_POLL_S)


async def _until_listed(
    r: EngineRunner, placed: frozenset[str], deadline: int
) -> Sequence[OrderSnapshot] | None:
    """The venue's list once every stop just `placed` that is still pending is on it (or
    time is up)."""
    while True:
        listed = await _listing(r)
        if listed is not None:
            pending = frozenset(
                o.cl_ord_id
                for o in _stops(r)
                if o.cl_ord_id in placed and o.status is OrderStatus.PENDING_NEW
            )
            if len(_listed_ids(r, listed, pending)) == len(pending):
                return listed
        if r.clock.monotonic_ns() >= deadline:
            return listed
        await r.clock.sleep(_POLL_S)


async def _disarmed(disarm: Disarm) -> bool:
    try:
        return await disarm()
    except Exception as exc:
        logger.error("shutdown: disarming the dead man's switch failed", extra={"error": repr(exc)})
        return False


async def _listing(r: EngineRunner) -> Sequence[OrderSnapshot] | None:
    try:
        return await r.venue.open_orders()
    except Exception as exc:  # unknown: the caller tries again or reports
        r.last_error = f"shutdown lookup: {exc!r}"
        return None


def _stops(r: EngineRunner) -> list[Order]:
    return [o for o in r.core.registry.live() if is_protective(o)]


def _listed_ids(
    r: EngineRunner, listed: Sequence[OrderSnapshot], among: frozenset[str]
) -> set[str]:
    """Which of our orders `among` the venue lists (by cl_ord_id or txid)."""
    by_txid = {o.order_id: o.cl_ord_id for o in r.core.registry.all() if o.order_id}
    found = {s.cl_ord_id for s in listed if s.cl_ord_id in among}
    found |= {c for s in listed if (c := by_txid.get(s.order_id)) is not None and c in among}
    return found


def _gone(r: EngineRunner, listed: Sequence[OrderSnapshot]) -> frozenset[str]:
    """Our live orders the venue no longer lists: closed there, whatever the registry still
    says. A pending one counts unless its AddOrder is being sent now (it may be in flight)."""
    known = {o.cl_ord_id for o in r.core.registry.live() if not _sending(r, o)}
    return frozenset(known - _listed_ids(r, listed, frozenset(known)))


def _sending(r: EngineRunner, order: Order) -> bool:
    return order.status is OrderStatus.PENDING_NEW and order.cl_ord_id in r.executor.sending


def _may_rest(r: EngineRunner, stop: Order) -> bool:
    """Whether a protective stop of ours can be covering its position: not being cancelled,
    and acknowledged or being sent now. A stop still pending with no send in flight (an
    earlier run's, whose answer was lost with the process) is not counted on: if it never
    reached Kraken the position would stay bare. Placing another is safe — Kraken holds the
    coins for one sell at a time, so if the lost one shows up after all, one of the two is
    refused, and at most one rests."""
    if stop.cancel_requested:
        return False
    return stop.status is not OrderStatus.PENDING_NEW or stop.cl_ord_id in r.executor.sending


def _covered(r: EngineRunner, listed: Sequence[OrderSnapshot]) -> set[str]:
    """Symbols with an active protective stop of ours on the venue's list."""
    active = {o.cl_ord_id: o.symbol for o in _stops(r) if not o.cancel_requested}
    return {active[c] for c in _listed_ids(r, listed, frozenset(active))}


def _left_s(r: EngineRunner, deadline: int) -> float:
    return max(0.0, (deadline - r.clock.monotonic_ns()) / 1e9)


__all__ = ["Cover", "Prep", "cover", "needing", "prepare", "settle"]
