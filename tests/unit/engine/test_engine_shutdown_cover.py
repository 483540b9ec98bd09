"""The shutdown puts every position back under its protective stop (engine/shutdown_cover.py).

A strategy's resting exit holds the position's coins in place of the protective stop; the
shutdown cancels it (not protective) and must place the stop in its place: recorded before
it is sent — in the ledger, or in the order journal while the ledger cannot be written —
after the dead man's switch is disarmed; and when no stop can be recorded, the exit keeps
resting. Every outcome is in the report (`placed`, `kept`, `uncovered`). Paper venue, a real
ledger (failing on demand), a ManualClock, reports pumped by hand."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal as D
from pathlib import Path

import pytest
from enginekit import SYM, Kit, paper_engine
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import CancelRejected
from krakenbot.engine.health import ShutdownReport
from krakenbot.errors import AmbiguousOrderError, RejectedError
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.paper.venue import PaperVenue
from krakenbot.store import LedgerRepository, open_ledger


class Lockable(LedgerRepository):
    """The real ledger, whose writes fail like a locked SQLite file while `locked`."""

    locked = False
    attempts: list[str]

    async def _guard(self, name: str) -> None:
        self.attempts.append(name)
        if self.locked:
            raise sqlite3.OperationalError("database is locked")

    async def add_order(self, *args: object, **kw: object) -> None:  # type: ignore[override]
        await self._guard("add_order")
        await super().add_order(*args, **kw)  # type: ignore[arg-type]

    async def update_order(self, *args: object, **kw: object) -> object:  # type: ignore[override]
        await self._guard("update_order")
        return await super().update_order(*args, **kw)  # type: ignore[arg-type]

    async def record_event(self, *args: object, **kw: object) -> object:  # type: ignore[override]
        await self._guard("record_event")
        return await super().record_event(*args, **kw)  # type: ignore[arg-type]

    async def set_state(self, key: str, value: str) -> None:
        await self._guard("set_state")
        await super().set_state(key, value)


@dataclass
class MemoryJournal:
    """An order journal in memory; `venue` tells what was listed when each record landed."""

    venue: PaperVenue
    broken: bool = False
    records: list[tuple[PlaceOrder, str, bool, bool]] = field(default_factory=list)
    probes: int = 0

    async def probe(self) -> None:
        if self.broken:
            raise OSError(28, "No space left on device")
        self.probes += 1

    async def record(
        self, order: PlaceOrder, *, tag: str, reduces_position: bool, created_ns: int
    ) -> None:
        if self.broken:
            raise OSError(28, "No space left on device")
        listed = {o.cl_ord_id for o in await self.venue.open_orders()}
        self.records.append((order, tag, reduces_position, order.cl_ord_id in listed))


@dataclass
class Switch:
    """The dead man's switch as the shutdown sees it: what the venue listed when disarmed."""

    venue: PaperVenue
    answer: bool = True
    seen: list[list[OrderType]] = field(default_factory=list)

    async def disarm(self) -> bool:
        self.seen.append([o.order_type for o in await self.venue.open_orders()])
        return self.answer


@dataclass
class Rig:
    kit: Kit
    repo: Lockable
    journal: MemoryJournal
    switch: Switch


class Refusing(PaperVenue):
    """Refuses every protective stop once `refuse` is set (say the funds are held)."""

    refuse = False

    async def place(self, command: PlaceOrder) -> None:
        if self.refuse and command.order_type is OrderType.STOP_LOSS:
            raise RejectedError("EOrder:Insufficient funds", endpoint="AddOrder")
        await super().place(command)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = Lockable(db, clock)
    repo.attempts = []
    venue = Refusing({SYM: XLM}, {"USD": D("100")}, clock=clock)
    journal = MemoryJournal(venue)
    engine = await paper_engine(venue, repo, clock, journal=journal)
    try:
        yield Rig(Kit(engine, venue, repo, clock), repo, journal, Switch(venue))
    finally:
        await db.close()


