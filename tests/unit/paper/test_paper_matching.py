"""Paper matching: taker walks, maker crosses, post-only check, fees."""

from __future__ import annotations

from decimal import Decimal as D

from tests.instruments import XLM

from krakenbot.domain.enums import Side
from krakenbot.domain.events import BookTop, PriceLevel
from krakenbot.paper.matching import crossed, fee_of, take, would_cross

BOOK = BookTop(
    "XLM/USD",
    (PriceLevel(D("0.289"), D("10")), PriceLevel(D("0.288"), D("20"))),
    (PriceLevel(D("0.291"), D("10")), PriceLevel(D("0.292"), D("20"))),
    True,
    1,
    1,
)


def test_taker_walks_the_opposite_side_up_to_its_limit() -> None:
    assert take(BOOK, Side.BUY, D("25"), D("0.292")) == [
        (D("0.291"), D("10")),
        (D("0.292"), D("15")),
    ]
    assert take(BOOK, Side.BUY, D("25"), D("0.291")) == [(D("0.291"), D("10"))]
    assert take(BOOK, Side.SELL, D("5"), D("0.290")) == []
    assert take(BOOK, Side.SELL, D("40"), None) == [(D("0.289"), D("10")), (D("0.288"), D("20"))]


def test_resting_orders_fill_when_the_market_reaches_them() -> None:
    assert crossed(BOOK, Side.BUY, D("0.291"), D("30")) == D("10")
    assert crossed(BOOK, Side.BUY, D("0.295"), D("15")) == D("15")
    assert crossed(BOOK, Side.BUY, D("0.290"), D("30")) == 0
    assert crossed(BOOK, Side.SELL, D("0.2885"), D("30")) == D("10")


def test_post_only_crossing() -> None:
    assert would_cross(BOOK, Side.BUY, D("0.291"))
    assert not would_cross(BOOK, Side.BUY, D("0.290"))
    assert would_cross(BOOK, Side.SELL, D("0.289"))
    empty = BookTop("XLM/USD", (), (), True, 1, 1)
    assert not would_cross(empty, Side.BUY, D("1"))


def test_fees_are_kraken_maker_and_taker_percentages_in_quote() -> None:
    assert fee_of(XLM, D("10"), maker=True) == D("0.02500000")
    assert fee_of(XLM, D("10"), maker=False) == D("0.04000000")
