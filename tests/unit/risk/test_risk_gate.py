from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from riskkit import BTC, LIMITS, NOW, XLM, S, book, buy, ctx, sell_exit, working

from krakenbot.domain.commands import CancelIntent, CancelOrder, PlaceOrder
from krakenbot.domain.enums import OrderType, Side, SystemState, TradingState
from krakenbot.domain.events import BookTop, PriceLevel
from krakenbot.risk.decision import Approved, Denied, Rule
from krakenbot.risk.gate import RiskGate

LONG = {"XLM/USD": D("36")}
HELD = {"USD": D("100"), "XLM": D("36")}


def gate() -> RiskGate:
    return RiskGate(LIMITS)


def denied(decision: object, rule: Rule) -> bool:
    return isinstance(decision, Denied) and decision.rule is rule and bool(decision.reason)


def test_default_entry_is_approved() -> None:
    intent = buy()
    decision = gate().check(intent, ctx())
    assert decision == Approved(intent)


@pytest.mark.parametrize("state", list(TradingState))
def test_cancels_always_pass(state: TradingState) -> None:
    c = ctx(trading_state=state, breaker_open=True, system_state=SystemState.MAINTENANCE)
    assert isinstance(gate().check(CancelIntent("kb1"), c), Approved)
    assert isinstance(gate().check(CancelOrder(cl_ord_id="kb1"), c), Approved)


def test_halted_denies_entries_and_exits() -> None:
    c = ctx(trading_state=TradingState.HALTED, positions=LONG, balances=HELD)
    assert denied(gate().check(buy(), c), Rule.TRADING_HALTED)
    assert denied(gate().check(sell_exit(), c), Rule.TRADING_HALTED)


def test_reducing_denies_entries_allows_exits() -> None:
    c = ctx(trading_state=TradingState.REDUCING, positions=LONG, balances=HELD)
    assert denied(gate().check(buy(), c), Rule.REDUCING_ONLY)
    assert isinstance(gate().check(sell_exit(), c), Approved)


def test_unknown_instrument() -> None:
    assert denied(gate().check(buy(symbol="ETH/USD"), ctx()), Rule.UNKNOWN_INSTRUMENT)


@pytest.mark.parametrize("state", [SystemState.MAINTENANCE, SystemState.CANCEL_ONLY])
def test_exchange_not_accepting_orders(state: SystemState) -> None:
    c = ctx(system_state=state, positions=LONG, balances=HELD)
    assert denied(gate().check(buy(), c), Rule.SYSTEM_STATUS)
    assert denied(gate().check(sell_exit(), c), Rule.SYSTEM_STATUS)


def test_exchange_post_only_accepts_only_post_only_limits() -> None:
    c = ctx(system_state=SystemState.POST_ONLY, positions=LONG, balances=HELD)
    assert isinstance(gate().check(buy(), c), Approved)
    assert denied(gate().check(sell_exit(), c), Rule.SYSTEM_STATUS)
    # a post_only flag on a market order does not count
    assert denied(gate().check(sell_exit(price=None, post_only=True), c), Rule.SYSTEM_STATUS)


def test_pair_status_rules() -> None:
    def with_status(status: str) -> object:
        return ctx(
            instruments={"XLM/USD": replace(XLM, status=status)}, positions=LONG, balances=HELD
        )

    assert isinstance(gate().check(buy(), with_status("post_only")), Approved)
    assert denied(gate().check(sell_exit(), with_status("post_only")), Rule.PAIR_STATUS)
    assert isinstance(gate().check(sell_exit(), with_status("limit_only")), Approved)
    assert denied(gate().check(sell_exit(price=None), with_status("limit_only")), Rule.PAIR_STATUS)
    assert denied(gate().check(buy(), with_status("reduce_only")), Rule.PAIR_STATUS)
    assert isinstance(gate().check(sell_exit(), with_status("reduce_only")), Approved)
    for status in ("cancel_only", "maintenance", "delisted", "work_in_progress"):
        assert denied(gate().check(sell_exit(), with_status(status)), Rule.PAIR_STATUS)


def test_exchange_constraints() -> None:
    assert denied(gate().check(buy(qty="9"), ctx()), Rule.EXCHANGE_CONSTRAINT)  # ordermin 10
    assert denied(gate().check(buy(qty="36.123456789"), ctx()), Rule.EXCHANGE_CONSTRAINT)
    assert denied(gate().check(buy(price="0.2490001"), ctx()), Rule.EXCHANGE_CONSTRAINT)
    d = gate().check(buy(qty="9"), ctx())
    assert isinstance(d, Denied) and d.reason == "EOrder:Order minimum not met"


