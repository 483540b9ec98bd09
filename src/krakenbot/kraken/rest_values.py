"""Reading values out of Kraken REST bodies, and the one exception a REST parser may raise.

Owns: `CodecError`, the bounded JSON decoding of a body (`loads`), the exact number readers
(`dec`, `epoch_ns`, `decimals`) and `codec_boundary`, the wrapper that makes a public parser
raise nothing but `CodecError` (and, for the envelope, the mapped Kraken error) whatever the
body holds. Must not import: I/O, the clock, layers above `domain`.

Numbers are bounded before they are converted (`kraken.numbers`): an `opentm` of
`1e999999999` would otherwise send `int(Decimal)` into C code that no signal interrupts.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from krakenbot.errors import TransportError
from krakenbot.kraken.numbers import NumberBoundError, bounded_decimal, bounded_int, check_decimal

_P = ParamSpec("_P")
_R = TypeVar("_R")
# What a garbled body can make parsing code raise: a missing key or index, a value of the
# wrong JSON type, an unparsable or out-of-bounds number, nesting deeper than the stack.
_MALFORMED = (
    KeyError,
    IndexError,
    TypeError,
    ValueError,
    AttributeError,
    ArithmeticError,
    RecursionError,
)
# AssetPairs *_decimals: Kraken uses 0..10; more would make 10**-n steps no Decimal can hold.
MAX_DECIMALS = 30


class CodecError(TransportError):
    """A response we cannot read (not JSON, wrong shape): the request's outcome is unknown."""


def codec_boundary(what: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Wrap a public parser: any malformed-input exception becomes `CodecError` naming `what`
    (the cause chained, its text not copied: it may hold a piece of the body)."""

    def wrap(parse: Callable[_P, _R]) -> Callable[_P, _R]:
        @functools.wraps(parse)
        def parse_or_codec_error(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return parse(*args, **kwargs)
            except _MALFORMED as exc:
                raise CodecError(f"{what}: malformed response ({type(exc).__name__})") from exc

        return parse_or_codec_error

    return wrap


def dec(value: Any) -> Decimal:
    """Exact Decimal from Kraken number text or a JSON number parsed as Decimal (bounded)."""
    if isinstance(value, bool) or value is None:
        raise CodecError(f"expected a number, got {value!r}")
    try:
        if isinstance(value, Decimal):
            return check_decimal(value)
        return bounded_decimal(value if isinstance(value, str) else str(value))
    except NumberBoundError as exc:
        raise CodecError(f"not a number Kraken would send ({exc})") from None


def epoch_ns(value: Any) -> int:
    """Epoch seconds with fraction (`1688148493.7708`) → integer nanoseconds."""
    return int(dec(value).scaleb(9))


def decimals(value: Any) -> int:
    """A count of decimal places (AssetPairs `pair_decimals`, …): an integer 0..MAX_DECIMALS."""
    places = dec(value)
    if places != places.to_integral_value() or not 0 <= places <= MAX_DECIMALS:
        raise CodecError(f"not a number of decimal places: {value!r}")
    return int(places)


# One decoder for every response (json.loads with parse_float builds a new one per call).
_DECODER = json.JSONDecoder(parse_float=bounded_decimal, parse_int=bounded_int)
# Its scanner (the C one where there is one), called directly: `decode` wraps it in two
# regex matches and two Python frames, a third of the cost of a small reply. The same parse
# and the same numbers (the hooks above); only leading whitespace takes the long way.
_SCAN: Callable[[str, int], tuple[Any, int]] = vars(_DECODER)["scan_once"]
_SPACE = " \t\n\r"


def loads(raw: bytes | str) -> Any:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if not text or text[0] in _SPACE:
            return _DECODER.decode(text)
        try:
            doc, end = _SCAN(text, 0)
        except StopIteration as exc:  # what raw_decode turns into "Expecting value"
            raise json.JSONDecodeError("Expecting value", text, exc.value) from None
        if end != len(text) and text[end:].strip(_SPACE):
            raise json.JSONDecodeError("Extra data", text, end)
        return doc
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError, NumberBoundError too
        raise CodecError(f"response body is not JSON ({type(exc).__name__})") from exc
