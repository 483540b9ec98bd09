"""The protective-stop step remembers a plan of nothing (engine/protect.py `decide`): only
until the holdings, pauses or amends in flight change, or a held-back amend's retry window
closes — the one place where the plan depends on the time."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

from tests.instruments import XLM

from krakenbot.domain.commands import AmendIntent
from krakenbot.domain.enums import OrderStatus, OrderType, Side
from krakenbot.domain.order import Order
from krakenbot.engine.protect import Holdings, Protection
from krakenbot.orders.protection import PROTECT_TAG
from krakenbot.risk.decision import Approved

S = 1_000_000_000
T0 = 1_763_776_800 * S
SYM = "XLM/USD"


def _stop(qty: str) -> Order:
    return Order(
        cl_ord_id="kbstop1",
        symbol=SYM,
        side=Side.SELL,
        order_type=OrderType.STOP_LOSS,
        qty=D(qty),
        limit_price=None,
        created_ns=T0,
        reduces_position=True,
        tag=PROTECT_TAG,
        status=OrderStatus.OPEN,
        order_id="Okbstop1",
        trigger_price=D("0.291000"),
    )


def _holdings(position: str, stop: Order) -> Holdings:
    return Holdings({SYM: D(position)}, {SYM: D("0.300000")}, {SYM: XLM}, {}, [stop])


def test_an_amend_held_back_by_its_retry_window_goes_once_the_window_closes() -> None:
    protection = Protection()
    amend = AmendIntent("kbstop1", qty=D("70"), reason="protect: follow")
    protection.outcome(amend, Approved(amend), T0)  # an amend left at T0: its report is due
    h = _holdings("70", _stop("40"))  # the stop still shows 40: the amend is not reflected
    assert protection.decide(T0 + 5 * S, h) == []  # within the retry: held back
    assert protection.decide(T0 + 9 * S, h) == []  # the same holdings, still within it
    assert protection.decide(T0 + 10 * S, h) == [amend]  # the window closed: sent again


def test_a_plan_of_nothing_is_worked_out_again_when_the_holdings_change() -> None:
    protection = Protection()
    stop = _stop("40")
    assert protection.decide(T0, _holdings("40", stop)) == []  # the stop fits the position
    grown = protection.decide(T0 + S, _holdings("70", stop))
    assert grown == [AmendIntent("kbstop1", qty=D("70"), reason="protect: follow")]
    cancelled = replace(stop, cancel_requested=True)
    assert protection.decide(T0 + 2 * S, _holdings("70", cancelled)) == []  # still held