def test_limit_without_price_and_market_entries() -> None:
    assert denied(gate().check(buy(limit_price=None), ctx()), Rule.ORDER_TYPE)
    market = buy(order_type=OrderType.MARKET, limit_price=None, post_only=False)
    assert denied(gate().check(market, ctx()), Rule.ORDER_TYPE)


def test_entry_needs_breaker_closed() -> None:
    assert denied(gate().check(buy(), ctx(breaker_open=True)), Rule.BREAKER_OPEN)


def test_allowed_symbols_and_quote_currency() -> None:
    eur = replace(XLM, symbol="XLM/EUR", quote="EUR")
    limits = replace(LIMITS, allowed_symbols=frozenset({"XLM/USD", "XLM/EUR"}))
    c = ctx(instruments={"XLM/USD": XLM, "XLM/EUR": eur, "BTC/USD": BTC})
    assert denied(RiskGate(limits).check(buy(symbol="XLM/EUR"), c), Rule.QUOTE_CURRENCY)
    only_btc = replace(LIMITS, allowed_symbols=frozenset({"BTC/USD"}))
    assert denied(RiskGate(only_btc).check(buy(), ctx()), Rule.SYMBOL_NOT_ALLOWED)


def test_post_only_setting() -> None:
    plain = buy(post_only=False)
    assert denied(gate().check(plain, ctx()), Rule.POST_ONLY_REQUIRED)
    relaxed = RiskGate(replace(LIMITS, post_only=False))
    assert isinstance(relaxed.check(plain, ctx()), Approved)


def test_market_data_must_be_present_verified_fresh() -> None:
    assert denied(gate().check(buy(), ctx(books={})), Rule.MARKET_DATA)
    unverified = {"XLM/USD": book(verified=False)}
    assert denied(gate().check(buy(), ctx(books=unverified)), Rule.MARKET_DATA)
    stale = {"XLM/USD": book(recv_ns=NOW - 11 * S)}
    assert denied(gate().check(buy(), ctx(books=stale)), Rule.MARKET_DATA)
    just_fresh = {"XLM/USD": book(recv_ns=NOW - 10 * S)}
    assert isinstance(gate().check(buy(), ctx(books=just_fresh)), Approved)
    one_sided = {"XLM/USD": replace(book(), asks=())}
    assert denied(gate().check(buy(), ctx(books=one_sided)), Rule.MARKET_DATA)
    zero = BookTop("XLM/USD", (PriceLevel(D(0), D(1)),), (PriceLevel(D(0), D(1)),), True, NOW, NOW)
    assert denied(gate().check(buy(), ctx(books={"XLM/USD": zero})), Rule.MARKET_DATA)


def test_price_band_fat_finger() -> None:
    # mid 0.25, band 2% → [0.245, 0.255]
    assert isinstance(gate().check(buy(qty="36", price="0.245"), ctx()), Approved)
    assert denied(gate().check(buy(qty="36", price="0.244999"), ctx()), Rule.PRICE_BAND)
    assert denied(gate().check(buy(qty="36", price="0.255001"), ctx()), Rule.PRICE_BAND)


def test_notional_bounds() -> None:
    assert denied(gate().check(buy(qty="40.2"), ctx()), Rule.MAX_TRADE_SIZE)  # 10.0098
    assert isinstance(gate().check(buy(qty="40.16064257"), ctx()), Approved)  # 9.99999
    assert denied(gate().check(buy(qty="4"), ctx()), Rule.EXCHANGE_CONSTRAINT)
    small = RiskGate(replace(LIMITS, min_order_usd=D("5")))
    assert denied(small.check(buy(qty="12"), ctx()), Rule.MIN_ORDER_SIZE)  # 2.988


def test_exposure_includes_positions_and_working_orders() -> None:
    # 40 XLM at mid 0.25 = 10, working buy 36 @ 0.249 = 8.964 → 18.964 + 8.964 > 25
    c = ctx(positions={"XLM/USD": D("40")}, working=(working(),))
    assert denied(gate().check(buy(), c), Rule.EXPOSURE)
    # a working exit does not add exposure
    c2 = ctx(positions={"XLM/USD": D("40")}, working=(working(Side.SELL, reduces_position=True),))
    assert isinstance(gate().check(buy(), c2), Approved)
    # a position with no price makes exposure unknown
    c3 = ctx(positions={"ETH/USD": D("1")}, books={"XLM/USD": book()})
    assert denied(gate().check(buy(), c3), Rule.EXPOSURE)


