from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenbot.domain.enums import Side
from krakenbot.domain.events import Fill
from krakenbot.store.positions import RoundTrip, apply_fill, quote_fee

D = Decimal
ZERO = Decimal(0)


def _fill(side: Side, qty: Decimal, price: Decimal, fee: Decimal = ZERO) -> Fill:
    return Fill("T", "O", None, "XLM/USD", side, price, qty, price * qty, fee, "USD", None, 0)


def _fold(fills: list[Fill]) -> list[RoundTrip]:
    trips: list[RoundTrip] = []
    current: RoundTrip | None = None
    for i, fill in enumerate(fills):
        updated, opened = apply_fill(current, fill, None, i + 1)
        if updated is not None:
            trips[-1] = updated
            current = updated if updated.closed_ns is None else None
        if opened is not None:
            trips.append(opened)
            current = opened
    return trips


def test_fill_that_overshoots_closes_and_flips() -> None:
    trips = _fold([_fill(Side.BUY, D(10), D(1), D("0.1")), _fill(Side.SELL, D(15), D(2), D("0.3"))])
    first, second = trips
    assert first.closed_ns == 2 and first.open_volume == 0
    assert first.profit_loss == D(10) - D("0.1") - D("0.2")  # closing share of the fee: 10/15
    assert second.side is Side.SELL and second.open_volume == D(5) and second.closed_ns is None
    assert second.fees == D("0.1") and second.entry_price == D(2)


def test_short_round_trip_gains_when_price_falls() -> None:
    (trip,) = _fold([_fill(Side.SELL, D(4), D(3)), _fill(Side.BUY, D(4), D(2))])
    assert trip.profit_loss == D(4) and trip.closed_ns == 2


def test_quote_fee_recognises_kraken_asset_codes() -> None:
    fill = _fill(Side.BUY, D(1), D(1), D("0.2"))
    assert quote_fee(fill) == D("0.2")
    other = Fill("T", "O", None, "XLM/USD", Side.BUY, D(1), D(1), D(1), D(1), "XLM", None, 0)
    assert quote_fee(other) == 0


sides = st.sampled_from([Side.BUY, Side.SELL])
qtys = st.decimals(min_value=D("0.1"), max_value=D(50), places=1)
prices = st.decimals(min_value=D("0.01"), max_value=D(5), places=2)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(sides, qtys, prices), min_size=1, max_size=25))
def test_open_volume_always_equals_the_net_position(raw: list[tuple[Side, D, D]]) -> None:
    fills = [_fill(side, qty, price) for side, qty, price in raw]
    trips = _fold(fills)
    net = sum((f.qty if f.side is Side.BUY else -f.qty for f in fills), D(0))
    open_trips = [t for t in trips if t.closed_ns is None]
    assert len(open_trips) <= 1
    assert all(t.open_volume == 0 for t in trips if t.closed_ns is not None)
    signed_open = sum(
        (t.open_volume if t.side is Side.BUY else -t.open_volume for t in open_trips), D(0)
    )
    assert signed_open == net
    # Fee-free realized P&L of closed trips equals cash flow once flat.
    if net == 0:
        cash = sum((f.price * f.qty * (-1 if f.side is Side.BUY else 1) for f in fills), D(0))
        realized = sum((t.profit_loss for t in trips), D(0))
        assert abs(realized - cash) < D("1e-18")