async def _exit_resting(rig: Rig) -> str:
    """A position of 30 XLM whose strategy exit (a limit sell above the market) rests in
    place of the protective stop; returns the exit's cl_ord_id."""
    kit = rig.kit
    await kit.long("30")
    exit_ = OrderIntent(
        SYM,
        Side.SELL,
        OrderType.LIMIT,
        D("30"),
        D("0.300"),
        time_in_force=TimeInForce.GTC,
        reduces_position=True,
        tag="exit",
    )
    await kit.engine.submit([exit_])
    await kit.settle()  # the stop's cancel is confirmed, the exit goes and rests
    assert kit.stops() == []
    [listed] = await kit.venue.open_orders()
    assert listed.order_type is OrderType.LIMIT and listed.side is Side.SELL
    return listed.cl_ord_id


async def _lock_the_ledger(rig: Rig) -> None:
    """A write fails: the ledger watch marks the ledger failing (as after the grace)."""
    rig.repo.locked = True
    kit = rig.kit
    await kit.engine.post(CancelRejected("kbx", "OX", "EOrder:Unknown order", kit.clock.now_ns()))
    assert kit.engine.ledger.failing is not None


async def _shutdown(rig: Rig) -> ShutdownReport:
    report = await rig.kit.engine.shutdown(5.0, rig.switch.disarm)
    await rig.kit.settle()
    return report


async def test_the_stop_takes_the_place_of_the_resting_exit(rig: Rig) -> None:
    exit_id = await _exit_resting(rig)
    report = await _shutdown(rig)
    [listed] = await rig.kit.venue.open_orders()  # the exit is gone, the stop rests
    assert listed.order_type is OrderType.STOP_LOSS and listed.qty == D("30")
    assert listed.cl_ord_id != exit_id and listed.side is Side.SELL
    assert report.placed == report.kept == (listed.cl_ord_id,)
    assert report.uncovered == () and report.clean and report.still_open == ()
    # Persisted under its client order id before it was sent (the normal path), then
    # settled by the shutdown's reconciliation.
    row = await rig.repo.order_by_cl_ord_id(listed.cl_ord_id)
    assert row is not None and row.tag == PROTECT_TAG and row.status is OrderStatus.OPEN
    assert rig.journal.records == [] and rig.journal.probes == 0
    # The switch was disarmed before the stop was placed (it would cancel it).
    assert rig.switch.seen == [[]]


async def test_a_kept_stop_needs_no_disarm_and_no_new_order(rig: Rig) -> None:
    stop = await rig.kit.long("30")
    report = await _shutdown(rig)
    assert report.kept == (stop.cl_ord_id,) and report.placed == () and report.uncovered == ()
    assert rig.switch.seen == []


async def test_with_the_ledger_failing_the_stop_is_journaled_before_it_is_sent(rig: Rig) -> None:
    exit_id = await _exit_resting(rig)
    await _lock_the_ledger(rig)
    before = list(rig.repo.attempts)
    report = await _shutdown(rig)
    [listed] = await rig.kit.venue.open_orders()
    assert listed.order_type is OrderType.STOP_LOSS and listed.qty == D("30")
    assert listed.cl_ord_id != exit_id
    # Recorded in the journal, not yet at the venue when it was; never tried in the ledger.
    [(order, tag, reduces, was_listed)] = rig.journal.records
    assert order.cl_ord_id == listed.cl_ord_id and tag == PROTECT_TAG and reduces
    assert order.trigger_price == listed.trigger_price and not was_listed
    assert rig.journal.probes == 1  # it was proven writable before the exit was cancelled
    tried = rig.repo.attempts[len(before) :]
    assert "set_state" in tried and "add_order" not in tried  # the ledger was tried first
    assert report.placed == (listed.cl_ord_id,) and report.uncovered == ()
    assert not report.clean  # the ledger failing: never a clean stop
    assert rig.switch.seen == [[]]


async def test_a_ledger_writable_again_takes_the_stop_the_usual_way(rig: Rig) -> None:
    await _exit_resting(rig)
    await _lock_the_ledger(rig)
    rig.repo.locked = False  # free again, but no write has told the watch yet
    report = await _shutdown(rig)
    [listed] = await rig.kit.venue.open_orders()
    assert listed.order_type is OrderType.STOP_LOSS and report.placed == (listed.cl_ord_id,)
    row = await rig.repo.order_by_cl_ord_id(listed.cl_ord_id)
    assert row is not None and row.tag == PROTECT_TAG  # persisted in the ledger
    assert rig.journal.records == [] and rig.journal.probes == 0
    assert report.clean and rig.kit.engine.ledger.failing is None


