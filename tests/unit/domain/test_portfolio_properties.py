"""Average-cost accounting identities, for any fills with fees in quote or base:

* realized + unrealized = quote cash flow + position × mark, always;
* the position is the base the account received and gave (base fees included);
* round trips run from flat to flat: only the last one may be open (holding the whole
  position), and their realized PnL sums to the total.
"""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.domain.enums import Liquidity, Side
from krakenbot.domain.events import Fill
from krakenbot.domain.portfolio import Portfolio

TINY = D("1e-15")

fills = st.lists(
    st.tuples(
        st.sampled_from(Side),
        st.integers(1, 500),  # qty in lots of 0.1
        st.integers(1, 2000),  # price in 0.001
        st.integers(0, 40),  # fee in basis points
        st.sampled_from(["USD", "XLM"]),  # fciq / fcib
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(fills, st.integers(1, 2000))
def test_pnl_identity(sequence: list[tuple[Side, int, int, int, str]], mark_ticks: int) -> None:
    p = Portfolio()
    cash = base = D(0)
    for n, (side, q, px, bps, fee_asset) in enumerate(sequence):
        qty, price = D(q) / 10, D(px) / 1000
        sign = 1 if side is Side.BUY else -1
        in_base = fee_asset == "XLM"
        fee = ((qty if in_base else qty * price) * bps / 10000).quantize(D("0.00001"))
        fill = Fill(
            f"T{n}", "O", None, "XLM/USD", side, price, qty, qty * price, fee, fee_asset,
            Liquidity.TAKER, n,
        )  # fmt: skip
        p.apply_fill(fill)
        cash -= sign * qty * price + (0 if in_base else fee)
        base += sign * qty - (fee if in_base else 0)
    mark = D(mark_ticks) / 1000
    position = p.position("XLM/USD")
    assert position == base
    total = p.realized_total + p.unrealized("XLM/USD", mark)
    assert abs(total - (cash + position * mark)) < TINY
    assert p.fees_total >= 0
    if position == 0:
        assert abs(p.realized_total - cash) < TINY
    trips = p.round_trips()
    assert all(t.closed_ns is not None for t in trips[:-1])
    for trip in trips:
        assert trip.volume > 0
        if trip.closed_ns is not None:
            assert trip.open_volume == 0 and trip.exit_price is not None
    if trips and trips[-1].closed_ns is None:
        assert trips[-1].open_volume == abs(position) and position != 0
    else:
        assert position == 0
    assert abs(sum((t.realized for t in trips), D(0)) - p.realized_total) < TINY
    assert p.closed_count == sum(t.closed_ns is not None for t in trips)
