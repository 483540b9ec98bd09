"""OrderBook on Kraken's documented and recorded book frames."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tests.conftest import DATA

from krakenbot.domain.book import BookError, OrderBook
from krakenbot.kraken.checksum import checksum_of_fragments, number_fragment

MESSAGES = DATA / "ws" / "real_messages"


def _levels(rows: list[dict[str, object]]) -> list[tuple[str, str]]:
    return [(str(r["price"]), str(r["qty"])) for r in rows]


def _book(depth: int = 10, **kw: int) -> OrderBook:
    return OrderBook("BTC/USD", depth, fragment=number_fragment, **kw)  # type: ignore[arg-type]


def _checksum(book: OrderBook) -> int:
    return checksum_of_fragments(book.ask_fragments(10), book.bid_fragments(10))


def test_docs_matic_snapshot_then_update_verify_with_fixed_decimals() -> None:
    snap = json.loads((MESSAGES / "ws_book_snapshot__docs_maticusd.json").read_text())["data"][0]
    upd = json.loads((MESSAGES / "ws_book_update__docs_maticusd.json").read_text())["data"][0]
    book = _book(price_decimals=4, qty_decimals=8)
    book.apply_snapshot(_levels(snap["bids"]), _levels(snap["asks"]))
    assert _checksum(book) == snap["checksum"] == 2439117997
    book.apply_update(_levels(upd["bids"]), _levels(upd["asks"]))
    assert _checksum(book) == upd["checksum"] == 2114181697
    # The update added a bid below the best ten; depth truncation keeps ten.
    assert len(book.bid_levels()) == 10
    assert book.bid_levels(1)[0] == ("0.5666", "4831.75496356")


def test_recorded_btcusd_session_every_checksum_verifies() -> None:
    data = json.loads((DATA / "ws" / "book10_BTCUSD_2023-07-30_python-kraken-sdk.json").read_text())
    book = _book(price_decimals=1, qty_decimals=8)
    init = data["init"]["data"][0]
    book.apply_snapshot(_levels(init["bids"]), _levels(init["asks"]))
    assert _checksum(book) == init["checksum"]
    for msg in data["updates"]:
        row = msg["data"][0]
        book.apply_update(_levels(row["bids"]), _levels(row["asks"]))
        assert _checksum(book) == row["checksum"]
        assert len(book.ask_levels()) <= 10 and len(book.bid_levels()) <= 10


def test_repeated_levels_in_one_message_apply_in_order() -> None:
    msg = json.loads(
        (MESSAGES / "ws_book_update_repeated_levels__real_roq_btcusdt.json").read_text()
    )
    bids = _levels(msg["data"][0]["bids"])
    book = _book()
    book.apply_snapshot([("89700.0", "1.00000000")], [("89800.0", "1.00000000")])
    book.apply_update(bids, [])
    # The frame ends by deleting 89773.7 and (re)setting 89723.4: order decides the result.
    assert bids[-2:] == [("89773.7", "0.0"), ("89723.4", "0.0132")]
    assert book.best_bid() == Decimal("89723.4")
    book.apply_update(bids[:-2], [])
    assert book.best_bid() == Decimal("89773.7")


def test_qty_zero_deletes_and_unknown_delete_is_ignored() -> None:
    book = _book()
    book.apply_snapshot([("10.0", "1.0"), ("9.0", "2.0")], [("11.0", "1.0")])
    book.apply_update([("10.0", "0.00000000"), ("8.5", "0.0")], [])
    assert book.bid_levels() == [("9.0", "2.0")]


def test_truncation_to_depth_drops_worst_levels() -> None:
    book = _book(depth=3)
    book.apply_snapshot(
        [(f"{p}.0", "1.0") for p in (10, 9, 8)], [(f"{p}.0", "1.0") for p in (11, 12, 13)]
    )
    book.apply_update([("10.5", "1.0")], [("10.8", "1.0")])
    assert [p for p, _ in book.bid_levels()] == ["10.5", "10.0", "9.0"]
    assert [p for p, _ in book.ask_levels()] == ["10.8", "11.0", "12.0"]


def test_top_view_is_decimal_and_best_first() -> None:
    book = _book()
    book.apply_snapshot([("9.0", "2.0"), ("10.0", "1.5")], [("12.0", "1.0"), ("11.0", "3.0")], 7)
    top = book.top(1, verified=True, recv_ns=5)
    assert top.bids[0].price == Decimal("10.0") and top.bids[0].qty == Decimal("1.5")
    assert top.asks[0].price == Decimal("11.0")
    assert top.mid == Decimal("10.5") and top.verified and top.exchange_ns == 7


@pytest.mark.parametrize("bad", [("abc", "1.0"), ("10.0", "-1.0"), ("0", "1.0"), ("NaN", "1")])
def test_bad_levels_raise_book_error(bad: tuple[str, str]) -> None:
    book = _book()
    with pytest.raises(BookError):
        book.apply_update([bad], [])


def test_too_many_decimals_is_an_error_not_rounding() -> None:
    book = _book(price_decimals=1, qty_decimals=8)
    with pytest.raises(BookError):
        book.apply_update([("10.05", "1.0")], [])