def test_max_positions() -> None:
    one = RiskGate(replace(LIMITS, max_positions=1))
    btc_pos = ctx(positions={"BTC/USD": D("0.0001")})
    assert denied(one.check(buy(), btc_pos), Rule.MAX_POSITIONS)
    btc_order = ctx(working=(working(symbol="BTC/USD", qty="0.0001", price="50000.0"),))
    assert denied(one.check(buy(), btc_order), Rule.MAX_POSITIONS)
    same = ctx(positions={"XLM/USD": D("10"), "BTC/USD": D("0")})
    assert isinstance(one.check(buy(), same), Approved)
    dust = ctx(positions={"BTC/USD": D("0.00001")})  # below BTC ordermin 0.0001
    assert isinstance(one.check(buy(), dust), Approved)
    unknown = ctx(
        positions={"ETH/USD": D("0.00001")},
        books={"XLM/USD": book(), "ETH/USD": book("ETH/USD", "3000", "3001")},
    )
    assert denied(one.check(buy(), unknown), Rule.MAX_POSITIONS)


def test_balance_for_buys_includes_fees_and_working_buys() -> None:
    # 8.964 * 1.004 = 8.999856
    assert denied(gate().check(buy(), ctx(balances={"USD": D("8.99")})), Rule.BALANCE)
    assert isinstance(gate().check(buy(), ctx(balances={"USD": D("9")})), Approved)
    reserved = ctx(balances={"USD": D("17")}, working=(working(),))
    assert denied(gate().check(buy(), reserved), Rule.BALANCE)
    cancelling = ctx(balances={"USD": D("9")}, working=(working(cancel_requested=True),))
    assert isinstance(gate().check(buy(), cancelling), Approved)


def test_balance_for_non_reducing_sell() -> None:
    loose = RiskGate(replace(LIMITS, post_only=False))
    short = buy(side=Side.SELL, post_only=False, price="0.251")
    assert denied(loose.check(short, ctx()), Rule.BALANCE)
    assert isinstance(loose.check(short, ctx(balances={"XLM": D("36")})), Approved)


def test_order_rate_limit_window() -> None:
    g = gate()
    for _ in range(3):
        assert isinstance(g.check(buy(), ctx(balances={"USD": D("1000")})), Approved)
    rich = {"USD": D("1000")}
    assert denied(g.check(buy(), ctx(balances=rich)), Rule.ORDER_RATE)
    # exits are not throttled by the gate's own limit
    assert isinstance(g.check(sell_exit(), ctx(positions=LONG, balances=HELD)), Approved)
    later = NOW + 60 * S
    fresh = {"XLM/USD": book(recv_ns=later)}
    assert isinstance(g.check(buy(), ctx(now_ns=later, books=fresh, balances=rich)), Approved)


def test_order_rate_window_restored_after_a_restart() -> None:
    g = gate()  # a new process: three entries of the last minute are in the ledger
    g.restore_approvals([NOW - 59 * S, NOW - 10 * S, NOW - 30 * S])
    rich = {"USD": D("1000")}
    assert denied(g.check(buy(), ctx(balances=rich)), Rule.ORDER_RATE)
    later = NOW + S  # the oldest has left the window
    fresh = {"XLM/USD": book(recv_ns=later)}
    assert isinstance(g.check(buy(), ctx(now_ns=later, books=fresh, balances=rich)), Approved)
    assert denied(g.check(buy(), ctx(now_ns=later, books=fresh, balances=rich)), Rule.ORDER_RATE)


def test_daily_loss_latches_until_next_utc_day() -> None:
    g = gate()
    assert isinstance(g.check(buy(), ctx(daily_pnl=D("-4.99"))), Approved)
    assert denied(g.check(buy(), ctx(daily_pnl=D("-5"))), Rule.DAILY_LOSS)
    assert g.loss_halted_day == date(2025, 11, 22)
    # recovering the same day does not lift the halt
    assert denied(g.check(buy(), ctx(daily_pnl=D("1"))), Rule.DAILY_LOSS)
    # exits still pass
    assert isinstance(g.check(sell_exit(), ctx(positions=LONG, balances=HELD)), Approved)
    tomorrow = NOW + 22 * 3600 * S
    next_day = ctx(now_ns=tomorrow, books={"XLM/USD": book(recv_ns=tomorrow)})
    assert isinstance(g.check(buy(), next_day), Approved)
    assert g.loss_halted_day is None


def test_daily_loss_restored_from_persisted_day_and_unknown_pnl() -> None:
    g = RiskGate(LIMITS, loss_halted_day=date(2025, 11, 22))
    assert denied(g.check(buy(), ctx()), Rule.DAILY_LOSS)
    assert denied(gate().check(buy(), ctx(daily_pnl=None)), Rule.DAILY_LOSS)


