"""FIFO accounting identity: realized + unrealized = cash flow + position × mark, always."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.domain.enums import Liquidity, Side
from krakenbot.domain.events import Fill
from krakenbot.domain.portfolio import Portfolio

fills = st.lists(
    st.tuples(
        st.sampled_from(Side),
        st.integers(1, 500),  # qty in lots of 0.1
        st.integers(1, 2000),  # price in 0.001
        st.integers(0, 40),  # fee in basis points of cost
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(fills, st.integers(1, 2000))
def test_pnl_identity(sequence: list[tuple[Side, int, int, int]], mark_ticks: int) -> None:
    p = Portfolio()
    cash = D(0)
    for n, (side, q, px, bps) in enumerate(sequence):
        qty, price = D(q) / 10, D(px) / 1000
        fee = (qty * price * bps / 10000).quantize(D("0.00001"))
        p.apply_fill(
            Fill(
                f"T{n}",
                "O",
                None,
                "XLM/USD",
                side,
                price,
                qty,
                qty * price,
                fee,
                "USD",
                Liquidity.TAKER,
                n,
            )
        )
        cash += (qty * price if side is Side.SELL else -qty * price) - fee
    mark = D(mark_ticks) / 1000
    position = p.position("XLM/USD")
    total = p.realized_total + p.unrealized("XLM/USD", mark)
    assert abs(total - (cash + position * mark)) < D("1e-15")
    assert p.fees_total >= 0
    if position == 0:
        assert abs(p.realized_total - cash) < D("1e-15")