async def test_with_nothing_writable_the_exit_keeps_resting(rig: Rig) -> None:
    exit_id = await _exit_resting(rig)
    await _lock_the_ledger(rig)
    rig.journal.broken = True
    report = await _shutdown(rig)
    [listed] = await rig.kit.venue.open_orders()
    assert listed.cl_ord_id == exit_id  # a reducing order is better than none
    assert report.uncovered == (SYM,) and report.placed == () and not report.clean
    assert exit_id in report.still_open
    assert rig.switch.seen == []  # nothing was placed


async def test_a_stop_the_venue_refuses_is_reported_uncovered(rig: Rig) -> None:
    await _exit_resting(rig)
    venue = rig.kit.venue
    assert isinstance(venue, Refusing)
    venue.refuse = True
    report = await _shutdown(rig)
    assert await venue.open_orders() == []  # the exit was cancelled; no stop could rest
    assert report.uncovered == (SYM,) and not report.clean and report.placed == ()
    # Tried again while time remained (3 times): each refusal is on record.
    stops = [o for o in rig.kit.engine.core.registry.all() if o.tag == PROTECT_TAG]
    refused = [o for o in stops if o.status is OrderStatus.REJECTED]
    assert len(refused) == 3 and len(stops) == 4  # and the one the exit replaced: canceled


async def test_after_an_emergency_stop_no_stop_is_placed(rig: Rig) -> None:
    await rig.kit.long("30")
    await rig.kit.engine.emergency_stop("operator")
    await rig.kit.settle()
    report = await _shutdown(rig)
    assert await rig.kit.venue.open_orders() == []
    assert report.uncovered == () and report.placed == () and rig.switch.seen == []


class Losing(Refusing):
    """The first protective stop's AddOrder dies unanswered and never reaches the book (the
    process that sent it was killed: its row stays pending, with no send in flight)."""

    lose = True

    async def place(self, command: PlaceOrder) -> None:
        if self.lose and command.order_type is OrderType.STOP_LOSS:
            self.lose = False
            raise AmbiguousOrderError("the answer was lost", endpoint="AddOrder")
        await super().place(command)


async def test_a_stop_still_pending_with_no_send_in_flight_is_not_counted_on(
    tmp_path: Path,
) -> None:
    # Chaos crash loop: killed right after the stop's AddOrder left, restarted and stopped at
    # once: the ledger's pending stop was taken as the cover, none rested at Kraken, exit 1.
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    try:
        repo = Lockable(db, clock)
        repo.attempts = []
        venue = Losing({SYM: XLM}, {"USD": D("100")}, clock=clock)
        engine = await paper_engine(venue, repo, clock, journal=MemoryJournal(venue))
        kit = Kit(engine, venue, repo, clock)
        lost = await kit.long("30")
        assert lost.status is OrderStatus.PENDING_NEW and await venue.open_orders() == []
        report = await engine.shutdown(5.0, Switch(venue).disarm)
        await kit.settle()
        [listed] = await venue.open_orders()
        assert listed.order_type is OrderType.STOP_LOSS and listed.qty == D("30")
        assert listed.cl_ord_id != lost.cl_ord_id
        assert report.placed == (listed.cl_ord_id,) and report.uncovered == ()
    finally:
        await db.close()


async def test_a_settling_reconciliation_that_hangs_cannot_make_the_stop_overrun(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Soak at 3000x: the shutdown's reconciliation outlived the stop's budget, the daemon
    # took its safe stop (exit 1) and could leave the dead man's switch armed. A long
    # history or a drained rate budget must only leave the settling to the next start-up.
    await _exit_resting(rig)
    engine = rig.kit.engine

    async def hangs(reason: str) -> int:
        await asyncio.Event().wait()  # never answers (the REST calls wait for rate headroom)
        return 0

    monkeypatch.setattr(engine.reconciler, "run_once", hangs)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(10):
        report = await engine.shutdown(1.0, rig.switch.disarm)
    assert loop.time() - started < 3.0  # its budget (1 s, real time) and a little work
    [listed] = await rig.kit.venue.open_orders()  # the exit's place taken by the stop
    assert listed.order_type is OrderType.STOP_LOSS and report.placed == (listed.cl_ord_id,)
    assert report.uncovered == ()
    assert "did not finish in time" in (engine.last_error or "")
