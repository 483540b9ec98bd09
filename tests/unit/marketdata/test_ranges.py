"""Dates the user writes, and the range arithmetic that decides what a download fetches."""

from __future__ import annotations

import pytest

from krakenbot.marketdata.ranges import (
    DAY_NS,
    NS,
    WhenError,
    day_name,
    days,
    iso,
    missing,
    normalize,
    parse_when,
    subtract,
)

D = 1762732800 * NS  # 2025-11-10T00:00:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-10", D),
        ("2025-11-10T12:30", D + 45000 * NS),
        ("2025-11-10 12:30:00Z", D + 45000 * NS),
        ("2025-11-10T13:30:00+01:00", D + 45000 * NS),
        ("2025-11-10T00:00:00.5", D + NS // 2),
    ],
)
def test_parse_when_is_utc(text: str, expected: int) -> None:
    assert parse_when(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01", "", "2025-11-10T25:00", "1850-01-01"])
def test_parse_when_refuses_what_is_not_a_date(text: str) -> None:
    with pytest.raises(WhenError):
        parse_when(text)


def test_days_and_names() -> None:
    assert day_name(D + 5) == "2025-11-10" and iso(D) == "2025-11-10T00:00:00Z"
    assert days(D + 1, D + DAY_NS + 1) == [D, D + DAY_NS]
    assert days(D, D + DAY_NS) == [D]


def test_missing_is_what_coverage_lacks() -> None:
    assert normalize([(5, 9), (1, 3), (3, 4), (8, 12), (7, 7)]) == [(1, 4), (5, 12)]
    assert subtract((0, 10), [(2, 4), (6, 8)]) == [(0, 2), (4, 6), (8, 10)]
    assert subtract((0, 10), [(-5, 20)]) == []
    assert missing((0, 10), []) == [(0, 10)]
    assert missing((3, 7), [(0, 4), (6, 9)]) == [(4, 6)]
