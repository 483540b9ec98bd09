"""The engine keeps every position covered by an exchange-side protective stop.

Paper venue (Kraken's lifecycle in-process), a real ledger and a ManualClock: events are
pumped into the engine by hand, so each step is deterministic. Covers: the stop placed when
a position opens and amended in place as it grows; an exit waiting for the stop's cancel
(and dropped when the stop filled instead); a restart finding the stop resting; a refused
stop (entries refused, the position exited); HALTED and emergency stops; shutdown keeping
the stop; what the dead man's switch is told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path

import pytest
from enginekit import paper_engine, xlm_top
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import OrderIntent, PlaceOrder
from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce, TradingState
from krakenbot.domain.events import BookTop, PriceLevel, TimerTick
from krakenbot.domain.order import Order
from krakenbot.engine.engine import Engine
from krakenbot.engine.protect import SwitchNeed
from krakenbot.errors import RejectedError
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.paper.venue import PaperVenue
from krakenbot.risk.decision import Rule
from krakenbot.store import LedgerRepository, open_ledger

SYM = "XLM/USD"
S = 1_000_000_000


class Kit:
    def __init__(
        self, engine: Engine, venue: PaperVenue, repo: LedgerRepository, clock: ManualClock
    ) -> None:
        self.engine, self.venue, self.repo, self.clock = engine, venue, repo, clock

    async def settle(self) -> None:
        """Let every send finish and every venue report reach the engine."""
        for _ in range(20):
            await self.engine.manager.drain(1.0)
            queue = self.venue._queue
            if queue.empty():
                return
            while not queue.empty():
                await self.engine.post(queue.get_nowait())

    async def book(self, bid: str, ask: str) -> None:
        book = xlm_top(self.clock.now_ns(), bid, ask)
        self.venue.on_book(book)
        await self.engine.post(book)
        await self.settle()

    async def thin_book(self, bid: str, ask: str, ask_qty: str) -> None:
        """A book whose best ask (at or below our bid) shows only `ask_qty`."""
        now = self.clock.now_ns()
        book = BookTop(
            SYM,
            (PriceLevel(D(bid), D("100")),),
            (PriceLevel(D(ask), D(ask_qty)),),
            True,
            now,
            now,
        )
        self.venue.on_book(book)
        await self.engine.post(book)
        await self.settle()

    async def thin_book_bid(self, bid: str, bid_qty: str) -> None:
        """A book whose best bid shows only `bid_qty` (an IOC sell takes no more)."""
        now = self.clock.now_ns()
        book = BookTop(
            SYM,
            (PriceLevel(D(bid), D(bid_qty)),),
            (PriceLevel(D(bid) + D("0.001"), D("100")),),
            True,
            now,
            now,
        )
        self.venue.on_book(book)
        await self.engine.post(book)
        await self.settle()

    async def tick(self, seconds: float = 1.0) -> None:
        self.clock.advance(seconds)
        await self.engine.post(TimerTick(self.clock.now_ns()))
        await self.settle()

    async def buy(self, qty: str, price: str) -> None:
        intent = OrderIntent(SYM, Side.BUY, OrderType.LIMIT, D(qty), D(price), post_only=True)
        await self.engine.submit([intent])
        await self.settle()

    async def sell_ioc(self, qty: str, price: str, tag: str = "stop_loss") -> None:
        intent = OrderIntent(
            SYM,
            Side.SELL,
            OrderType.LIMIT,
            D(qty),
            D(price),
            time_in_force=TimeInForce.IOC,
            reduces_position=True,
            tag=tag,
        )
        await self.engine.submit([intent])
        await self.settle()

    def stops(self) -> list[Order]:
        return [o for o in self.engine.registry.live() if o.tag == PROTECT_TAG]

    async def long(self, qty: str = "30") -> Order:
        """An entry at 0.289 that fills; returns the protective stop that follows."""
        await self.book("0.289", "0.291")
        await self.buy(qty, "0.289")
        await self.book("0.287", "0.288")  # the market trades through the bid: filled
        [stop] = self.stops()
        return stop


@pytest.fixture
async def kit(tmp_path: Path) -> AsyncIterator[Kit]:
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    venue = PaperVenue({SYM: XLM}, {"USD": D("100")}, clock=clock)
    engine = await paper_engine(venue, repo, clock)
    try:
        yield Kit(engine, venue, repo, clock)
    finally:
        await db.close()


def expected_trigger(engine: Engine) -> D:
    avg = engine.portfolio.avg_entry(SYM)
    assert avg is not None
    return XLM.quantize_price(avg * D("0.97"))


async def test_an_open_position_gets_a_protective_stop_at_the_exchange(kit: Kit) -> None:
    assert kit.engine.switch_need() == SwitchNeed(entry=False, protection=False)
    await kit.book("0.289", "0.291")
    await kit.buy("30", "0.289")
    assert kit.engine.switch_need() == SwitchNeed(entry=True, protection=False)
    await kit.book("0.287", "0.288")
    [stop] = kit.stops()
    assert stop.status is OrderStatus.OPEN and stop.order_type is OrderType.STOP_LOSS
    assert stop.side is Side.SELL and stop.qty == D("30") and stop.reduces_position
    assert stop.trigger_price == expected_trigger(kit.engine)
    [listed] = [o for o in await kit.venue.open_orders() if o.cl_ord_id == stop.cl_ord_id]
    assert listed.order_type is OrderType.STOP_LOSS and listed.trigger_price == stop.trigger_price
    row = await kit.repo.order_by_cl_ord_id(stop.cl_ord_id)  # persisted before it was sent
    assert row is not None and row.tag == PROTECT_TAG and row.trigger_price == stop.trigger_price
    assert kit.engine.switch_need() == SwitchNeed(entry=False, protection=True)
    # The strategy never sees it: it belongs to the engine.
    assert kit.engine.view.working_orders(SYM) == []
    await kit.tick()
    assert [o.cl_ord_id for o in kit.stops()] == [stop.cl_ord_id]  # one, not one per tick


async def test_the_stop_follows_the_position_by_amends_in_place(kit: Kit) -> None:
    await kit.book("0.289", "0.291")
    await kit.buy("34", "0.289")
    await kit.thin_book("0.287", "0.2885", "10")  # only 10 XLM trade through our bid
    assert kit.engine.portfolio.position(SYM) == D("10")
    [stop] = kit.stops()
    assert stop.qty == D("10") and stop.trigger_price == expected_trigger(kit.engine)
    assert kit.engine.switch_need() == SwitchNeed(entry=True, protection=True)
    kit.clock.advance(1)
    await kit.thin_book("0.286", "0.2870", "24")  # the rest fills, the average moves
    assert kit.engine.portfolio.position(SYM) == D("34")
    [amended] = kit.stops()
    assert amended.cl_ord_id == stop.cl_ord_id  # the same order, amended in place
    assert amended.qty == D("34") and amended.trigger_price == expected_trigger(kit.engine)
    row = await kit.repo.order_by_cl_ord_id(stop.cl_ord_id)
    assert row is not None and row.qty == D("34") and row.trigger_price == amended.trigger_price
    amends = [e.payload["cl_ord_id"] for e in await kit.repo.events("amend")]
    assert amends == [stop.cl_ord_id]


async def test_an_exit_waits_for_the_stops_cancel_then_goes(kit: Kit) -> None:
    stop = await kit.long("30")
    await kit.book("0.287", "0.288")
    intent = OrderIntent(
        SYM,
        Side.SELL,
        OrderType.LIMIT,
        D("30"),
        D("0.287"),
        time_in_force=TimeInForce.IOC,
        reduces_position=True,
        tag="stop_loss",
    )
    await kit.engine.submit([intent])
    # Nothing else left with the cancel: Kraken still holds the 30 XLM for the stop.
    after_submit = {o.tag: o for o in kit.engine.registry.all()}
    assert "stop_loss" not in after_submit and after_submit[PROTECT_TAG].cancel_requested
    assert set(kit.engine.protection.waiting) == {SYM}
    await kit.settle()  # the cancel is confirmed: the exit goes, and fills at the bid
    orders = {o.tag: o for o in kit.engine.registry.all()}
    assert orders[PROTECT_TAG].status is OrderStatus.CANCELED
    assert orders["stop_loss"].status is OrderStatus.FILLED
    assert orders["stop_loss"].created_ns >= orders[PROTECT_TAG].updated_ns
    assert kit.engine.portfolio.position(SYM) == 0 and not kit.engine.protection.waiting
    assert kit.stops() == [] and stop.cl_ord_id == orders[PROTECT_TAG].cl_ord_id
    await kit.tick()
    assert kit.stops() == []  # flat: no new stop


async def test_a_partial_exit_is_followed_by_a_stop_for_the_rest(kit: Kit) -> None:
    await kit.long("30")
    await kit.thin_book_bid("0.287", "12")  # only 12 XLM bid at 0.287
    await kit.sell_ioc("30", "0.287")
    assert kit.engine.portfolio.position(SYM) == D("18")
    [stop] = kit.stops()  # a new stop covers what remains
    assert stop.qty == D("18") and stop.trigger_price == expected_trigger(kit.engine)


async def test_when_the_stop_fills_first_the_waiting_exit_is_dropped(kit: Kit) -> None:
    stop = await kit.long("30")
    assert stop.trigger_price is not None
    # The market collapses: a trade below the trigger fires the stop at the exchange; its
    # reports are still on their way when the strategy's own exit comes.
    crash = str(stop.trigger_price - D("0.001"))
    kit.clock.advance(1)
    kit.venue.on_book(xlm_top(kit.clock.now_ns(), crash, str(stop.trigger_price)))
    kit.venue.on_last(SYM, D(crash))
    intent = OrderIntent(
        SYM,
        Side.SELL,
        OrderType.LIMIT,
        D("30"),
        D(crash),
        time_in_force=TimeInForce.IOC,
        reduces_position=True,
        tag="stop_loss",
    )
    await kit.engine.submit([intent])  # waits for the stop's cancel (which comes too late)
    await kit.settle()
    orders = {o.tag: o for o in kit.engine.registry.all()}
    assert orders[PROTECT_TAG].status is OrderStatus.FILLED
    assert "stop_loss" not in orders  # dropped: nothing was left to sell
    assert kit.engine.portfolio.position(SYM) == 0 and not kit.engine.protection.waiting
    [rejected] = [e.payload for e in await kit.repo.events("cancel_rejected")]
    assert rejected["cl_ord_id"] == stop.cl_ord_id


async def test_a_restart_finds_the_stop_resting_and_places_no_second(kit: Kit) -> None:
    stop = await kit.long("30")
    restarted = await paper_engine(kit.venue, kit.repo, kit.clock)  # same ledger, same venue
    assert await restarted.reconcile("start-up") >= 0
    again = Kit(restarted, kit.venue, kit.repo, kit.clock)
    await again.tick()
    assert [o.cl_ord_id for o in again.stops()] == [stop.cl_ord_id]
    listed = [o for o in await kit.venue.open_orders() if o.order_type is OrderType.STOP_LOSS]
    assert [o.cl_ord_id for o in listed] == [stop.cl_ord_id]


class NoStops(PaperVenue):
    """Kraken refuses the protective stop (say the funds are held elsewhere)."""

    async def place(self, command: PlaceOrder) -> None:
        if command.order_type is OrderType.STOP_LOSS:
            raise RejectedError("EOrder:Insufficient funds", endpoint="AddOrder")
        await super().place(command)


@pytest.fixture
async def refusing(tmp_path: Path) -> AsyncIterator[Kit]:
    """A kit whose venue refuses every protective stop."""
    clock = ManualClock(start_ns=1_763_776_800_000_000_000)
    db = await open_ledger(tmp_path / "t.db", clock)
    repo = LedgerRepository(db, clock)
    venue = NoStops({SYM: XLM}, {"USD": D("100")}, clock=clock)
    try:
        yield Kit(await paper_engine(venue, repo, clock), venue, repo, clock)
    finally:
        await db.close()


async def test_a_refused_stop_is_recorded_and_the_position_exited(refusing: Kit) -> None:
    k, repo = refusing, refusing.repo
    await k.book("0.289", "0.291")
    await k.buy("30", "0.289")
    await k.thin_book("0.287", "0.2885", "10")  # 10 XLM filled, the entry still rests
    engine = k.engine
    [note] = [e.payload for e in await repo.events("unprotected")]
    assert note["symbol"] == SYM and "Insufficient funds" in str(note["reason"])
    # ... so the position went at once (an IOC sell at the bid, through the gate).
    assert engine.portfolio.position(SYM) == 0
    exits = [o for o in engine.registry.all() if o.tag == "unprotected_exit"]
    assert [o.status for o in exits] == [OrderStatus.FILLED]
    assert exits[0].time_in_force is TimeInForce.IOC and exits[0].limit_price == D("0.287")
    assert SYM not in engine.protection.unprotected  # flat: nothing left to protect


async def test_unprotected_pair_refuses_entries_with_a_clear_reason(refusing: Kit) -> None:
    k, venue, clock = refusing, refusing.venue, refusing.clock
    await k.book("0.289", "0.291")
    await k.buy("30", "0.289")
    # No bid at all: the unprotected position cannot be exited yet.
    now = clock.now_ns()
    empty = BookTop(SYM, (), (PriceLevel(D("0.2885"), D("10")),), True, now, now)
    venue.on_book(empty)
    await k.engine.post(empty)
    await k.settle()
    engine = k.engine
    assert engine.portfolio.position(SYM) == D("10")
    assert SYM in engine.protection.unprotected
    decision = engine.gate.check(
        OrderIntent(SYM, Side.BUY, OrderType.LIMIT, D("10"), D("0.2885"), post_only=True),
        engine.risk_context(),
    )
    assert getattr(decision, "rule", None) is Rule.UNPROTECTED
    assert "protective stop could not be placed" in getattr(decision, "reason", "")
    clock.advance(1)
    await k.thin_book_bid("0.286", "100")  # a bid appears: the position is exited
    assert engine.portfolio.position(SYM) == 0


async def test_protective_stops_pass_when_halted_but_not_after_an_emergency(kit: Kit) -> None:
    await kit.engine.set_trading_state(TradingState.HALTED, "test: reconcile conflict")
    await kit.book("0.289", "0.291")
    kit.engine.trading_state = TradingState.ACTIVE  # the entry itself needs ACTIVE
    await kit.buy("30", "0.289")
    await kit.engine.set_trading_state(TradingState.HALTED, "test: reconcile conflict")
    await kit.book("0.287", "0.288")  # filled while HALTED
    [stop] = kit.stops()  # placed all the same: it can only shrink the position
    assert stop.status is OrderStatus.OPEN
    await kit.engine.emergency_stop("test")
    await kit.settle()
    await kit.tick()
    assert kit.stops() == []  # the operator asked for every order of ours to go


async def test_shutdown_keeps_the_protective_stop_resting(kit: Kit) -> None:
    stop = await kit.long("30")
    await kit.buy("3", "0.280")  # an entry resting beside it (exposure allows 3 XLM more)
    report = await kit.engine.shutdown(5.0)
    await kit.settle()
    assert report.clean and report.still_open == () and report.kept == (stop.cl_ord_id,)
    listed = await kit.venue.open_orders()
    assert [o.cl_ord_id for o in listed] == [stop.cl_ord_id]  # only the stop rests


async def test_the_switch_is_told_when_what_it_must_cover_changes(kit: Kit) -> None:
    calls: list[SwitchNeed] = []
    kit.engine.on_switch_need = lambda: calls.append(kit.engine.switch_need())
    await kit.long("30")
    assert calls[0] == SwitchNeed(entry=True, protection=False)
    assert calls[-1] == SwitchNeed(entry=False, protection=True)
    count = len(calls)
    await kit.tick()
    assert len(calls) == count  # nothing changed: not told again
