"""The operator's commands to a running engine: pause/resume/halt after a cancel-all, and
flatten (`krakenbot flatten`, the dashboard's Flatten button).

Same kit as test_engine_protection.py: paper venue, real ledger, ManualClock, events pumped
by hand."""

from __future__ import annotations

from decimal import Decimal as D

from enginekit import xlm_top
from test_engine_protection import SYM, Kit, kit
from tests.instruments import XLM

from krakenbot.domain.enums import OrderStatus, OrderType, Side, TimeInForce, TradingState
from krakenbot.domain.events import BookTop
from krakenbot.domain.order import Order
from krakenbot.engine.flatten import FLATTEN_TAG, plan_flatten
from krakenbot.orders.protection import PROTECT_TAG

__all__ = ["kit"]  # the fixture, shared with test_engine_protection.py


async def test_resume_after_a_cancel_all_puts_the_protective_stop_back(kit: Kit) -> None:
    await kit.long("30")
    await kit.engine.emergency_stop("operator: cancel all")
    await kit.settle()
    await kit.tick()
    assert kit.stops() == [] and kit.engine.core.trading_state is TradingState.HALTED
    await kit.engine.set_trading_state(TradingState.ACTIVE, "operator: resume")
    await kit.tick()
    [stop] = kit.stops()  # the position trades again: never without its cover
    assert stop.status is OrderStatus.OPEN and stop.qty == D("30")


async def test_pause_after_a_cancel_all_protects_too_but_halt_does_not(kit: Kit) -> None:
    await kit.long("30")
    await kit.engine.emergency_stop("operator: cancel all")
    await kit.settle()
    await kit.engine.set_trading_state(TradingState.HALTED, "operator: halt")
    await kit.tick()
    assert kit.stops() == []  # still what the operator asked for: nothing of ours rests
    await kit.engine.set_trading_state(TradingState.REDUCING, "operator: pause")
    await kit.tick()
    assert len(kit.stops()) == 1


async def test_flatten_cancels_the_stop_then_sells_at_the_bid(kit: Kit) -> None:
    stop = await kit.long("30")
    await kit.book("0.287", "0.288")
    notes = await kit.engine.flatten("operator: flatten")
    assert notes == ("XLM/USD: IOC sell 30.00000000 at 0.287 (through the risk gate)",)
    assert kit.engine.core.trading_state is TradingState.REDUCING  # no new entry
    await kit.settle()
    orders = {o.tag: o for o in kit.engine.core.registry.all()}
    assert orders[PROTECT_TAG].cl_ord_id == stop.cl_ord_id
    assert orders[PROTECT_TAG].status is OrderStatus.CANCELED
    sold = orders[FLATTEN_TAG]
    assert sold.status is OrderStatus.FILLED and sold.reduces_position
    assert sold.time_in_force is TimeInForce.IOC and sold.limit_price == D("0.287")
    assert kit.engine.core.portfolio.position(SYM) == 0
    row = await kit.repo.order_by_cl_ord_id(sold.cl_ord_id)  # persisted, then sent
    assert row is not None and row.tag == FLATTEN_TAG
    [event] = await kit.repo.events("flatten")
    assert event.payload["reason"] == "operator: flatten"
    await kit.tick()
    assert kit.stops() == []


async def test_flatten_cancels_resting_entries_and_needs_a_verified_bid(kit: Kit) -> None:
    await kit.book("0.289", "0.291")
    await kit.buy("30", "0.289")  # rests at the bid
    [entry] = kit.engine.core.registry.live()
    notes = await kit.engine.flatten("operator: flatten")
    assert notes == (f"XLM/USD: cancel entry {entry.cl_ord_id}",)
    await kit.settle()
    assert kit.engine.core.registry.live() == []
    assert kit.engine.core.trading_state is TradingState.REDUCING


def _order(side: Side, qty: str, tag: str = "", *, reduces: bool = False) -> Order:
    return Order(
        cl_ord_id=f"kb-{tag or side.value}",
        symbol=SYM,
        side=side,
        order_type=OrderType.LIMIT,
        qty=D(qty),
        limit_price=D("0.3"),
        created_ns=1,
        reduces_position=reduces,
        tag=tag,
        status=OrderStatus.OPEN,
    )


def test_plan_sells_what_no_other_sell_of_ours_holds() -> None:
    book = xlm_top(1, "0.287", "0.288")
    live = [
        _order(Side.SELL, "10", "take_profit", reduces=True),
        _order(Side.SELL, "30", "protect"),
    ]
    plan = plan_flatten({SYM: D("30")}, {SYM: book}, {SYM: XLM}, live)
    [intent] = plan.intents
    assert intent.qty == D("20") and intent.limit_price == D("0.287")  # the stop is no hold


def test_plan_refuses_an_unverified_book_an_unknown_pair_and_dust() -> None:
    unverified = BookTop(SYM, xlm_top(1, "0.2", "0.3").bids, (), False, 1, 1)
    assert plan_flatten({SYM: D("30")}, {SYM: unverified}, {SYM: XLM}, []).notes == (
        "XLM/USD: not sold: no verified bid",
    )
    assert plan_flatten({"FOO/USD": D("1")}, {}, {}, []).notes == (
        "FOO/USD: not sold: unknown pair",
    )
    dust = plan_flatten({SYM: XLM.ordermin / 2}, {}, {SYM: XLM}, [])
    assert dust.intents == () and "below the pair's minimum order" in dust.notes[0]
    assert plan_flatten({}, {}, {}, []).notes == (
        "nothing to flatten: no position, no resting entry",
    )
