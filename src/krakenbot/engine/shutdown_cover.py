"""The shutdown's last word on positions: each one ends under its protective stop at Kraken.

Owns: `prepare(runner)` (before the shutdown's cancels: which positions lack an active
stop), `cover(runner, prep, deadline, disarm)` (place the missing stops and check, against
the venue's own list, that every position has one) and `needing(runner)`.
Imports: domain, orders, engine. Must not import: net, store, app. The decisions are the
core's (engine/cover.py `final`, engine/protect.py); this module only sequences them with
the venue's answers.

Kraken holds a position's coins for one sell at a time, so a strategy's resting exit stands
in for the protective stop. The shutdown's cancels take the exit like every order of ours
but the stops; once the venue no longer lists it, one reconciliation tells the core what
became of it (a fill shrinks the stop), and the stop is placed through the gate and the
order manager — persisted in the ledger, then sent. A resting protective stop is never
cancelled here. Before a stop is placed the dead man's switch is disarmed (`disarm`):
Kraken's CancelAllOrdersAfter would cancel the stop too. A stop the venue refuses is tried
again while time remains; whatever the venue does not list at the end is reported.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from krakenbot.domain.enums import OrderStatus
from krakenbot.domain.order import Order, OrderSnapshot
from krakenbot.engine.cover import holdings
from krakenbot.engine.inputs import CoverPositions
from krakenbot.orders.protection import is_protective

if TYPE_CHECKING:
    from krakenbot.engine.runner import EngineRunner

logger = logging.getLogger(__name__)
_POLL_S = 0.1
_ATTEMPTS = 3
# The dead man's switch's disarm (app/deadman.py): True once Kraken confirmed timeout 0.
Disarm = Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class Prep:
    bare: tuple[str, ...] = ()  # symbols whose position has no active protective stop


@dataclass(frozen=True, slots=True)
class Cover:
    placed: tuple[str, ...] = ()  # protective stops placed by this shutdown
    uncovered: tuple[str, ...] = ()  # symbols whose position has no stop listed at the venue
    note: str = ""
    checked: bool = False  # `uncovered` comes from the venue's list


def needing(r: EngineRunner) -> list[str]:
    """Symbols whose position needs a protective stop (nothing after an emergency stop,
    which cancels the stops too)."""
    core = r.core
    return core.protection.needing(holdings(core)) if core.protection.enabled else []


def prepare(r: EngineRunner) -> Prep:
    core = r.core
    if not core.protection.enabled:
        return Prep()
    h = holdings(core)
    active = {o.symbol for o in h.live if is_protective(o) and not o.cancel_requested}
    return Prep(tuple(s for s in core.protection.needing(h) if s not in active))


async def cover(r: EngineRunner, prep: Prep, deadline: int, disarm: Disarm | None) -> Cover:
    if not needing(r):
        return Cover(checked=True)
    placed: list[str] = []
    notes: list[str] = []
    if prep.bare:
        if r.ledger.failing is None:
            await r.reconcile("shutdown: before the protective stops")
        if disarm is not None and not await _disarmed(disarm):
            notes.append("the dead man's switch could not be disarmed")
        placed = await _place(r, deadline)
    listed = await _listing(r)
    if listed is None:
        return Cover(tuple(placed), tuple(needing(r)), "; ".join(notes))
    covered = _covered(r, listed)
    uncovered = tuple(s for s in needing(r) if s not in covered)
    return Cover(tuple(placed), uncovered, "; ".join(notes), checked=True)


async def _place(r: EngineRunner, deadline: int) -> list[str]:
    """Place the missing stops (tried again after a refusal while time remains); the
    cl_ord_ids of those placed."""
    tried: list[str] = []
    for _ in range(_ATTEMPTS):
        listed = await _listing(r)
        gone = _gone(r, listed) if listed is not None else frozenset()
        before = {o.cl_ord_id for o in r.core.registry.all() if is_protective(o)}
        await r.post(CoverPositions("shutdown", r.clock.now_ns(), gone))
        new = [
            o.cl_ord_id
            for o in r.core.registry.all()
            if is_protective(o) and o.cl_ord_id not in before
        ]
        if not new:
            break
        tried += new
        await r.executor.drain(max(0.1, _left_s(r, deadline)))
        listed = await _until_listed(r, deadline)
        covered = _covered(r, listed or ())
        if all(s in covered for s in needing(r)) or r.clock.monotonic_ns() >= deadline:
            break
    live = {o.cl_ord_id for o in _stops(r)}
    return [c for c in tried if c in live]


async def _until_listed(r: EngineRunner, deadline: int) -> Sequence[OrderSnapshot] | None:
    """The venue's list once every stop of ours still pending is on it (or time is up)."""
    while True:
        listed = await _listing(r)
        if listed is not None:
            pending = [o for o in _stops(r) if o.status is OrderStatus.PENDING_NEW]
            shown = _listed_ids(r, listed, frozenset(o.cl_ord_id for o in pending))
            if len(shown) == len(pending):
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
    """Our live orders (acknowledged: a pending one may be in flight) the venue no longer
    lists: closed there, whatever the registry still says."""
    acked = {o.cl_ord_id for o in r.core.registry.live() if o.status is not OrderStatus.PENDING_NEW}
    return frozenset(acked - _listed_ids(r, listed, frozenset(acked)))


def _covered(r: EngineRunner, listed: Sequence[OrderSnapshot]) -> set[str]:
    """Symbols with an active protective stop of ours on the venue's list."""
    active = {o.cl_ord_id: o.symbol for o in _stops(r) if not o.cancel_requested}
    return {active[c] for c in _listed_ids(r, listed, frozenset(active))}


def _left_s(r: EngineRunner, deadline: int) -> float:
    return max(0.0, (deadline - r.clock.monotonic_ns()) / 1e9)


__all__ = ["Cover", "Prep", "cover", "needing", "prepare"]
