import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenbot.kraken.nonce import UINT64_MAX, NonceSource, next_nonce


def test_clock_stepping_back_never_lowers_the_nonce() -> None:
    src = NonceSource()
    a = src.issue(2_000_000_000_000_000_000)
    b = src.issue(1_000_000_000_000_000_000)  # wall clock set back by years
    assert b == a + 1


@given(st.lists(st.integers(min_value=0, max_value=2**62), min_size=1, max_size=200))
def test_nonces_strictly_increase_for_any_clock(clock_readings: list[int]) -> None:
    src = NonceSource()
    issued = [src.issue(t) for t in clock_readings]
    assert all(b > a for a, b in itertools.pairwise(issued))
    assert all(n >= t for n, t in zip(issued, clock_readings, strict=True))


def test_overflow_is_refused() -> None:
    with pytest.raises(OverflowError):
        next_nonce(0, UINT64_MAX)
