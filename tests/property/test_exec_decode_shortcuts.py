"""Shortcuts on the executions decode path give what the long way gives: a plain-digit number
skips the exponent check (its length bounds it already), and a report naming no order terms
gets the all-None terms without reading each one."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from tests.conftest import DATA

from krakenbot.kraken.numbers import (
    MAX_NUMBER_CHARS,
    NumberBoundError,
    bounded_decimal,
    check_decimal,
)
from krakenbot.kraken.ws_order_terms import decode_terms, read_terms

MESSAGES = DATA / "ws" / "real_messages"


def _long_way(text: str) -> Decimal | str:
    """bounded_decimal as it was: length, then Decimal, then always the exponent check."""
    if len(text) > MAX_NUMBER_CHARS:
        return "refused"
    try:
        return check_decimal(Decimal(text))
    except (InvalidOperation, NumberBoundError):
        return "refused"


def _short_way(text: str) -> Decimal | str:
    try:
        return bounded_decimal(text)
    except NumberBoundError:
        return "refused"


_digits = st.text("0123456789", min_size=1, max_size=60)
_number_text = st.one_of(
    st.builds(lambda a, b: f"{a}.{b}", _digits, _digits),
    st.builds(lambda s, a, b: f"{s}{a}.{b}", st.sampled_from(["-", "+", ""]), _digits, _digits),
    st.builds(lambda a, e: f"{a}e{e}", _digits, st.integers(-200, 200)),
    st.builds(lambda a, e: f"{a}E+{e}", _digits, st.integers(0, 200)),
    st.sampled_from(["NaN", "-Infinity", "Infinity", "inf", "sNaN", "0E-999", "1e999999999"]),
    st.text("0123456789.eE+-naifINF ", max_size=12),
)


@given(_number_text)
def test_bounded_decimal_refuses_and_returns_exactly_what_the_full_check_does(text: str) -> None:
    short, long = _short_way(text), _long_way(text)
    assert short == long
    if isinstance(short, Decimal):
        assert str(short) == str(long)  # same digits and exponent, not only equal values


def _rows() -> list[dict[str, Any]]:
    rows = []
    for path in sorted(MESSAGES.glob("ws_executions*.json")):
        value = json.loads(path.read_text(), parse_float=Decimal)
        for msg in value if isinstance(value, list) else [value]:
            if isinstance(msg, dict):
                rows.extend(r for r in msg.get("data", []) if isinstance(r, dict))
    return rows


ROWS = _rows()


def test_recorded_reports_get_the_same_terms_either_way() -> None:
    assert len(ROWS) >= 10
    assert any(read_terms(r) == decode_terms(r) and not r.get("order_type") for r in ROWS)
    for row in ROWS:
        assert decode_terms(row) == read_terms(row)


_values = st.one_of(
    st.none(), st.booleans(), st.text(max_size=5), st.decimals(allow_nan=False, places=3)
)
_keys = st.sampled_from(
    ["order_id", "exec_type", "timestamp", "cum_qty", "reason", "order_type", "limit_price",
     "time_in_force", "margin", "reduce_only", "display_qty", "stop_price", "expire_time"]
)  # fmt: skip


@given(st.dictionaries(_keys, _values, max_size=6))
def test_any_row_gets_the_same_terms_or_the_same_refusal(row: dict[str, Any]) -> None:
    def outcome(read: Any) -> object:
        try:
            return read(row)
        except Exception as exc:  # the refusal's kind is what is compared
            return type(exc)

    assert outcome(decode_terms) == outcome(read_terms)