def test_exit_must_reduce() -> None:
    assert denied(gate().check(sell_exit(), ctx(balances=HELD)), Rule.NOT_REDUCING)
    c = ctx(positions=LONG, balances=HELD)
    assert denied(gate().check(sell_exit(qty="36.00000001"), c), Rule.NOT_REDUCING)
    # an exit that buys while long does not reduce
    assert denied(gate().check(sell_exit(side=Side.BUY), c), Rule.NOT_REDUCING)
    # another live exit for the whole position leaves nothing to exit
    tp = working(Side.SELL, "36", "0.26", reduces_position=True, tag="take_profit")
    with_tp = ctx(positions=LONG, balances=HELD, working=(tp,))
    assert denied(gate().check(sell_exit(), with_tp), Rule.NOT_REDUCING)
    # ... unless we already asked to cancel it (stop-loss replaces take-profit)
    tp_cancel = replace(tp, cancel_requested=True)
    c2 = ctx(positions=LONG, balances=HELD, working=(tp_cancel,))
    assert isinstance(gate().check(sell_exit(), c2), Approved)


def test_exits_bypass_entry_limits() -> None:
    c = ctx(
        positions=LONG,
        balances=HELD,
        breaker_open=True,
        daily_pnl=None,
        books={},
        trading_state=TradingState.REDUCING,
    )
    big_price = sell_exit(price="0.9")  # far outside the band, notional 32.4 > max trade
    assert isinstance(gate().check(big_price, c), Approved)


def test_exit_needs_the_balance() -> None:
    c = ctx(positions=LONG, balances={"XLM": D("20")})
    assert denied(gate().check(sell_exit(), c), Rule.BALANCE)


def test_exit_buying_back_a_short() -> None:
    short = {"XLM/USD": D("-36")}
    cover = sell_exit(side=Side.BUY, price=None)  # market buy valued at the ask
    assert isinstance(gate().check(cover, ctx(positions=short)), Approved)
    assert denied(gate().check(cover, ctx(positions=short, books={})), Rule.BALANCE)
    assert denied(gate().check(cover, ctx(positions=short, balances={})), Rule.BALANCE)


def test_place_order_is_checked_as_entry_excluding_itself() -> None:
    cmd = PlaceOrder(
        cl_ord_id="kbself000000000001",
        symbol="XLM/USD",
        side=Side.BUY,
        order_type=OrderType.LIMIT,
        qty=D("36"),
        limit_price=D("0.249"),
        post_only=True,
    )
    itself = working(cl_ord_id="kbself000000000001")
    c = ctx(working=(itself,), balances={"USD": D("9")})
    assert isinstance(gate().check(cmd, c), Approved)
    other = working(cl_ord_id="kbother00000000001")
    assert denied(gate().check(cmd, ctx(working=(other,), balances={"USD": D("9")})), Rule.BALANCE)


@pytest.mark.parametrize(
    "intent",
    [buy(qty="NaN"), buy(price="Infinity"), buy(price="sNaN"), sell_exit(qty="-Infinity")],
)
def test_non_finite_numbers_are_denied_not_raised(intent: object) -> None:
    c = ctx(positions=LONG, balances=HELD)
    assert denied(gate().check(intent, c), Rule.INVALID_NUMBER)  # type: ignore[arg-type]


def test_denials_describe_themselves_for_the_audit_log() -> None:
    d = gate().check(buy(qty="9"), ctx())
    assert isinstance(d, Denied)
    row = d.describe()
    assert row["kind"] == "risk_denied" and row["rule"] == "exchange_constraint"
    assert row["symbol"] == "XLM/USD" and row["qty"] == "9" and row["tag"] == "entry"
    market = buy(order_type=OrderType.MARKET, limit_price=None)
    d2 = gate().check(market, ctx())
    assert isinstance(d2, Denied) and d2.describe()["price"] == ""
    cmd = PlaceOrder("kbcmd0000000000001", "ETH/USD", Side.BUY, OrderType.LIMIT, D("1"), D("2"))
    d3 = gate().check(cmd, ctx())
    assert isinstance(d3, Denied) and d3.describe()["cl_ord_id"] == "kbcmd0000000000001"


def test_describe_of_a_denied_cancel_has_no_order_fields() -> None:
    # The gate never denies cancels; a shell may still record one it refused itself.
    row = Denied(CancelIntent("kb1"), Rule.TRADING_HALTED, "operator").describe()
    assert row == {"kind": "risk_denied", "rule": "trading_halted", "reason": "operator"}
