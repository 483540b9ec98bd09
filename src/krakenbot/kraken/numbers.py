"""Bounded number parsing for everything Kraken sends (pure).

Owns: the size bound every number must meet before it is converted, and the converters the
JSON decoders (WebSocket and REST) and the field readers use. Imports: stdlib only.

Why: a JSON number's text may be short and still huge — `1e999999999` is eleven characters,
and printing it as a fixed-point Decimal allocates a gigabyte; `int()` of such a Decimal runs
in C code that no signal interrupts (minutes and more). Kraken prints prices, quantities,
ids and timestamps with at most ~30 significant characters (docs: websocket-v2 book/ticker,
the REST AssetPairs `*_decimals`; the longest seen are uint64 ids of 20 digits and epoch
times like `1688148493.7708`), so a number is refused unless its text has at most
`MAX_NUMBER_CHARS` characters and its decimal exponent lies within ±`MAX_EXPONENT`: then
every conversion (Decimal, fixed-point text, int, scaleb by nanoseconds) stays tiny.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MAX_NUMBER_CHARS = 50
MAX_EXPONENT = 50


class NumberBoundError(ValueError):
    """A number is longer or larger (or smaller) than anything Kraken sends."""


def _too_long(text: str) -> NumberBoundError:
    return NumberBoundError(f"number longer than {MAX_NUMBER_CHARS} characters: {text[:20]!r}…")


def check_decimal(value: Decimal) -> Decimal:
    """`value` if finite and its exponent within bounds, else NumberBoundError."""
    if not value.is_finite():
        raise NumberBoundError(f"not a finite number: {value!r}")
    # adjusted(): the exponent of the leading digit (for zero, the exponent itself: `0E-999`
    # prints as a thousand zeros). The plain exponent bounds the digits after the point.
    exponent = value.as_tuple().exponent
    if not (
        -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT
        and isinstance(exponent, int)
        and exponent >= -2 * MAX_EXPONENT
    ):
        raise NumberBoundError(f"number out of range: exponent {value.adjusted()}")
    return value


def bounded_decimal(text: str) -> Decimal:
    """A JSON number's (or quoted number's) text -> exact Decimal, bounded; a JSON decoder's
    `parse_float`. Raises NumberBoundError (a ValueError) for anything else."""
    if len(text) > MAX_NUMBER_CHARS:
        raise _too_long(text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise NumberBoundError(f"not a number: {text!r}") from None
    if "e" in text or "E" in text or not value.is_finite():
        return check_decimal(value)
    # Plain digits: at most MAX_NUMBER_CHARS of them on either side of the point, so the
    # exponents are within bounds already (the common case: every price and quantity).
    return value


def bounded_number_text(text: str) -> str:
    """`parse_float` that keeps the exact text (book levels, for the checksum), bounded."""
    if len(text) > MAX_NUMBER_CHARS:
        raise _too_long(text)
    if "e" in text or "E" in text:
        bounded_decimal(text)  # only an exponent can make short text huge
    return text


def bounded_int(text: str) -> int:
    """A JSON integer's text -> int; a JSON decoder's `parse_int`."""
    if len(text) > MAX_NUMBER_CHARS:
        raise _too_long(text)
    return int(text)
