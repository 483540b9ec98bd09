"""OrderBook invariants under arbitrary snapshot + update sequences (hypothesis)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.domain.book import OrderBook
from krakenbot.kraken.checksum import book_checksum, checksum_of_fragments, number_fragment

# Prices on a 0.1 grid with 1 decimal, quantities with 8 decimals (0 deletes).
price = st.integers(min_value=1, max_value=400).map(lambda n: f"{Decimal(n) / 10:.1f}")
qty = st.one_of(
    st.just("0.00000000"),
    st.integers(min_value=1, max_value=10**9).map(lambda n: f"{Decimal(n) / 10**8:.8f}"),
)
level = st.tuples(price, qty)
side = st.lists(level, max_size=25)
message = st.tuples(side, side)


def _naive_apply(book: dict[str, str], levels: list[tuple[str, str]]) -> None:
    for p, q in levels:
        if Decimal(q) == 0:
            book.pop(p, None)
        else:
            book[p] = q


@settings(max_examples=70, deadline=None)
@given(
    depth=st.sampled_from([1, 3, 10, 25]),
    snapshot=message,
    updates=st.lists(message, max_size=15),
)
def test_book_matches_a_naive_model(
    depth: int,
    snapshot: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    updates: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]],
) -> None:
    book = OrderBook("X/Y", depth, fragment=number_fragment)
    bids: dict[str, str] = {}
    asks: dict[str, str] = {}
    for i, (b, a) in enumerate([snapshot, *updates]):
        if i == 0:
            book.apply_snapshot(b, a)
        else:
            book.apply_update(b, a)
        _naive_apply(bids, b)
        _naive_apply(asks, a)
        # Truncate the model to depth, as Kraken expects after every message.
        kept_bids = sorted(bids, key=Decimal, reverse=True)[:depth]
        kept_asks = sorted(asks, key=Decimal)[:depth]
        bids = {p: bids[p] for p in kept_bids}
        asks = {p: asks[p] for p in kept_asks}

        got_bids = book.bid_levels()
        got_asks = book.ask_levels()
        assert got_bids == [(p, bids[p]) for p in kept_bids]
        assert got_asks == [(p, asks[p]) for p in kept_asks]
        # Sorted, no zero levels, depth respected.
        assert all(Decimal(q) > 0 for _, q in got_bids + got_asks)
        assert len(got_bids) <= depth and len(got_asks) <= depth
        assert [Decimal(p) for p, _ in got_bids] == sorted(
            (Decimal(p) for p, _ in got_bids), reverse=True
        )
        assert [Decimal(p) for p, _ in got_asks] == sorted(Decimal(p) for p, _ in got_asks)
        # The incremental checksum equals a from-scratch one over the naive top 10.
        naive = book_checksum(
            [(p, asks[p]) for p in kept_asks[:10]], [(p, bids[p]) for p in kept_bids[:10]]
        )
        assert checksum_of_fragments(book.ask_fragments(10), book.bid_fragments(10)) == naive
        # The engine's view (kept per side until that side changes, each level's PriceLevel
        # kept until that level changes) is the model's top N, digit for digit (str: the
        # Decimal's exponent too), asked for at two depths in turn so a kept view of another
        # depth is never reused.
        for n in (depth, 5, depth):
            top = book.top(n, verified=True)
            assert [(str(lv.price), str(lv.qty)) for lv in top.bids] == [
                (str(Decimal(p)), str(Decimal(bids[p]))) for p in kept_bids[:n]
            ]
            assert [(str(lv.price), str(lv.qty)) for lv in top.asks] == [
                (str(Decimal(p)), str(Decimal(asks[p]))) for p in kept_asks[:n]
            ]


@settings(max_examples=50, deadline=None)
@given(levels=st.lists(level, min_size=1, max_size=30))
def test_top_view_is_best_first_decimals(levels: list[tuple[str, str]]) -> None:
    book = OrderBook("X/Y", 10)
    book.apply_snapshot(levels, [])
    top = book.top(5, verified=True)
    prices = [lv.price for lv in top.bids]
    assert prices == sorted(prices, reverse=True)
    assert all(lv.qty > 0 for lv in top.bids)
