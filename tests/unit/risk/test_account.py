"""AccountBook: which balance snapshots are comparable with our picture (issue 11, item 1)
and what the gate may spend while the exchange has not reported a fill yet."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from riskkit import NOW, S
from tests.instruments import XLM

from krakenbot.domain.enums import Side
from krakenbot.domain.events import BalanceChange, Fill
from krakenbot.risk.account import AccountBook, BalanceSnapshot, Mismatch, fill_deltas

START = {"USD": D("100.0000"), "XLM": D("0.00000000")}
# A buy of 30 XLM at 0.289: 8.67 USD plus a 0.0217 USD fee.
AFTER_BUY = {"USD": D("91.3083"), "XLM": D("30.00000000")}


def buy(
    trade_id: str = "T1", at_ns: int = NOW, fee: str = "0.0217", fee_asset: str = "USD"
) -> Fill:
    return Fill(
        trade_id=trade_id,
        order_id="O1",
        cl_ord_id="kb1",
        symbol="XLM/USD",
        side=Side.BUY,
        price=D("0.289"),
        qty=D("30"),
        cost=D("8.67"),
        fee=D(fee),
        fee_asset=fee_asset,
        liquidity=None,
        exchange_ns=at_ns,
    )


def change(asset: str, balance: str, at_ns: int = NOW) -> BalanceChange:
    return BalanceChange(asset, D(balance), None, False, at_ns)


def test_fill_deltas_take_the_fee_from_the_asset_it_is_paid_in() -> None:
    assert fill_deltas(buy(), XLM) == {"XLM": D("30"), "USD": D("-8.6917")}
    assert fill_deltas(buy(fee="0.1", fee_asset="XLM"), XLM) == {
        "XLM": D("29.9"),
        "USD": -D("8.67"),
    }
    assert fill_deltas(buy(fee="1", fee_asset="KFEE"), XLM) == {"XLM": D("30"), "USD": -D("8.67")}


def test_a_fill_learned_after_the_request_left_is_not_compared() -> None:
    book = AccountBook(START)
    requested = book.seq  # the Balance request leaves ...
    book.on_fill(buy(at_ns=NOW - S), XLM)  # ... reconciliation then finds an earlier fill
    assert book.settle(BalanceSnapshot(AFTER_BUY, requested, NOW)) == ()
    assert book.confirmed == AFTER_BUY and book.available() == AFTER_BUY


def test_a_fill_after_the_request_stays_on_top_of_the_snapshot() -> None:
    book = AccountBook(START)
    requested = book.seq
    book.on_fill(buy(at_ns=NOW + S), XLM)  # executed after the request left
    assert book.settle(BalanceSnapshot(START, requested, NOW)) == ()
    assert book.confirmed == START and book.available() == AFTER_BUY
    assert book.settle(BalanceSnapshot(AFTER_BUY, book.seq, NOW + 2 * S)) == ()
    assert book.confirmed == AFTER_BUY and book.available() == AFTER_BUY


def test_a_wrong_guess_about_a_fill_is_no_mismatch_either() -> None:
    book = AccountBook(START)
    requested = book.seq
    book.on_fill(buy(at_ns=NOW + S), XLM)  # our clock is behind: the snapshot has it
    assert book.settle(BalanceSnapshot(AFTER_BUY, requested, NOW)) == ()
    assert book.available()["XLM"] == D("60.00000000")  # counted twice for now ...
    assert book.settle(BalanceSnapshot(AFTER_BUY, book.seq, NOW + 2 * S)) == ()
    assert book.available() == AFTER_BUY  # ... until the next snapshot


def test_a_difference_no_fill_explains_is_a_mismatch() -> None:
    book = AccountBook(START)
    book.on_fill(buy(), XLM)
    lost = {"USD": D("86.3083"), "XLM": D("30.00000000")}  # 5 USD more went out
    assert book.settle(BalanceSnapshot(lost, book.seq, NOW + S)) == (
        Mismatch("USD", D("91.3083"), D("86.3083")),
    )
    assert book.available() == lost  # the exchange's word is taken over


def test_rounding_of_one_unit_per_unreported_fill_is_no_mismatch() -> None:
    book = AccountBook(START)
    book.on_fill(buy(fee="0.021675"), XLM)  # 91.308325 before the ledger rounds it
    assert book.settle(BalanceSnapshot(AFTER_BUY, book.seq)) == ()
    book.on_fill(buy("T2", fee="0.021675"), XLM)
    off = {"USD": D("82.6164"), "XLM": D("60.00000000")}  # 2 units off, with or without it
    assert [m.asset for m in book.settle(BalanceSnapshot(off, book.seq))] == ["USD"]


def test_exact_numbers_must_be_equal() -> None:
    book = AccountBook(START)
    moved = BalanceSnapshot({"USD": D("99.9999"), "XLM": D("0.00000000")}, book.seq)
    (mismatch,) = book.settle(moved)
    assert mismatch.describe() == "USD: ours 100.0000, exchange 99.9999"


def test_a_stream_balance_after_the_request_is_not_comparable() -> None:
    book = AccountBook(START)
    requested = book.seq
    book.on_balance(change("USD", "90.0000"))  # moved after the request left
    assert book.settle(BalanceSnapshot({"USD": D("100.0000")}, requested)) == ()
    assert book.confirmed["USD"] == D("90.0000")  # the newer number stays


def test_unknown_assets_are_taken_over_and_broken_numbers_never() -> None:
    book = AccountBook({})
    assert book.settle(BalanceSnapshot({"ETH": D("1.5")}, 0)) == ()
    assert book.confirmed == {"ETH": D("1.5")}
    (mismatch,) = book.settle(BalanceSnapshot({"ETH": D("NaN")}, 0))
    assert mismatch.asset == "ETH" and book.confirmed == {"ETH": D("1.5")}


@pytest.mark.parametrize("balance_first", [False, True])
def test_a_fill_and_its_balance_update_in_either_order_count_once(balance_first: bool) -> None:
    book = AccountBook(START)
    updates = [change("XLM", "30.00000000", NOW), change("USD", "91.3083", NOW)]
    if balance_first:
        for update in updates:
            book.on_balance(update)
        book.on_fill(buy(at_ns=NOW), XLM)  # its execution report arrives last
    else:
        book.on_fill(buy(at_ns=NOW), XLM)
        for update in updates:
            book.on_balance(update)
    assert book.available() == AFTER_BUY
    assert book.settle(BalanceSnapshot(AFTER_BUY, book.seq)) == ()


def test_a_balance_update_covers_only_fills_up_to_its_ledger_time() -> None:
    book = AccountBook(START)
    book.on_fill(buy("T1", at_ns=NOW), XLM)
    book.on_fill(buy("T2", at_ns=NOW + S), XLM)
    book.on_balance(change("XLM", "30.00000000", NOW))  # the first fill's ledger entry
    assert book.available()["XLM"] == D("60.00000000")
    book.on_balance(BalanceChange("XLM", D("60.00000000"), None, True, 0))  # untimed: covers all
    assert book.available()["XLM"] == D("60.00000000")


def test_a_balance_update_stamped_before_its_execution_is_no_mismatch() -> None:
    book = AccountBook(START)
    for update in (change("XLM", "30.00000000", NOW), change("USD", "91.3083", NOW)):
        book.on_balance(update)
    book.on_fill(buy(at_ns=NOW + 1000), XLM)  # its report carries a later time
    assert book.available()["XLM"] == D("60.00000000")  # counted twice for now ...
    assert book.settle(BalanceSnapshot(AFTER_BUY, book.seq, NOW + S)) == ()
    assert book.available() == AFTER_BUY  # ... until the next snapshot


def test_too_many_unreported_fills_are_not_compared() -> None:
    book = AccountBook(START)
    for i in range(9):
        book.on_fill(buy(f"T{i}"), XLM)
    assert book.settle(BalanceSnapshot({"USD": D("1.0000")}, book.seq, NOW + S)) == ()
    assert book.available()["USD"] == D("1.0000")


def test_a_confirmed_balance_that_differs_is_a_mismatch_and_the_rest_are_not() -> None:
    book = AccountBook({"USD": D("100"), "XLM": D("40")})
    found = book.settle(
        BalanceSnapshot({"USD": D("100"), "XLM": D("39"), "BTC": D("0")}, book.seq, NOW)
    )
    assert found == (Mismatch("XLM", D("40"), D("39")),)
    assert found[0].describe() == "XLM: ours 40, exchange 39"
