"""The ledger-fault check: the safe stop may send exactly the protective stop for the fill
it could not record, and nothing else (benchmarks/chaos/ledger.py)."""

from __future__ import annotations

from decimal import Decimal as D

from benchmarks.chaos.audit import ExchangeOrder, ExchangeTrade
from benchmarks.chaos.ledger import _check_cover

BEFORE = {"E1", "E2"}
FILL = [ExchangeTrade("T1", "E1", "buy", D("40"))]
ENTRIES = [
    ExchangeOrder("E1", "kb1", "buy", "closed", D("40"), D("40"), "limit"),
    ExchangeOrder("E2", "kb2", "buy", "canceled", D("0"), D("40"), "limit"),
]


def stop(vol: str, status: str = "open", kind: str = "stop-loss") -> ExchangeOrder:
    return ExchangeOrder("S1", "kb3", "sell", status, D("0"), D(vol), kind)


def test_the_one_protective_stop_for_the_fill_passes() -> None:
    assert _check_cover([*ENTRIES, stop("40")], BEFORE, FILL) == []


def test_a_position_left_bare_is_named() -> None:
    assert any("without a protective stop" in p for p in _check_cover(ENTRIES, BEFORE, FILL))


def test_a_stop_larger_than_the_fill_is_named() -> None:
    assert any("larger than" in p for p in _check_cover([*ENTRIES, stop("41")], BEFORE, FILL))


def test_any_other_new_order_or_a_resting_entry_is_named() -> None:
    other = _check_cover([*ENTRIES, stop("40", kind="limit")], BEFORE, FILL)
    assert any("other than one protective stop" in p for p in other)
    resting = [ENTRIES[0], ExchangeOrder("E2", "kb2", "buy", "open", D("0"), D("40"), "limit")]
    assert any("left open" in p for p in _check_cover([*resting, stop("40")], BEFORE, FILL))


def test_no_fill_is_named() -> None:
    assert _check_cover(ENTRIES, BEFORE, []) == ["the staged fill did not happen"]
