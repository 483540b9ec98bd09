"""Paper venue invariants (hypothesis): for any orders and book moves, no order executes
more than its quantity, balances move exactly by the fills (cost and fees), and every
reported state is consistent with Kraken's lifecycle (the order FSM accepts it)."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.clock import ManualClock
from krakenbot.domain.commands import CancelOrder, PlaceOrder
from krakenbot.domain.enums import OrderType, Side, TimeInForce
from krakenbot.domain.events import BookTop, ExecutionReport, OrderAccepted, PriceLevel
from krakenbot.domain.instrument import Instrument
from krakenbot.domain.order import Order
from krakenbot.errors import RejectedError
from krakenbot.orders.fsm import apply
from krakenbot.paper.venue import PaperVenue

XLM = Instrument(
    symbol="XLM/USD",
    rest_id="XXLMZUSD",
    altname="XLMUSD",
    wsname="XLM/USD",
    base="XLM",
    quote="USD",
    price_decimals=3,
    lot_decimals=0,
    cost_decimals=5,
    tick_size=D("0.001"),
    ordermin=D("10"),
    costmin=D("0.5"),
)

prices = st.integers(min_value=280, max_value=300).map(lambda n: D(n) / 1000)
place = st.tuples(
    st.just("place"),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(min_value=10, max_value=40).map(D),
    prices,
    st.booleans(),  # post-only
    st.booleans(),  # IOC
)
move = st.tuples(st.just("book"), prices, st.integers(min_value=1, max_value=30).map(D))
cancel = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=10))
steps = st.lists(st.one_of(place, move, cancel), max_size=30)


def top(mid: D, qty: D) -> BookTop:
    return BookTop(
        "XLM/USD",
        (PriceLevel(mid - D("0.001"), qty), PriceLevel(mid - D("0.002"), qty)),
        (PriceLevel(mid + D("0.001"), qty), PriceLevel(mid + D("0.002"), qty)),
        True,
        1,
        1,
    )


async def _run(script: list[tuple[object, ...]]) -> None:
    start = {"USD": D("20"), "XLM": D("40")}
    venue = PaperVenue({"XLM/USD": XLM}, start, clock=ManualClock())
    venue.on_book(top(D("0.290"), D("15")))
    ids: list[str] = []
    for n, step in enumerate(script):
        if step[0] == "place":
            _, side, qty, price, post_only, ioc = step
            cmd = PlaceOrder(
                f"c{n}",
                "XLM/USD",
                side,  # type: ignore[arg-type]
                OrderType.LIMIT,
                qty,  # type: ignore[arg-type]
                price,  # type: ignore[arg-type]
                time_in_force=TimeInForce.IOC if ioc else TimeInForce.GTC,
                post_only=bool(post_only),
            )
            try:
                await venue.place(cmd)
                ids.append(cmd.cl_ord_id)
            except RejectedError:
                pass
        elif step[0] == "book":
            venue.on_book(top(step[1], step[2]))  # type: ignore[arg-type]
        elif ids:
            await venue.cancel(CancelOrder(cl_ord_id=ids[int(step[1]) % len(ids)]))  # type: ignore[call-overload]
    # Replay what the venue reported through the order FSM: it must accept every step.
    orders: dict[str, Order] = {}
    base = quote = D(0)
    while not venue._queue.empty():
        event = venue._queue.get_nowait()
        if isinstance(event, OrderAccepted):
            cmd_qty = next(o for o in venue._orders.values() if o.txid == event.order_id)
            c = cmd_qty.command
            orders[c.cl_ord_id] = apply(
                Order(c.cl_ord_id, c.symbol, c.side, c.order_type, c.qty, c.limit_price, 0),
                event,
            )
        elif isinstance(event, ExecutionReport):
            assert event.cl_ord_id is not None
            orders[event.cl_ord_id] = apply(orders[event.cl_ord_id], event)
            if event.fill is not None:
                sign = 1 if event.fill.side is Side.BUY else -1
                base += sign * event.fill.qty
                quote -= sign * event.fill.cost + event.fill.fee
    for order in orders.values():
        assert order.filled_qty <= order.qty
    balances = await venue.balances()
    assert balances.get("XLM", D(0)) == start["XLM"] + base
    assert balances["USD"] == start["USD"] + quote
    assert balances["USD"] >= 0 and balances.get("XLM", D(0)) >= 0


@settings(max_examples=60, deadline=None)
@given(steps)
def test_paper_venue_invariants(script: list[tuple[object, ...]]) -> None:
    asyncio.run(_run(script))
