"""Row value encoding: Decimal <-> TEXT, nanoseconds <-> UTC ISO-8601, payloads <-> JSON.

Owns: the exact, lossless conversions between Python values and SQLite cells. Imports: stdlib
and errors only. Decimals are written in fixed-point notation (never `1E+1`) and read back with
`Decimal(text)`, never through float; JSON numbers read back as Decimal too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum

from krakenbot.errors import InvariantError

_NS_PER_S = 1_000_000_000


def dec_to_text(value: Decimal) -> str:
    if not value.is_finite():
        raise InvariantError(f"refusing to store a non-finite amount: {value}")
    return format(value, "f")


def opt_dec_to_text(value: Decimal | None) -> str | None:
    return None if value is None else dec_to_text(value)


def text_to_dec(text: object) -> Decimal:
    if not isinstance(text, str):
        raise InvariantError(f"expected a decimal as TEXT in the ledger, found {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation:
        raise InvariantError(f"ledger holds an unreadable decimal {text!r}") from None


def opt_text_to_dec(text: object) -> Decimal | None:
    return None if text is None else text_to_dec(text)


_DAY_S = 86_400
_last_day: tuple[int, str] = (0, "1970-01-01")  # the last day formatted (rows come in runs)


def ns_to_iso(ns: int) -> str:
    """UTC ISO-8601 with microseconds and a `Z`, e.g. `2026-01-01T12:00:00.123456Z`. The
    date part is worked out once per day (strftime is most of the cost, and a ledger writes
    many rows a day), the time of day by arithmetic: the same text as strftime gives."""
    global _last_day  # noqa: PLW0603 - a one-entry cache; a tuple is swapped in whole
    seconds, rest = divmod(ns, _NS_PER_S)
    day, second = divmod(seconds, _DAY_S)
    known = _last_day
    if known[0] == day:
        date = known[1]
    else:
        date = datetime.fromtimestamp(day * _DAY_S, UTC).strftime("%Y-%m-%d")
        _last_day = (day, date)
    hour, second = divmod(second, 3600)
    minute, second = divmod(second, 60)
    return f"{date}T{hour:02d}:{minute:02d}:{second:02d}.{rest // 1000:06d}Z"


def iso_to_ns(text: str) -> int:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    whole = int(stamp.replace(microsecond=0).timestamp())
    return whole * _NS_PER_S + stamp.microsecond * 1000


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return dec_to_text(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def to_json(payload: Mapping[str, object]) -> str:
    """Compact, key-sorted JSON; Decimals as strings (exact), Enums as their values."""
    return json.dumps(dict(payload), default=_default, sort_keys=True, separators=(",", ":"))


def from_json(text: str) -> dict[str, object]:
    value = json.loads(text, parse_float=Decimal)
    if not isinstance(value, dict):
        raise InvariantError(f"ledger JSON is not an object: {text[:80]!r}")
    return value
