"""PaperVenue: Kraken's lifecycle in-process — accept, rest, fill on the public book, fees,
balances, post-only and IOC rules, cancels, queries; PaperFeed shows it every book."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal as D

import pytest
from tests.instruments import XLM

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import CancelOrder, PlaceOrder
from krakenbot.domain.enums import ExecType, OrderStatus, OrderType, Side, TimeInForce
from krakenbot.domain.events import (
    BalanceChange,
    BookTop,
    CancelRejected,
    Event,
    ExecutionReport,
    MarketEvent,
    OrderAccepted,
    PriceLevel,
    StateEvent,
)
from krakenbot.domain.instrument import Instrument
from krakenbot.errors import RejectedError
from krakenbot.paper.venue import PaperFeed, PaperVenue


def book(bid: str, ask: str, qty: str = "100", verified: bool = True) -> BookTop:
    return BookTop(
        "XLM/USD",
        (PriceLevel(D(bid), D(qty)),),
        (PriceLevel(D(ask), D(qty)),),
        verified,
        1,
        1,
    )


def order(
    cl: str, side: Side = Side.BUY, price: str = "0.289", qty: str = "30", **kw: object
) -> PlaceOrder:
    return PlaceOrder(
        cl_ord_id=cl,
        symbol="XLM/USD",
        side=side,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D(price),
        **kw,  # type: ignore[arg-type]
    )


def drain(venue: PaperVenue) -> list[Event]:
    out: list[Event] = []
    while not venue._queue.empty():
        out.append(venue._queue.get_nowait())
    return out


def execs(events: list[Event]) -> list[ExecType]:
    return [e.exec_type for e in events if isinstance(e, ExecutionReport)]


@pytest.fixture
def venue() -> PaperVenue:
    v = PaperVenue({"XLM/USD": XLM}, {"USD": D("100"), "XLM": D("0")}, clock=ManualClock())
    v.on_book(book("0.289", "0.291"))
    return v


async def test_resting_buy_fills_as_maker_when_the_market_comes_down(venue: PaperVenue) -> None:
    await venue.place(order("a", post_only=True))
    first = drain(venue)
    assert isinstance(first[0], OrderAccepted) and execs(first) == [ExecType.NEW]
    venue.on_book(book("0.287", "0.2885", qty="20"))  # 20 shown at or below our 0.289
    partial = drain(venue)
    assert execs(partial) == [ExecType.TRADE]
    trade = next(e for e in partial if isinstance(e, ExecutionReport))
    assert trade.fill is not None and trade.fill.qty == D("20") and trade.fill.price == D("0.289")
    assert trade.fill.fee == D("0.01445000")  # maker 0.25 % of 5.78
    venue.on_book(book("0.287", "0.2885", qty="20"))
    assert execs(drain(venue)) == [ExecType.TRADE, ExecType.FILLED]
    balances = await venue.balances()
    assert balances["XLM"] == D("30")
    assert balances["USD"] == D("100") - D("0.289") * 30 - D("0.02167500")
    assert [o.status for o in await venue.closed_orders(0)] == [OrderStatus.FILLED]
    assert len(await venue.trades_history(0)) == 2


async def test_post_only_that_would_take_is_cancelled(venue: PaperVenue) -> None:
    await venue.place(order("a", price="0.291", post_only=True))
    events = drain(venue)
    assert execs(events) == [ExecType.CANCELED]
    assert (await venue.query_orders([events[0].order_id]))[0].reason == "Post only order"  # type: ignore[union-attr]


async def test_ioc_takes_what_is_there_and_cancels_the_rest(venue: PaperVenue) -> None:
    venue.on_book(book("0.289", "0.291", qty="10"))
    await venue.place(order("a", price="0.291", time_in_force=TimeInForce.IOC))
    events = drain(venue)
    assert execs(events) == [ExecType.NEW, ExecType.TRADE, ExecType.CANCELED]
    assert any(isinstance(e, BalanceChange) for e in events)
    assert await venue.open_orders() == []


async def test_refusals_are_synchronous_errors(venue: PaperVenue) -> None:
    with pytest.raises(RejectedError, match="Insufficient funds"):
        await venue.place(order("a", qty="1000"))
    with pytest.raises(RejectedError, match="Insufficient funds"):
        await venue.place(order("b", side=Side.SELL))
    with pytest.raises(RejectedError, match="Order minimum"):
        await venue.place(order("c", qty="5"))
    with pytest.raises(RejectedError, match="Unknown asset pair"):
        await venue.place(PlaceOrder("d", "BTC/USD", Side.BUY, OrderType.LIMIT, D("1"), D("1")))
    await venue.place(order("e"))
    with pytest.raises(RejectedError, match="Duplicate"):
        await venue.place(order("e"))
    with pytest.raises(RejectedError, match="Insufficient funds"):  # 'e' holds the funds
        await venue.place(order("f", qty="320"))
    venue.on_book(book("0.289", "0.291", verified=False))
    with pytest.raises(RejectedError, match="Unavailable"):
        await venue.place(order("g"))


async def test_cancel_and_cancel_all(venue: PaperVenue) -> None:
    await venue.place(order("a"))
    await venue.place(order("b", price="0.288"))
    drain(venue)
    await venue.cancel(CancelOrder(cl_ord_id="a"))
    assert execs(drain(venue)) == [ExecType.CANCELED]
    await venue.cancel(CancelOrder(cl_ord_id="a"))
    assert isinstance(drain(venue)[0], CancelRejected)
    await venue.cancel_all()
    await venue.cancel_all_after(60)
    assert execs(drain(venue)) == [ExecType.CANCELED]
    assert await venue.open_orders() == []


async def test_market_order_takes_from_the_book(venue: PaperVenue) -> None:
    cmd = PlaceOrder("m", "XLM/USD", Side.BUY, OrderType.MARKET, D("10"), None)
    await venue.place(cmd)
    events = drain(venue)
    assert execs(events) == [ExecType.NEW, ExecType.TRADE, ExecType.FILLED]


class ListFeed:
    def __init__(self, events: Sequence[MarketEvent | StateEvent]) -> None:
        self._events = list(events)

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        return {"XLM/USD": XLM}

    async def events(self) -> AsyncIterator[MarketEvent | StateEvent]:
        for event in self._events:
            yield event


async def test_paper_feed_shows_every_book_to_the_venue_first(venue: PaperVenue) -> None:
    await venue.place(order("a"))
    drain(venue)
    feed = PaperFeed(ListFeed([book("0.280", "0.285")]), venue)
    assert await feed.instruments(["XLM/USD"]) == {"XLM/USD": XLM}
    seen = [e async for e in feed.events()]
    assert len(seen) == 1 and ExecType.FILLED in execs(drain(venue))
    stream = venue.events()
    await venue.cancel(CancelOrder(cl_ord_id="zz"))
    got = await asyncio.wait_for(anext(stream), 1.0)
    assert isinstance(got, CancelRejected)
