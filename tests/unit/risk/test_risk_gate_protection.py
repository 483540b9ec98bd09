"""The risk gate and the protective stop: a reducing stop-loss always passes (HALTED, breaker
open, daily loss), never more than is held; an unprotected pair refuses entries; an amend is
checked as the order it would leave behind."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from riskkit import LIMITS, NOW, XLM, buy, ctx, sell_exit, working

from krakenbot.domain.commands import AmendIntent, OrderIntent
from krakenbot.domain.enums import OrderType, Side, SystemState, TradingState
from krakenbot.orders.protection import Target, stop_intent
from krakenbot.risk.decision import Approved, Denied, Rule
from krakenbot.risk.gate import RiskGate

LONG = {"XLM/USD": D("36")}
HELD = {"USD": D("100"), "XLM": D("36")}


def stop(qty: str = "36", trigger: str | None = "0.241000", **kw: object) -> OrderIntent:
    i = stop_intent(Target("XLM/USD", D(qty), D("0.241000")))
    i = replace(i, trigger_price=None if trigger is None else D(trigger))
    return replace(i, **kw)  # type: ignore[arg-type]


def denied(decision: object, rule: Rule) -> bool:
    return isinstance(decision, Denied) and decision.rule is rule and bool(decision.reason)


def test_a_protective_stop_passes_whatever_stops_entries() -> None:
    gate = RiskGate(LIMITS)
    gate.loss_halted_day = date(2025, 11, 22)
    for state in TradingState:
        c = ctx(
            trading_state=state,
            breaker_open=True,
            daily_pnl=D("-100"),
            positions=LONG,
            balances=HELD,
        )
        assert isinstance(gate.check(stop(), c), Approved), state
    # ... while an ordinary exit is still held back by HALTED, as before.
    c = ctx(trading_state=TradingState.HALTED, positions=LONG, balances=HELD)
    assert denied(gate.check(sell_exit(), c), Rule.TRADING_HALTED)
    assert "protective stops" in str(getattr(gate.check(sell_exit(), c), "reason", ""))


def test_a_protective_stop_never_sells_more_than_is_held() -> None:
    gate = RiskGate(LIMITS)
    c = ctx(trading_state=TradingState.HALTED, positions=LONG, balances=HELD)
    assert denied(gate.check(stop(qty="37"), c), Rule.NOT_REDUCING)
    # the strategy's exit already holds the position: no stop beside it
    busy = ctx(
        positions=LONG,
        balances=HELD,
        working=(working(Side.SELL, "36", reduces_position=True),),
    )
    assert denied(gate.check(stop(), busy), Rule.NOT_REDUCING)
    # a bare command (no intent) is never taken for a protective stop
    assert denied(gate.check(stop(reduces_position=False), c), Rule.TRADING_HALTED)


def test_a_stop_loss_needs_its_trigger_on_the_tick_and_an_accepting_exchange() -> None:
    gate = RiskGate(LIMITS)
    c = ctx(positions=LONG, balances=HELD)
    assert denied(gate.check(stop(trigger=None), c), Rule.ORDER_TYPE)
    assert denied(gate.check(stop(trigger="0.2410005"), c), Rule.EXCHANGE_CONSTRAINT)
    assert denied(gate.check(stop(trigger="NaN"), c), Rule.INVALID_NUMBER)
    assert denied(gate.check(stop(trigger="0.000010"), c), Rule.EXCHANGE_CONSTRAINT)  # costmin
    maintenance = replace(c, system_state=SystemState.MAINTENANCE)
    assert denied(gate.check(stop(), maintenance), Rule.SYSTEM_STATUS)
    post_only_pair = replace(c, instruments={"XLM/USD": replace(XLM, status="post_only")})
    assert denied(gate.check(stop(), post_only_pair), Rule.PAIR_STATUS)
    assert denied(gate.check(stop(), replace(c, balances={"XLM": D("10")})), Rule.BALANCE)


def test_entries_are_refused_on_a_pair_whose_stop_could_not_be_placed() -> None:
    gate = RiskGate(LIMITS)
    c = ctx(unprotected={"XLM/USD": "EOrder:Insufficient funds"})
    decision = gate.check(buy(), c)
    assert denied(decision, Rule.UNPROTECTED)
    assert isinstance(decision, Denied) and "EOrder:Insufficient funds" in decision.reason
    assert decision.describe()["rule"] == "unprotected"
    # exits still go (the position is to be sold), and other pairs trade as before
    assert isinstance(gate.check(sell_exit(), replace(c, positions=LONG, balances=HELD)), Approved)
    assert isinstance(gate.check(buy(), ctx(unprotected={"BTC/USD": "x"})), Approved)


def test_an_amend_is_checked_as_the_order_it_leaves_behind() -> None:
    gate = RiskGate(LIMITS)
    resting_stop = working(
        Side.SELL,
        "20",
        None,
        order_type=OrderType.STOP_LOSS,
        reduces_position=True,
        trigger_price=D("0.241000"),
        tag="protect",
    )
    c = ctx(positions=LONG, balances=HELD, working=(resting_stop,))
    grow = AmendIntent(resting_stop.cl_ord_id, qty=D("36"), trigger_price=D("0.240000"))
    assert gate.check(grow, c) == Approved(grow)
    halted = replace(c, trading_state=TradingState.HALTED, breaker_open=True)
    assert isinstance(gate.check(grow, halted), Approved)  # a protective stop's amend too
    assert denied(gate.check(replace(grow, qty=D("37")), c), Rule.NOT_REDUCING)
    assert denied(gate.check(replace(grow, trigger_price=D("0.2400001")), c),
                  Rule.EXCHANGE_CONSTRAINT)  # fmt: skip
    # quantities are totals: 10 of 30 executed leaves 20 to sell after the amend
    partly = replace(resting_stop, remaining_qty=D("20"), filled_qty=D("10"))
    assert isinstance(gate.check(AmendIntent(partly.cl_ord_id, qty=D("30")),
                                 replace(c, working=(partly,))), Approved)  # fmt: skip
    # an entry's amend is checked as an entry: size, price band, ...
    resting_buy = working(Side.BUY, "36", "0.249", post_only=True)
    e = ctx(working=(resting_buy,))
    assert isinstance(gate.check(AmendIntent(resting_buy.cl_ord_id, qty=D("30")), e), Approved)
    assert denied(gate.check(AmendIntent(resting_buy.cl_ord_id, qty=D("50")), e),
                  Rule.MAX_TRADE_SIZE)  # fmt: skip
    assert denied(gate.check(AmendIntent(resting_buy.cl_ord_id, limit_price=D("0.2")), e),
                  Rule.PRICE_BAND)  # fmt: skip
    # nothing to amend
    assert denied(gate.check(AmendIntent("kbgone", qty=D("1")), e), Rule.NOT_WORKING)


def test_amends_do_not_count_as_new_orders_for_the_rate_limit() -> None:
    gate = RiskGate(replace(LIMITS, max_orders_per_window=1))
    resting_buy = working(Side.BUY, "36", "0.249", post_only=True)
    e = ctx(working=(resting_buy,))
    for _ in range(3):
        assert isinstance(gate.check(AmendIntent(resting_buy.cl_ord_id, qty=D("30")), e), Approved)
    assert isinstance(gate.check(buy(), ctx()), Approved)  # the window still has its one order
    assert denied(gate.check(buy(), ctx(now_ns=NOW + 1)), Rule.ORDER_RATE)


@pytest.mark.parametrize("item", [stop(), buy()])
def test_the_audit_row_names_the_trigger_and_the_amend(item: OrderIntent) -> None:
    gate = RiskGate(LIMITS)
    row = Denied(item, Rule.BALANCE, "why").describe()
    assert ("trigger_price" in row) is (item.trigger_price is not None)
    amend = Denied(AmendIntent("kbx", qty=D("3")), Rule.NOT_WORKING, "gone").describe()
    assert amend["cl_ord_id"] == "kbx" and amend["qty"] == "3" and amend["trigger_price"] == ""
    assert gate.limits is LIMITS
