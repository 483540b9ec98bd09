from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenbot.domain.enums import Side
from krakenbot.errors import InvariantError
from krakenbot.store.codec import (
    dec_to_text,
    from_json,
    iso_to_ns,
    ns_to_iso,
    opt_text_to_dec,
    text_to_dec,
    to_json,
)


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_text_round_trip_is_exact(value: Decimal) -> None:
    text = dec_to_text(value)
    assert "E" not in text.upper()
    assert text_to_dec(text) == value


@given(st.integers(min_value=0, max_value=4_000_000_000_000_000_000))
def test_time_round_trip_to_the_microsecond(ns: int) -> None:
    text = ns_to_iso(ns)
    assert text.endswith("Z")
    assert iso_to_ns(text) == ns - ns % 1000


def _strftime_iso(ns: int) -> str:
    """The text as strftime writes it (what ns_to_iso wrote before it cached the date)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@given(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=-3 * 86_400 * 10**9, max_value=3 * 86_400 * 10**9),
)
def test_time_text_is_strftimes_whatever_came_before(first: int, step: int) -> None:
    """The cached day never leaks into another day's text: two stamps in a row, the second
    near the first (the same day, or across midnight either way), both as strftime."""
    second = min(max(first + step, -(2**63)), 2**63 - 1)
    assert ns_to_iso(first) == _strftime_iso(first)
    assert ns_to_iso(second) == _strftime_iso(second)


def test_iso_examples() -> None:
    assert ns_to_iso(1_767_225_600_123_456_789) == "2026-01-01T00:00:00.123456Z"
    assert iso_to_ns("2026-01-01T00:00:00") == 1_767_225_600_000_000_000
    assert iso_to_ns("2026-01-01T01:00:00+01:00") == 1_767_225_600_000_000_000


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_amounts_are_refused(bad: Decimal) -> None:
    with pytest.raises(InvariantError):
        dec_to_text(bad)


@pytest.mark.parametrize("bad", [1.5, None, b"1", "one"])
def test_unreadable_cells_are_errors(bad: object) -> None:
    with pytest.raises(InvariantError):
        text_to_dec(bad)


def test_optional_decimal() -> None:
    assert opt_text_to_dec(None) is None
    assert opt_text_to_dec("1.10") == Decimal("1.10")


def test_json_payloads_keep_decimals_exact() -> None:
    text = to_json(
        {"b": Decimal("0.1"), "a": Side.SELL, "s": {"x"}, "t": (1, 2), "o": object, "f": 1.5}
    )
    doc = from_json(text)
    assert doc["b"] == "0.1" and doc["a"] == "sell" and doc["s"] == ["x"]
    assert doc["t"] == [1, 2] and isinstance(doc["o"], str)
    assert doc["f"] == Decimal("1.5")
    with pytest.raises(InvariantError):
        from_json("[1, 2]")
