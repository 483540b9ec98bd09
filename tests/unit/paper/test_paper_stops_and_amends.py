"""PaperVenue: the protective stop (stop-loss, trigger=last), amends in place, GTD expiry —
the same semantics as Kraken and the simulator, so paper and live behave alike."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal as D

from test_paper_venue import book, drain, order
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import AmendOrder, PlaceOrder
from krakenbot.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import (
    AmendRejected,
    ExecutionReport,
    MarketEvent,
    MarketTrade,
    StateEvent,
    Ticker,
)
from krakenbot.domain.instrument import Instrument
from krakenbot.paper.venue import PaperFeed, PaperVenue

START = 1_763_776_800_000_000_000


def venue(xlm: str = "100") -> tuple[PaperVenue, ManualClock]:
    clock = ManualClock(start_ns=START)
    return PaperVenue({"XLM/USD": XLM}, {"USD": D("100"), "XLM": D(xlm)}, clock=clock), clock


def stop_loss(cl: str = "kbstop", qty: str = "40", trigger: str = "0.280000") -> PlaceOrder:
    return PlaceOrder(
        cl_ord_id=cl,
        symbol="XLM/USD",
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        qty=D(qty),
        limit_price=None,
        reduces_position=True,
        trigger_price=D(trigger),
    )


def reports(events: Sequence[object]) -> list[ExecutionReport]:
    return [e for e in events if isinstance(e, ExecutionReport)]


async def test_a_stop_loss_rests_untriggered_then_sells_at_market_on_a_trade_through() -> None:
    v, _ = venue()
    v.on_book(book("0.289", "0.291"))
    await v.place(stop_loss())
    [new] = reports(drain(v))
    assert new.exec_type is ExecType.NEW and new.trigger is not None
    assert new.trigger.status == "untriggered" and new.trigger.price.absolute == D("0.280000")
    assert await v.balances() == {"USD": D("100"), "XLM": D("100")}
    [listed] = await v.open_orders()
    assert listed.order_type is OrderType.STOP_LOSS and listed.trigger_price == D("0.280000")
    v.on_book(book("0.279", "0.281"))  # the book alone does not fire it: a trade does
    v.on_last("XLM/USD", D("0.280001"))  # above the trigger: nothing
    assert reports(drain(v)) == []
    v.on_last("XLM/USD", D("0.280000"))  # at the trigger: fired, sold at the bid
    events = reports(drain(v))
    assert [e.exec_type for e in events] == [ExecType.STATUS, ExecType.TRADE, ExecType.FILLED]
    status, trade, _ = events
    assert status.trigger is not None and status.trigger.status == "triggered"
    assert trade.fill is not None and trade.fill.price == D("0.279")
    assert trade.fill.liquidity is not None and trade.fill.liquidity.value == "t"  # taker
    assert (await v.balances())["XLM"] == D("60")


async def test_a_stop_already_reached_fires_when_placed_and_takes_only_the_book() -> None:
    v, _ = venue()
    v.on_book(book("0.279", "0.281", qty="25"))
    v.on_last("XLM/USD", D("0.279"))
    await v.place(stop_loss())
    events = reports(drain(v))
    assert [e.exec_type for e in events] == [
        ExecType.NEW,
        ExecType.STATUS,
        ExecType.TRADE,
        ExecType.CANCELED,  # a market order takes what the book shows, the rest goes
    ]
    assert events[-1].reason == "Insufficient liquidity" and events[-1].cum_qty == D("25")


async def test_amend_in_place_keeps_the_ids_and_checks_the_funds() -> None:
    v, _ = venue(xlm="100")
    v.on_book(book("0.289", "0.291"))
    await v.place(stop_loss(qty="40"))
    drain(v)
    await v.amend(AmendOrder("kbstop", "XLM/USD", qty=D("70"), trigger_price=D("0.279000")))
    [amended] = reports(drain(v))
    assert amended.exec_type is ExecType.AMENDED and amended.cl_ord_id == "kbstop"
    assert amended.order_qty == D("70") and amended.trigger is not None
    assert amended.trigger.price.absolute == D("0.279000")
    v.on_last("XLM/USD", D("0.279500"))  # between the old and the new trigger: nothing
    assert reports(drain(v)) == []
    # More than the account holds (100 XLM) is refused, and so is an unknown order.
    await v.amend(AmendOrder("kbstop", "XLM/USD", qty=D("101")))
    await v.amend(AmendOrder("kbnone", "XLM/USD", qty=D("10")))
    refused = [e for e in drain(v) if isinstance(e, AmendRejected)]
    assert [r.error for r in refused] == ["EOrder:Insufficient funds", "EOrder:Unknown order"]
    assert (await v.open_orders())[0].qty == D("70")


async def test_amend_a_resting_limit_and_below_its_execution() -> None:
    v, _ = venue()
    v.on_book(book("0.289", "0.291"))
    await v.place(order("kbbuy", price="0.285", qty="30", post_only=True))
    drain(v)
    await v.amend(AmendOrder("kbbuy", "XLM/USD", limit_price=D("0.286")))
    [amended] = reports(drain(v))
    assert amended.limit_price == D("0.286")
    v.on_book(book("0.284", "0.286", qty="10"))  # 10 trade through our new price
    drain(v)
    await v.amend(AmendOrder("kbbuy", "XLM/USD", qty=D("10")))  # at the executed quantity
    [done] = reports(drain(v))
    assert done.exec_type is ExecType.CANCELED and done.cum_qty == D("10")


async def test_a_gtd_order_expires_on_its_own() -> None:
    v, clock = venue()
    v.on_book(book("0.289", "0.291"))
    gtd = order("kbgtd", price="0.280", time_in_force=TimeInForce.GTD, expire_s=60.0)
    await v.place(gtd)
    drain(v)
    clock.advance(59)
    v.on_book(book("0.289", "0.291"))
    assert reports(drain(v)) == []
    clock.advance(1)
    v.on_book(book("0.289", "0.291"))
    [expired] = reports(drain(v))
    assert expired.exec_type is ExecType.EXPIRED and expired.order_status is OrderStatus.EXPIRED


class Feed:
    def __init__(self, events: Sequence[MarketEvent | StateEvent]) -> None:
        self._events = events

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        return {"XLM/USD": XLM}

    async def events(self) -> AsyncIterator[MarketEvent | StateEvent]:
        for event in self._events:
            yield event


async def test_the_paper_feed_shows_the_venue_every_trade_price() -> None:
    v, _ = venue()
    v.on_book(book("0.270", "0.271"))
    await v.place(stop_loss(cl="kba", qty="10"))
    await v.place(stop_loss(cl="kbb", qty="10", trigger="0.275000"))
    drain(v)
    numbers = ("0.270", "1", "0.271", "1", "0.279", "1", "0.28", "0.27", "0.29", "0", "0")
    ticker = Ticker("XLM/USD", numbers, 1)
    trade = MarketTrade("XLM/USD", Side.SELL, D("0.2745"), D("1"), OrderType.MARKET, 7, 1)
    seen = [e async for e in PaperFeed(Feed([ticker, trade]), v).events()]
    assert seen == [ticker, trade]  # passed on unchanged ...
    fired = {e.cl_ord_id for e in reports(drain(v)) if e.exec_type is ExecType.FILLED}
    assert fired == {"kba", "kbb"}  # ... after the venue saw last 0.279 and then 0.2745
