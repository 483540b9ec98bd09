"""Scalar helpers shared by the WebSocket v2 decoders (pure).

Owns: exact number text / Decimal / int / str extraction from stdlib-decoded JSON values and
RFC3339 -> epoch-ns timestamps. Imports: stdlib and kraken.numbers. Values arrive from the
codec's JSON decoders, whose number hooks are bounded (`kraken.numbers`): a non-integer JSON
number is its exact wire text or a Decimal built from it; a quoted number is bounded here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from krakenbot.kraken.numbers import NumberBoundError, bounded_decimal


class MalformedError(ValueError):
    """A frame or field is not what Kraken documents; the decoder turns it into DecodeFailed."""


# What malformed input can raise while decoding (ArithmeticError: decimal's signals and
# OverflowError; RecursionError: JSON nested deeper than the interpreter's stack).
DECODE_ERRORS = (
    MalformedError,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    IndexError,
    ArithmeticError,
    RecursionError,
)


def num_text(value: object) -> str:
    """Exact number text of a JSON number or a quoted number.

    A JSON number reaches us as its text (parse_float=str) or as a Decimal built from that
    text (parse_float=Decimal); `format(d, "f")` reproduces the digits exactly, trailing zeros
    included (`Decimal("0.00000000")` -> "0.00000000"; `str()` would print "0E-8").
    """
    if type(value) is str:
        return value
    if type(value) is Decimal:
        return format(value, "f")
    if type(value) is int:
        return str(value)
    raise MalformedError(f"not a number: {value!r}")


def dec(value: object) -> Decimal:
    if type(value) is Decimal:
        return value  # from the codec's bounded JSON decoder: finite, bounded
    if type(value) is str:
        try:
            return bounded_decimal(value)  # a quoted number: bounded like a bare one
        except NumberBoundError as exc:
            raise MalformedError(str(exc)) from None
    if type(value) is int:
        return Decimal(value)  # from the bounded JSON decoder: at most 50 digits
    raise MalformedError(f"not a finite number: {value!r}")


def opt_dec(value: object) -> Decimal | None:
    return None if value is None else dec(value)


def integer(value: object) -> int:
    if type(value) is int:
        return value
    raise MalformedError(f"not an integer: {value!r}")


def opt_int(value: object) -> int | None:
    return None if value is None else integer(value)


def string(value: object) -> str:
    if type(value) is str:
        return value
    raise MalformedError(f"not a string: {value!r}")


def opt_str(value: object) -> str | None:
    return None if value is None else string(value)


def opt_bool(value: object) -> bool | None:
    if value is None or type(value) is bool:
        return value
    raise MalformedError(f"not a boolean: {value!r}")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECONDS_CACHE: dict[str, int] = {}


def parse_timestamp_ns(text: object) -> int:
    """RFC3339 UTC (`2023-09-22T10:33:05.709950Z`, up to 9 fraction digits) -> epoch ns.

    Tolerates a missing `Z` (a docs example omits it, API.md 7.2); other offsets are rejected.
    The whole-second prefix is cached because consecutive frames share it.
    """
    if type(text) is not str or len(text) < 19 or text[10] != "T":
        raise MalformedError(f"bad timestamp {text!r}")
    base = text[:19]
    seconds = _SECONDS_CACHE.get(base)
    # Fast path for the usual `.ffffffZ` form with a cached second.
    if seconds is not None and len(text) == 27 and text[19] == "." and text[26] == "Z":
        micros = text[20:26]
        if micros.isdigit() and micros.isascii():
            return seconds * 1_000_000_000 + int(micros) * 1000
    rest = text[19:]
    if rest.endswith("Z"):
        rest = rest[:-1]
    frac = 0
    if rest:
        digits = rest[1:]
        if rest[0] != "." or not digits.isdigit() or not digits.isascii() or len(digits) > 9:
            raise MalformedError(f"bad timestamp {text!r}")
        frac = int(digits.ljust(9, "0"))
    if seconds is None:
        parsed = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        seconds = int((parsed - _EPOCH).total_seconds())
        if len(_SECONDS_CACHE) >= 4096:
            _SECONDS_CACHE.clear()
        _SECONDS_CACHE[base] = seconds
    return seconds * 1_000_000_000 + frac


def epoch_seconds(base: str) -> int:
    """`YYYY-MM-DDTHH:MM:SS` (UTC) -> epoch seconds, cached (frames share their second)."""
    seconds = _SECONDS_CACHE.get(base)
    if seconds is None:
        parsed = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
        seconds = int((parsed - _EPOCH).total_seconds())
        if len(_SECONDS_CACHE) >= 4096:
            _SECONDS_CACHE.clear()
        _SECONDS_CACHE[base] = seconds
    return seconds


def opt_ts(value: object) -> int:
    return 0 if value is None else parse_timestamp_ns(value)
