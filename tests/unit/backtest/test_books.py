from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenbot.backtest import books
from krakenbot.backtest.books import candle_book, plain
from krakenbot.domain.events import BookTop, PriceLevel

prices = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10**6), places=6)


@given(prices, prices, prices, st.integers(min_value=0, max_value=2**62))
def test_a_candle_book_is_what_the_constructors_make(
    bid: Decimal, ask: Decimal, qty: Decimal, t: int
) -> None:
    made = candle_book("XLM/USD", bid, ask, qty, t)
    want = BookTop("XLM/USD", (PriceLevel(bid, qty),), (PriceLevel(ask, qty),), True, t, t)
    assert type(made) is BookTop and type(made.bids[0]) is PriceLevel
    assert made == want and hash(made) == hash(want) and repr(made) == repr(want)
    assert made.bids[0].price is bid and made.asks[0].qty is qty  # the same objects
    assert dataclasses.astuple(made) == dataclasses.astuple(want)


def test_a_candle_book_stays_frozen() -> None:
    made = candle_book("XLM/USD", Decimal("0.29"), Decimal("0.30"), Decimal(5), 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.recv_ns = 8  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.bids[0].price = Decimal(1)  # type: ignore[misc]


def test_the_fast_build_is_used_only_for_plain_classes() -> None:
    """A field more, a `__post_init__`, a default factory: the constructors are called."""
    assert candle_book is not books._plain_book  # today's classes are plain
    assert plain(BookTop, ("symbol", "bids", "asks", "verified", "exchange_ns", "recv_ns"))
    assert not plain(BookTop, ("symbol", "bids", "asks", "verified", "exchange_ns"))

    @dataclass(frozen=True, slots=True)
    class Checked:
        price: Decimal
        qty: Decimal

        def __post_init__(self) -> None:
            if self.qty < 0:
                raise ValueError("negative")

    @dataclass(frozen=True, slots=True)
    class Defaulted:
        price: Decimal
        qty: list[Decimal] = dataclasses.field(default_factory=list)

    @dataclass(frozen=True)
    class Unslotted:
        price: Decimal
        qty: Decimal

    names = ("price", "qty")
    assert plain(PriceLevel, names)
    assert not plain(Checked, names)
    assert not plain(Defaulted, names)
    assert not plain(Unslotted, names)
    assert not plain(int, names)
