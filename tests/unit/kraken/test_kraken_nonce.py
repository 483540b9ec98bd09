import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenbot.kraken.nonce import UINT64_MAX, next_nonce


def _issue_all(clock_readings: list[int], high_water: int = 0) -> list[int]:
    """Nonces issued one after another, each call given the last one as the high-water mark
    (what net/nonce_store.py persists between calls)."""
    issued: list[int] = []
    for now_ns in clock_readings:
        high_water = next_nonce(now_ns, high_water)
        issued.append(high_water)
    return issued


def test_clock_stepping_back_never_lowers_the_nonce() -> None:
    a, b = _issue_all([2_000_000_000_000_000_000, 1_000_000_000_000_000_000])  # set back
    assert b == a + 1


@given(st.lists(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=200))
def test_nonces_strictly_increase_for_any_clock(clock_readings: list[int]) -> None:
    issued = _issue_all(clock_readings)
    assert all(b > a for a, b in itertools.pairwise(issued))
    assert all(n >= t for n, t in zip(issued, clock_readings, strict=True))


def test_overflow_is_refused() -> None:
    with pytest.raises(OverflowError):
        next_nonce(0, UINT64_MAX)
